package io.qevm;

import static io.qevm.StreamBuilder.filled;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reader over streams built byte by byte from FORMAT.md ({@link StreamBuilder}): each test
 * asserts the exact sequence of events and the accessors' values. Events are compared as one-line
 * traces ({@link #describe}), so a failure shows the whole sequence.
 */
final class MigrationReaderTest {

    private static final int PAGE = 4096;
    private static final HexFormat HEX = HexFormat.of();

    // ------------------------------------------------------------------ helpers

    static MigrationReader reader(byte[] bytes) {
        return MigrationReader.open(bytes, ReadOptions.DEFAULT);
    }

    /** Every event up to and including the first EOF, as {@link #describe} lines. */
    static List<String> trace(byte[] bytes) {
        try (MigrationReader reader = reader(bytes)) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 100_000; i++) {
                reader.next();
                lines.add(describe(reader));
                if (reader.currentEvent() == MigrationEvent.EOF) {
                    return lines;
                }
            }
            throw new AssertionError("no EOF after 100000 events: " + lines.subList(0, 20));
        }
    }

    /** One line for the current event, through its accessors. */
    static String describe(MigrationReader r) {
        MigrationEvent e = r.currentEvent();
        return switch (e) {
            case SECTION_START -> "SECTION_START " + r.recordType() + " " + r.sectionName() + " #" + r.sectionId();
            case SECTION_END -> "SECTION_END";
            case FOOTER -> "FOOTER #" + r.sectionId();
            case CONFIGURATION -> "CONFIGURATION " + r.machineName() + " caps=" + r.capabilities()
                    + " bits=" + r.targetPageBits();
            case COMMAND -> "COMMAND " + r.commandType() + " " + hex(r.commandPayload());
            case RAM_BLOCK -> "RAM_BLOCK " + r.blockName() + " 0x" + Long.toHexString(r.blockLength());
            case RAM_PAGE -> "RAM_PAGE " + r.blockName() + "@0x" + Long.toHexString(r.pageOffset()) + " "
                    + r.pageEncoding();
            case ZERO_PAGE -> "ZERO_PAGE " + r.blockName() + "@0x" + Long.toHexString(r.pageOffset())
                    + " fill=0x" + Integer.toHexString(r.fillByte());
            case FIELD -> "FIELD " + indexed(r) + " " + r.fieldKind() + " " + value(r);
            case STRUCT_START -> "STRUCT_START " + indexed(r);
            case STRUCT_END -> "STRUCT_END";
            case SUBSECTION -> "SUBSECTION " + r.subsectionName() + " v" + r.subsectionVersion();
            case SUBSECTION_END -> "SUBSECTION_END";
            case EOF -> "EOF";
        };
    }

    private static String indexed(MigrationReader r) {
        return r.fieldName() + (r.fieldIndex() >= 0 ? "[" + r.fieldIndex() + "]" : "");
    }

    private static String value(MigrationReader r) {
        return switch (r.fieldKind()) {
            case SIGNED, UNSIGNED -> r.fieldBigIntegerValue().toString();
            case BOOL -> Boolean.toString(r.fieldBooleanValue());
            case CAPABILITY -> r.fieldStringValue();
            default -> hex(r.fieldBytes());
        };
    }

    static String hex(MemorySegment bytes) {
        return HEX.formatHex(bytes.toArray(ValueLayout.JAVA_BYTE));
    }

    static byte[] bytes(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Moves to the next event, asserting which it is. */
    static MigrationReader expect(MigrationReader reader, MigrationEvent wanted) {
        assertEquals(wanted, reader.next());
        return reader;
    }

    static String desc(String... devices) {
        return Json.description(PAGE, devices);
    }

    /** A RAM section START with the given block list (name, length pairs) and EOS, then its footer. */
    static StreamBuilder ramSetup(StreamBuilder b, long id, Object... blocks) {
        long total = 0;
        for (int i = 1; i < blocks.length; i += 2) {
            total += (Long) blocks[i];
        }
        b.sectionStart(id, "ram", 0, 4).memSize(total);
        for (int i = 0; i < blocks.length; i += 2) {
            b.block((String) blocks[i], (Long) blocks[i + 1]);
        }
        return b.eos().footer(id);
    }

    /**
     * One FULL section of device {@code dev} (section id 3, version 1) described by
     * {@code fields} and {@code subsections}; returns the events inside the section, after
     * checking the frame around them.
     */
    static List<String> deviceTrace(String[] fields, String[] subsections, Consumer<StreamBuilder> body) {
        StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
        body.accept(b);
        byte[] bytes = b.footer(3).eof()
                .description(desc(Json.deviceWithSubsections("dev", 0, 1, fields, subsections))).toByteArray();
        List<String> all = trace(bytes);
        assertEquals("SECTION_START FULL dev #3", all.get(0), all.toString());
        assertEquals(List.of("SECTION_END", "FOOTER #3", "EOF"), all.subList(all.size() - 3, all.size()),
                all.toString());
        return all.subList(1, all.size() - 3);
    }

    static String[] fields(String... fields) {
        return fields;
    }

    static final String[] NONE = {};

    // ================================================================== container

    @Nested
    final class Container {

        @Test
        void minimalStreamIsEofRepeated() throws Exception {
            StreamBuilder b = stream();
            long eofAt = b.position();
            String json = desc();
            byte[] bytes = b.eof().description(json).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                assertEquals(null, reader.currentEvent());
                assertEquals(0, reader.streamStart());
                assertTrue(reader.hasDescription());
                assertEquals(eofAt + 1 + 5, reader.descriptionJsonOffset());
                assertEquals(json, new String(bytes(reader.descriptionJson()), StandardCharsets.UTF_8));
                assertEquals(PAGE, reader.ramPageSize());
                expect(reader, MigrationEvent.EOF);
                assertEquals(eofAt, reader.eventOffset());
                assertEquals(eofAt + 1, reader.position());
                expect(reader, MigrationEvent.EOF);
                expect(reader, MigrationEvent.EOF);
                assertEquals(MigrationEvent.EOF, reader.currentEvent());
            }
        }

        @Test
        void withoutDescriptionWhenNotRequired() throws Exception {
            byte[] bytes = stream().configuration("virt").targetPageBits(12).eof().toByteArray();
            try (MigrationReader reader = MigrationReader.open(bytes, ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build())) {
                assertFalse(reader.hasDescription());
                assertEquals(-1, reader.descriptionJsonOffset());
                assertEquals(-1, reader.ramPageSize());
                assertThrows(IllegalStateException.class, reader::descriptionJson);
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(12, reader.targetPageBits());
                assertEquals(PAGE, reader.ramPageSize(), "page size from target-page-bits");
                expect(reader, MigrationEvent.EOF);
            }
        }

        @Test
        void libvirtWrappedStream() throws Exception {
            String xml = "<qemu><domain type='kvm'><name>vm</name></domain></qemu>\n\0\0\0"; // odd length
            StreamBuilder b = StreamBuilder.libvirt(xml);
            long qemuStart = StreamBuilder.LIBVIRT_HEADER_BYTES + xml.length();
            assertEquals(qemuStart + 8, b.position());
            long sectionAt = b.position();
            b.sectionFull(2, "timer", 0, 2).u64(0x1122334455667788L).footer(2);
            long eofAt = b.position();
            byte[] bytes = b.eof().description(desc(Json.device("timer", 0, 2, Json.field("ticks", "int64", 8))))
                    .toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                assertEquals(qemuStart, reader.streamStart());
                expect(reader, MigrationEvent.SECTION_START);
                assertEquals(sectionAt, reader.eventOffset());
                expect(reader, MigrationEvent.FIELD);
                assertEquals(sectionAt + 1 + 4 + 6 + 4 + 4, reader.eventOffset(), "offsets count from the file start");
                assertEquals(0x1122334455667788L, reader.fieldLongValue());
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.EOF);
                assertEquals(eofAt, reader.eventOffset());
            }
        }

        @Test
        void libvirtHeaderInBigEndianOrder() throws Exception {
            byte[] xml = "<domain/>".getBytes(StandardCharsets.US_ASCII);
            byte[] bytes = StreamBuilder.empty().libvirtHeader(xml, ByteOrder.BIG_ENDIAN, 0).header()
                    .configuration("pc").eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                assertEquals(92 + xml.length, reader.streamStart());
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(92 + xml.length + 8, reader.eventOffset());
                assertEquals("pc", reader.machineName());
            }
        }

        /** libvirt format 6 (sparse) wraps a mapped-ram stream: its offsets count from the file's start. */
        @Test
        void libvirtSparseImageWithMappedRam() throws Exception {
            byte[] xml = "<domain/>\n".getBytes(StandardCharsets.US_ASCII);
            StreamBuilder b = StreamBuilder.empty().libvirtHeader(xml, ByteOrder.LITTLE_ENDIAN, 6).header()
                    .configuration("pc-q35-10.0").capabilities("mapped-ram");
            b.sectionStart(1, "ram", 0, 4).memSize(2L * PAGE).block("pc.ram", 2L * PAGE);
            long bitmap = b.position() + 28;
            b.mappedRamHeader(PAGE, bitmap, bitmap + 8).u64le(2).zeros(PAGE).bytes(pattern(PAGE, 8)).eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                assertEquals(92 + xml.length, reader.streamStart());
                expect(reader, MigrationEvent.CONFIGURATION);
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_BLOCK);
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(PAGE, reader.pageOffset());
                assertEquals(bitmap + 8 + PAGE, reader.pageSourceOffset());
                assertArrayEquals(pattern(PAGE, 8), bytes(reader.page()));
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.EOF);
            }
        }

        /** An unfinished save ('LibvirtQemudPart') is read the same way. */
        @Test
        void libvirtPartialSaveMagic() {
            byte[] bytes = StreamBuilder.libvirt("<domain/>").switchoverStart().eof().description(desc())
                    .toByteArray();
            System.arraycopy("Part".getBytes(StandardCharsets.US_ASCII), 0, bytes, 12, 4);
            assertEquals(List.of("COMMAND 11 ", "EOF"), trace(bytes));
        }

        /**
         * The description is found from the end even when its u32 length holds 0x7b ('{'),
         * which fools the reference's "last NUL, then the next '{'" search.
         */
        @ParameterizedTest
        @ValueSource(ints = {0x7b, 0x17b, 0x7b00, 0x7b7b})
        void descriptionWhoseLengthContainsBrace(int length) {
            String json = "{\"page_size\":4096,\"devices\":[{\"name\":\"timer\",\"instance_id\":0,"
                    + "\"fields\":[{\"name\":\"ticks\",\"type\":\"int64\",\"size\":8}]}]}";
            assertTrue(json.length() < length);
            json = json.substring(0, json.length() - 1) + " ".repeat(length - json.length()) + "}";
            assertEquals(length, json.length());
            byte[] bytes = stream().sectionFull(2, "timer", 0, 2).u64(-1).footer(2).eof().description(json)
                    .toByteArray();
            assertEquals(List.of("SECTION_START FULL timer #2", "FIELD ticks SIGNED -1", "SECTION_END", "FOOTER #2",
                    "EOF"), trace(bytes));
        }
    }

    // ================================================================== configuration

    @Nested
    final class Configuration {

        @Test
        void machineNameOnly() throws Exception {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.configuration("pc-i440fx-7.2").eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(at, reader.eventOffset());
                assertEquals(at + 1 + 4 + 13, reader.position());
                assertEquals("pc-i440fx-7.2", reader.machineName());
                assertEquals(List.of(), reader.capabilities());
                assertEquals(-1, reader.targetPageBits());
                expect(reader, MigrationEvent.EOF);
            }
        }

        /** QEMU 7.2 writes the subsections without describing them in the JSON (samples d, g). */
        @Test
        void undescribedSubsectionsByTheirKnownLayout() throws Exception {
            byte[] uuid = pattern(16, 0x40);
            StreamBuilder b = stream().configuration("virt-7.2").targetPageBits(12)
                    .capabilities("x-ignore-shared").uuid(uuid);
            long eofAt = b.position();
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals("virt-7.2", reader.machineName());
                assertEquals(12, reader.targetPageBits());
                assertEquals(List.of("x-ignore-shared"), reader.capabilities());
                assertEquals(eofAt, reader.position());
                expect(reader, MigrationEvent.EOF);
            }
        }

        /** QEMU 8.2+ describes the configuration in the JSON; capabilities are 'capability' fields. */
        @Test
        void describedConfigurationReadsCapabilityFields() throws Exception {
            String configuration = Json.configuration("pc-q35-8.2",
                    Json.struct("configuration/target-page-bits", 1,
                            fields(Json.field("target_page_bits", "uint32", 4))),
                    Json.struct("configuration/capabilities", 1,
                            fields(Json.field("caps_count", "uint32", 4),
                                    Json.arrayField("capabilities", "capability", 16, 2))),
                    Json.struct("configuration/uuid", 1, fields(Json.arrayField("uuid.data", "uint8", 1, 16))));
            StreamBuilder b = stream().configuration("pc-q35-8.2").targetPageBits(12)
                    .capabilities("x-ignore-shared", "validate-uuid").uuid(new byte[16]);
            long eofAt = b.position();
            byte[] bytes = b.eof().description(Json.descriptionWithConfiguration(PAGE, configuration)).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(StreamBuilder.empty().header().position(), reader.eventOffset());
                assertEquals("pc-q35-8.2", reader.machineName());
                assertEquals(List.of("x-ignore-shared", "validate-uuid"), reader.capabilities());
                assertEquals(12, reader.targetPageBits());
                assertEquals(eofAt, reader.position());
                expect(reader, MigrationEvent.EOF);
            }
        }

        @Test
        void describedCapabilitiesChangeTheRamFormat() {
            String configuration = Json.configuration("pc-q35-8.2",
                    Json.struct("configuration/capabilities", 1,
                            fields(Json.field("caps_count", "uint32", 4),
                                    Json.field("capabilities", "capability", 16))));
            StreamBuilder b = stream().configuration("pc-q35-8.2").capabilities("x-ignore-shared");
            b.sectionStart(1, "ram", 0, 4).memSize(0x8000 + 0x2000)
                    .block("pc.ram", 0x8000).mrAddr(0)
                    .block("pc.bios", 0x2000).mrAddr(0xfffc0000L)
                    .eos().footer(1);
            byte[] bytes = b.eof().description(Json.descriptionWithConfiguration(PAGE, configuration)).toByteArray();
            assertEquals(List.of("CONFIGURATION pc-q35-8.2 caps=[x-ignore-shared] bits=-1",
                    "SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x8000", "RAM_BLOCK pc.bios 0x2000",
                    "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
        }

        @Test
        void describedTargetPageBitsGiveThePageSize() throws Exception {
            String configuration = Json.configuration("virt-9.0",
                    Json.struct("configuration/target-page-bits", 1,
                            fields(Json.field("target_page_bits", "uint32", 4))));
            byte[] bytes = stream().configuration("virt-9.0").targetPageBits(16).eof()
                    .description("{\"configuration\": " + configuration + ", \"devices\": []}").toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals("virt-9.0", reader.machineName());
                assertEquals(16, reader.targetPageBits());
                assertEquals(65536, reader.ramPageSize());
            }
        }

        @Test
        void pageSizeFromTargetPageBitsWhenTheJsonHasNone() throws Exception {
            StreamBuilder b = stream().configuration("virt").targetPageBits(10);
            b.sectionStart(1, "ram", 0, 4).memSize(0x800).block("ram", 0x800).eos().footer(1);
            b.sectionEnd(1).page(0x400, "ram", filled(1024, 0x5a)).eos().footer(1);
            byte[] bytes = b.eof().description("{\"devices\": []}").toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                assertEquals(-1, reader.ramPageSize());
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(1024, reader.ramPageSize());
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_BLOCK);
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(0x400, reader.pageOffset());
                assertEquals(1024, reader.pageSize());
                assertArrayEquals(filled(1024, 0x5a), bytes(reader.page()));
            }
        }
    }

    // ================================================================== sections and footers

    @Nested
    final class Sections {

        @Test
        void fullSectionWithFooter() throws Exception {
            StreamBuilder b = stream();
            long sectionAt = b.position();
            b.sectionFull(563, "cpu", 1, 12);
            long fieldAt = b.position();
            b.u32(0xdeadbeefL);
            long footerAt = b.position();
            b.footer(563);
            long eofAt = b.position();
            byte[] bytes = b.eof().description(desc(Json.device("cpu", 1, 12, Json.field("halted", "uint32", 4))))
                    .toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                assertEquals(sectionAt, reader.eventOffset());
                assertEquals(fieldAt, reader.position());
                assertEquals(RecordType.FULL, reader.recordType());
                assertEquals(563, reader.sectionId());
                assertEquals("cpu", reader.sectionName());
                assertEquals(1, reader.instanceId());
                assertEquals(12, reader.sectionVersion());
                expect(reader, MigrationEvent.FIELD);
                assertEquals(fieldAt, reader.eventOffset());
                assertEquals("halted", reader.fieldName());
                assertEquals(0xdeadbeefL, reader.fieldLongValue());
                assertEquals("cpu", reader.sectionName(), "section accessors valid inside the section");
                expect(reader, MigrationEvent.SECTION_END);
                assertEquals(footerAt, reader.eventOffset());
                assertEquals(563, reader.sectionId());
                expect(reader, MigrationEvent.FOOTER);
                assertEquals(footerAt, reader.eventOffset());
                assertEquals(eofAt, reader.position());
                assertEquals(563, reader.sectionId());
                assertEquals(RecordType.FULL, reader.recordType());
                expect(reader, MigrationEvent.EOF);
                assertThrows(IllegalStateException.class, reader::sectionName);
            }
        }

        @Test
        void sectionsWithoutFootersAreAccepted() {
            // QEMU before 2.4 wrote no footers; the footer is optional
            byte[] bytes = stream().sectionFull(1, "a", 0, 1).u8(1).sectionFull(2, "b", 0, 1).u8(2).eof()
                    .description(desc(Json.device("a", 0, 1, Json.field("x", "uint8", 1)),
                            Json.device("b", 0, 1, Json.field("y", "uint8", 1))))
                    .toByteArray();
            assertEquals(List.of("SECTION_START FULL a #1", "FIELD x UNSIGNED 1", "SECTION_END",
                    "SECTION_START FULL b #2", "FIELD y UNSIGNED 2", "SECTION_END", "EOF"), trace(bytes));
        }

        @Test
        void iterativeRamSectionStartPartEnd() {
            StreamBuilder b = stream();
            ramSetup(b, 7, "pc.ram", 0x10000L);
            b.sectionPart(7).zeroPage(0, "pc.ram", 0).eos().footer(7);
            b.switchoverStart();
            b.sectionEnd(7).eos().footer(7);
            b.sectionFull(9, "timer", 0, 2).u64(5).footer(9);
            byte[] bytes = b.eof().description(desc(Json.device("timer", 0, 2, Json.field("t", "int64", 8))))
                    .toByteArray();
            assertEquals(List.of(
                    "SECTION_START START ram #7", "RAM_BLOCK pc.ram 0x10000", "SECTION_END", "FOOTER #7",
                    "SECTION_START PART ram #7", "ZERO_PAGE pc.ram@0x0 fill=0x0", "SECTION_END", "FOOTER #7",
                    "COMMAND 11 ",
                    "SECTION_START END ram #7", "SECTION_END", "FOOTER #7",
                    "SECTION_START FULL timer #9", "FIELD t SIGNED 5", "SECTION_END", "FOOTER #9",
                    "EOF"), trace(bytes));
        }

        @Test
        void partAndEndKeepTheHeaderOfTheirStart() throws Exception {
            StreamBuilder b = stream();
            ramSetup(b, 0xfffffff0L, "pc.ram", 0x1000L);
            long partAt = b.position();
            b.sectionPart(0xfffffff0L).eos().footer(0xfffffff0L);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 4; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.SECTION_START);
                assertEquals(partAt, reader.eventOffset());
                assertEquals(RecordType.PART, reader.recordType());
                assertEquals(0xfffffff0L, reader.sectionId(), "section ids are unsigned 32 bits");
                assertEquals("ram", reader.sectionName());
                assertEquals(0, reader.instanceId());
                assertEquals(4, reader.sectionVersion());
            }
        }

        @Test
        void skipSectionMovesToRecordEnd() throws Exception {
            StreamBuilder b = stream().sectionFull(4, "dev", 0, 1).u32(1).u32(2).u32(3);
            long footerAt = b.position();
            byte[] bytes = b.footer(4).eof().description(desc(Json.device("dev", 0, 1,
                    Json.arrayField("r", "uint32", 4, 3)))).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                assertEquals(MigrationEvent.SECTION_END, reader.skipSection());
                assertEquals(footerAt, reader.eventOffset());
                assertEquals(MigrationEvent.SECTION_END, reader.skipSection(), "no-op on SECTION_END");
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.EOF);
            }
        }

        @Test
        void sameDeviceNameWithTwoInstances() {
            byte[] bytes = stream().sectionFull(5, "serial", 0, 3).u8(0x10).footer(5)
                    .sectionFull(6, "serial", 1, 3).u16(0x2021).footer(6).eof()
                    .description(desc(Json.device("serial", 0, 3, Json.field("a", "uint8", 1)),
                            Json.device("serial", 1, 3, Json.field("b", "uint16", 2))))
                    .toByteArray();
            assertEquals(List.of("SECTION_START FULL serial #5", "FIELD a UNSIGNED 16", "SECTION_END", "FOOTER #5",
                    "SECTION_START FULL serial #6", "FIELD b UNSIGNED 8225", "SECTION_END", "FOOTER #6", "EOF"),
                    trace(bytes));
        }
    }

    // ================================================================== commands

    @Nested
    final class Commands {

        @Test
        void everyCommandWithItsPayload() throws Exception {
            StreamBuilder b = stream();
            long adviseAt = b.position();
            b.postcopyAdvise(0x1000, 0x1000).openReturnPath().ping(42).command(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE,
                    new byte[0]).switchoverStart();
            byte[] bytes = b.eof().description(desc()).toByteArray();
            assertEquals(List.of("COMMAND 3 00000000000010000000000000001000", "COMMAND 1 ", "COMMAND 2 0000002a",
                    "COMMAND 3 ", "COMMAND 11 ", "EOF"), trace(bytes));
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.COMMAND);
                assertEquals(adviseAt, reader.eventOffset());
                assertEquals(adviseAt + 1 + 2 + 2 + 16, reader.position());
                assertEquals(16, reader.commandPayload().byteSize());
                assertThrows(IllegalStateException.class, reader::sectionId);
                assertThrows(IllegalStateException.class, reader::machineName);
            }
        }

        @Test
        void everyNumberFromOneToElevenButPackagedIsSkipped() {
            StreamBuilder b = stream();
            List<String> expected = new ArrayList<>();
            for (int command = 1; command <= 11; command++) {
                byte[] payload = switch (command) {
                    case 2 -> new byte[] {0, 0, 0, 1}; // PING: u32
                    case 3 -> new byte[16]; // POSTCOPY_ADVISE: two u64
                    // POSTCOPY_RAM_DISCARD: u8 version, u8 len + block name, (u64 start, u64 length) pairs
                    case 6 -> ByteBuffer.allocate(24).put((byte) 0).put((byte) 6)
                            .put("pc.ram".getBytes(StandardCharsets.US_ASCII)).putLong(0).putLong(0x1000).array();
                    case 7 -> null; // PACKAGED: an error, see MigrationReaderErrorTest
                    case 10 -> new byte[] {6, 'p', 'c', '.', 'r', 'a', 'm'}; // RECV_BITMAP: u8 len + block name
                    default -> new byte[0]; // OPEN_RETURN_PATH, LISTEN, RUN, ENABLE_COLO, RESUME, SWITCHOVER_START
                };
                if (payload != null) {
                    b.command(command, payload);
                    expected.add("COMMAND " + command + " " + HEX.formatHex(payload));
                }
            }
            expected.add("EOF");
            assertEquals(expected, trace(b.eof().description(desc()).toByteArray()));
        }
    }

    // ================================================================== RAM

    @Nested
    final class Ram {

        @Test
        void blockListLengthsAddUpToTheTotal() throws Exception {
            StreamBuilder b = stream();
            long startAt = b.position();
            b.sectionStart(1, "ram", 0, 4).memSize(0x20000L + 0x40000 + 0x1000);
            long firstAt = b.position();
            b.block("pc.ram", 0x20000).block("pc.bios", 0x40000);
            long thirdAt = b.position();
            b.block("/rom@etc/acpi/tables", 0x1000);
            long eosAt = b.position();
            b.eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                assertEquals(startAt, reader.eventOffset());
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals(firstAt, reader.eventOffset());
                assertEquals("pc.ram", reader.blockName());
                assertEquals(0x20000, reader.blockLength());
                assertEquals(-1, reader.blockPageSize());
                assertEquals(-1, reader.blockMrAddr());
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals("pc.bios", reader.blockName());
                assertEquals(0x40000, reader.blockLength());
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals(thirdAt, reader.eventOffset());
                assertEquals("/rom@etc/acpi/tables", reader.blockName());
                assertEquals(eosAt, reader.position());
                expect(reader, MigrationEvent.SECTION_END);
                assertEquals(eosAt, reader.eventOffset());
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.EOF);
            }
        }

        @Test
        void blockNamesOf128To255BytesAreUnsignedLengths() {
            String name = "b".repeat(200);
            StreamBuilder b = stream();
            ramSetup(b, 1, name, 0x2000L);
            b.sectionEnd(1).page(0x1000, name, filled(PAGE, 1)).eos().footer(1);
            assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK " + name + " 0x2000", "SECTION_END",
                    "FOOTER #1", "SECTION_START END ram #1", "RAM_PAGE " + name + "@0x1000 RAW", "SECTION_END",
                    "FOOTER #1", "EOF"), trace(b.eof().description(desc()).toByteArray()));
        }

        @Test
        void zeroPageWithItsFillByte() throws Exception {
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x4000L);
            b.sectionPart(1);
            long zeroAt = b.position();
            b.zeroPage(0x3000, "pc.ram", 0xa5).eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 5; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.ZERO_PAGE);
                assertEquals(zeroAt, reader.eventOffset());
                assertEquals(zeroAt + 8 + 1 + 6 + 1, reader.position());
                assertEquals("pc.ram", reader.blockName());
                assertEquals(0x3000, reader.pageOffset());
                assertEquals(PAGE, reader.pageSize());
                assertEquals(0xa5, reader.fillByte());
                assertThrows(IllegalStateException.class, reader::page);
                assertThrows(IllegalStateException.class, reader::pageData);
                expect(reader, MigrationEvent.SECTION_END);
            }
        }

        @Test
        void pageContentAsViewAndSegmentOffset() throws Exception {
            byte[] data = pattern(PAGE, 3);
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x4000L);
            b.sectionPart(1);
            long pageAt = b.position();
            b.page(0x2000, "pc.ram", data);
            long afterPage = b.position();
            b.eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 5; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(pageAt, reader.eventOffset());
                assertEquals(afterPage, reader.position());
                assertEquals("pc.ram", reader.blockName());
                assertEquals(0x2000, reader.pageOffset());
                assertEquals(PAGE, reader.pageSize());
                assertEquals(PageEncoding.RAW, reader.pageEncoding());
                long dataAt = pageAt + 8 + 1 + "pc.ram".length();
                assertEquals(dataAt, reader.pageSourceOffset());
                assertArrayEquals(data, bytes(reader.page()));
                assertEquals(PAGE, reader.page().byteSize());
                MemorySegment segment = reader.pageData();
                long offset = reader.pageDataOffset();
                assertArrayEquals(data, bytes(segment.asSlice(offset, PAGE)));
                assertArrayEquals(data, bytes(reader.bytesAt(dataAt, PAGE)));
                assertThrows(IllegalStateException.class, reader::fillByte);
                expect(reader, MigrationEvent.SECTION_END);
            }
        }

        @Test
        void continueReusesThePreviousBlock() throws Exception {
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x4000L, "pc.bios", 0x2000L);
            b.sectionPart(1)
                    .page(0, "pc.bios", filled(PAGE, 1))
                    .zeroPage(0x1000, null, 0)
                    .page(0x1000, "pc.ram", filled(PAGE, 2))
                    .page(0x2000, null, filled(PAGE, 3))
                    .zeroPage(0x3000, null, 0)
                    .eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x4000", "RAM_BLOCK pc.bios 0x2000",
                    "SECTION_END", "FOOTER #1", "SECTION_START PART ram #1",
                    "RAM_PAGE pc.bios@0x0 RAW", "ZERO_PAGE pc.bios@0x1000 fill=0x0",
                    "RAM_PAGE pc.ram@0x1000 RAW", "RAM_PAGE pc.ram@0x2000 RAW", "ZERO_PAGE pc.ram@0x3000 fill=0x0",
                    "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
        }

        @Test
        void continueCarriesOverIntoTheNextPart() {
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x4000L);
            b.sectionPart(1).page(0, "pc.ram", filled(PAGE, 1)).eos().footer(1);
            b.sectionEnd(1).page(0x1000, null, filled(PAGE, 2)).eos().footer(1);
            List<String> events = trace(b.eof().description(desc()).toByteArray());
            assertEquals("RAM_PAGE pc.ram@0x1000 RAW", events.get(events.size() - 4));
        }

        @Test
        void multifdFlushIsIgnored() throws Exception {
            StreamBuilder b = stream();
            b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("pc.ram", 0x2000).multifdFlush();
            long eosAt = b.position();
            b.eos().footer(1);
            b.sectionEnd(1).multifdFlush().multifdFlush();
            long zeroAt = b.position();
            b.zeroPage(0x1000, "pc.ram", 0).multifdFlush().eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x2000", "SECTION_END", "FOOTER #1",
                    "SECTION_START END ram #1", "ZERO_PAGE pc.ram@0x1000 fill=0x0", "SECTION_END", "FOOTER #1",
                    "EOF"), trace(bytes));
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_BLOCK);
                expect(reader, MigrationEvent.SECTION_END);
                assertEquals(eosAt, reader.eventOffset(), "SECTION_END at the EOS, past the flush");
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.ZERO_PAGE);
                assertEquals(zeroAt, reader.eventOffset());
            }
        }

        @Test
        void eosEndsTheRecordEvenWithNoPages() {
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x1000L);
            b.sectionPart(1).eos().footer(1).sectionPart(1).eos().footer(1);
            assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x1000", "SECTION_END", "FOOTER #1",
                    "SECTION_START PART ram #1", "SECTION_END", "FOOTER #1",
                    "SECTION_START PART ram #1", "SECTION_END", "FOOTER #1", "EOF"),
                    trace(b.eof().description(desc()).toByteArray()));
        }

        @Test
        void oneKibPagesTakeTheLowTenBitsAsFlags() throws Exception {
            byte[] data = pattern(1024, 9);
            StreamBuilder b = stream();
            b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("ram", 0x2000).multifdFlush().eos().footer(1);
            long pageAt = b.position();
            b.sectionEnd(1).page(0x400, "ram", data).zeroPage(0xc00, null, 0).eos().footer(1);
            byte[] bytes = b.eof().description(Json.description(1024)).toByteArray();
            assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK ram 0x2000", "SECTION_END", "FOOTER #1",
                    "SECTION_START END ram #1", "RAM_PAGE ram@0x400 RAW", "ZERO_PAGE ram@0xc00 fill=0x0",
                    "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
            try (MigrationReader reader = reader(bytes)) {
                assertEquals(1024, reader.ramPageSize());
                for (int i = 0; i < 5; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(pageAt + 5, reader.eventOffset());
                assertEquals(1024, reader.pageSize());
                assertArrayEquals(data, bytes(reader.page()));
                expect(reader, MigrationEvent.ZERO_PAGE);
                assertEquals(pageAt + 5 + 8 + 4 + 1024, reader.eventOffset());
            }
        }

        @Test
        void ignoreSharedMrAddrAfterEachLength() throws Exception {
            StreamBuilder b = stream().configuration("pc-i440fx-7.2").capabilities("x-ignore-shared");
            b.sectionStart(1, "ram", 0, 4).memSize(0x8000 + 0x4000)
                    .block("pc.ram", 0x8000).mrAddr(0)
                    .block("pc.bios", 0x4000).mrAddr(0xfffc0000L)
                    .eos().footer(1);
            b.sectionEnd(1).page(0, "pc.bios", filled(PAGE, 7)).eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(List.of("x-ignore-shared"), reader.capabilities());
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals("pc.ram", reader.blockName());
                assertEquals(0, reader.blockMrAddr());
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals("pc.bios", reader.blockName());
                assertEquals(0x4000, reader.blockLength());
                assertEquals(0xfffc0000L, reader.blockMrAddr());
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals("pc.bios", reader.blockName());
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.EOF);
            }
        }

        /** postcopy-ram: blocks on pages larger than the target's carry their page size. */
        @Test
        void postcopyBlockPageSizes() throws Exception {
            StreamBuilder b = stream().postcopyAdvise(0x200000 | 0x1000, 0x1000);
            b.sectionStart(1, "ram", 0, 4).memSize(0x400000 + 0x40000)
                    .block("mem-huge", 0x400000).blockPageSize(0x200000)
                    .block("pc.bios", 0x40000)
                    .eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.COMMAND);
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals("mem-huge", reader.blockName());
                assertEquals(0x200000, reader.blockPageSize());
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals("pc.bios", reader.blockName());
                assertEquals(-1, reader.blockPageSize());
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
            }
        }

        @Test
        void postcopyWithOnlyTargetSizedPagesHasNoPageSizeField() {
            StreamBuilder b = stream().postcopyAdvise(0x1000, 0x1000);
            ramSetup(b, 1, "pc.ram", 0x200000L, "pc.bios", 0x40000L);
            assertEquals(List.of("COMMAND 3 00000000000010000000000000001000", "SECTION_START START ram #1",
                    "RAM_BLOCK pc.ram 0x200000", "RAM_BLOCK pc.bios 0x40000", "SECTION_END", "FOOTER #1", "EOF"),
                    trace(b.eof().description(desc()).toByteArray()));
        }

        @Test
        void compressedPageIsInflated() throws Exception {
            byte[] data = pattern(PAGE, 11);
            byte[] zlib = deflate(data, Deflater.DEFAULT_COMPRESSION);
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x4000L);
            b.sectionPart(1);
            long pageAt = b.position();
            b.compressedPage(0x1000, "pc.ram", zlib);
            long afterAt = b.position();
            b.eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 5; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(pageAt, reader.eventOffset());
                assertEquals(afterAt, reader.position());
                assertEquals(0x1000, reader.pageOffset());
                assertEquals(PageEncoding.COMPRESSED, reader.pageEncoding());
                assertEquals(-1, reader.pageSourceOffset());
                assertArrayEquals(data, bytes(reader.page()));
                assertArrayEquals(data, bytes(reader.pageData().asSlice(reader.pageDataOffset(), PAGE)));
                expect(reader, MigrationEvent.SECTION_END);
            }
        }

        @Test
        void compressedPageLongerThanAPage() throws Exception {
            byte[] data = new byte[PAGE];
            new Random(5).nextBytes(data);
            byte[] zlib = deflate(data, Deflater.NO_COMPRESSION);
            assertTrue(zlib.length > PAGE);
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x1000L);
            b.sectionEnd(1).compressedPage(0, "pc.ram", zlib).zeroPage(0, null, 0).eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 5; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(data, bytes(reader.page()));
                expect(reader, MigrationEvent.ZERO_PAGE);
            }
        }

        /**
         * XBZRLE deltas apply to the page's last copy: a raw page from an earlier part, zero for
         * a page never sent, an earlier delta, a fill byte, an inflated page.
         */
        @Test
        void xbzrleDeltaAppliesToTheLastCopy() throws Exception {
            byte[] raw = pattern(PAGE, 1);
            byte[] compressed = pattern(PAGE, 99);
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x5000L);
            b.sectionPart(1).page(0, "pc.ram", raw).zeroPage(0x2000, null, 0x11)
                    .compressedPage(0x3000, null, deflate(compressed, 6)).eos().footer(1);
            b.sectionPart(1);
            long firstDeltaAt = b.position();
            b.xbzrlePage(0, "pc.ram", new byte[] {0x10, 0x03, (byte) 0xaa, (byte) 0xbb, (byte) 0xcc})
                    .xbzrlePage(0x1000, null, new byte[] {0x00, 0x02, 0x44, 0x55})
                    .xbzrlePage(0, null, new byte[] {(byte) 0x81, 0x01, 0x01, (byte) 0xee})
                    .xbzrlePage(0x2000, null, new byte[] {0x05, 0x01, 0x77})
                    .xbzrlePage(0x3000, null, new byte[] {(byte) 0xff, 0x1f, 0x01, 0x66})
                    .eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();

            byte[] page0 = raw.clone();
            page0[16] = (byte) 0xaa;
            page0[17] = (byte) 0xbb;
            page0[18] = (byte) 0xcc;
            byte[] page1 = new byte[PAGE];
            page1[0] = 0x44;
            page1[1] = 0x55;
            byte[] page0again = page0.clone();
            page0again[129] = (byte) 0xee;
            byte[] page2 = filled(PAGE, 0x11);
            page2[5] = 0x77;
            byte[] page3 = compressed.clone();
            page3[0xfff] = 0x66; // unchanged run 0x7f | 0x1f << 7 = 4095

            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 11; i++) {
                    reader.next();
                }
                assertEquals(MigrationEvent.SECTION_START, reader.currentEvent());
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(firstDeltaAt, reader.eventOffset());
                assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
                assertEquals(-1, reader.pageSourceOffset());
                assertEquals(0, reader.pageOffset());
                assertArrayEquals(page0, bytes(reader.page()), "delta on a raw page of an earlier part");
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(0x1000, reader.pageOffset());
                assertArrayEquals(page1, bytes(reader.page()), "delta on a page never sent (zero)");
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page0again, bytes(reader.page()), "delta on a delta");
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page2, bytes(reader.page()), "delta on a fill-byte page");
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page3, bytes(reader.page()), "delta on a compressed page");
                expect(reader, MigrationEvent.SECTION_END);
                expect(reader, MigrationEvent.FOOTER);
                expect(reader, MigrationEvent.EOF);
            }
        }

        @Test
        void xbzrleAfterARawPageOfTheSameRecord() throws Exception {
            byte[] raw = pattern(PAGE, 4);
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x2000L);
            b.sectionEnd(1).page(0x1000, "pc.ram", raw).xbzrlePage(0x1000, null, new byte[] {0x01, 0x01, 0x00})
                    .eos().footer(1);
            byte[] expected = raw.clone();
            expected[1] = 0;
            try (MigrationReader reader = reader(b.eof().description(desc()).toByteArray())) {
                for (int i = 0; i < 6; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
                assertArrayEquals(expected, bytes(reader.page()));
            }
        }

        /**
         * The first delta makes the reader look back over the whole stream before it: the
         * configuration (x-ignore-shared), the postcopy page sizes and device sections must be
         * read there as they were the first time.
         */
        @Test
        void xbzrleAfterConfigurationCommandsAndDevices() throws Exception {
            String configuration = Json.configuration("pc-q35-8.2",
                    Json.struct("configuration/capabilities", 1,
                            fields(Json.field("caps_count", "uint32", 4),
                                    Json.field("capabilities", "capability", 16))));
            byte[] raw = pattern(PAGE, 77);
            StreamBuilder b = StreamBuilder.libvirt("<domain/>").configuration("pc-q35-8.2")
                    .capabilities("x-ignore-shared").postcopyAdvise(0x201000, 0x1000);
            b.sectionStart(2, "ram", 0, 4).memSize(0x400000 + 0x40000)
                    .block("mem-huge", 0x400000).blockPageSize(0x200000).mrAddr(0)
                    .block("pc.bios", 0x40000).mrAddr(0xfffc0000L)
                    .eos().footer(2);
            b.sectionPart(2).page(0x3000, "pc.bios", raw).eos().footer(2);
            b.sectionFull(5, "timer", 0, 2).u64(1).footer(5);
            b.sectionPart(2).xbzrlePage(0x3000, "pc.bios", new byte[] {0x00, 0x02, 0x10, 0x20}).eos().footer(2);
            byte[] bytes = b.eof().description(Json.descriptionWithConfiguration(PAGE, configuration,
                    Json.device("timer", 0, 2, Json.field("t", "int64", 8)))).toByteArray();
            byte[] expected = raw.clone();
            expected[0] = 0x10;
            expected[1] = 0x20;
            try (MigrationReader reader = reader(bytes)) {
                for (MigrationEvent e = reader.next(); e != MigrationEvent.RAM_PAGE
                        || reader.pageEncoding() != PageEncoding.XBZRLE; e = reader.next()) {
                    assertTrue(e != MigrationEvent.EOF, "no XBZRLE page before EOF");
                }
                assertEquals("pc.bios", reader.blockName());
                assertArrayEquals(expected, bytes(reader.page()));
            }
        }

        /** Once deltas have been seen, every later copy of a page (raw, zero, inflated) is the new base. */
        @Test
        void lastCopyWinsAfterTheFirstDelta() throws Exception {
            byte[] a = pattern(PAGE, 1);
            byte[] bNew = pattern(PAGE, 2);
            byte[] c = pattern(PAGE, 3);
            StreamBuilder b = stream();
            ramSetup(b, 1, "pc.ram", 0x2000L);
            b.sectionPart(1)
                    .page(0, "pc.ram", a)
                    .xbzrlePage(0x1000, null, new byte[] {0x00, 0x01, (byte) 0x99})
                    .page(0, null, bNew)
                    .xbzrlePage(0, null, new byte[] {0x00, 0x01, 0x42})
                    .zeroPage(0, null, 0)
                    .xbzrlePage(0, null, new byte[] {0x02, 0x01, 0x43})
                    .zeroPage(0x1000, null, 0x22)
                    .xbzrlePage(0x1000, null, new byte[] {0x00, 0x01, 0x01})
                    .compressedPage(0x1000, null, Ram.deflate(c, 6))
                    .xbzrlePage(0x1000, null, new byte[] {0x03, 0x01, 0x07})
                    .eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            byte[] page1 = new byte[PAGE];
            page1[0] = (byte) 0x99;
            byte[] page0OnB = bNew.clone();
            page0OnB[0] = 0x42;
            byte[] page0OnZero = new byte[PAGE];
            page0OnZero[2] = 0x43;
            byte[] page1OnFill = filled(PAGE, 0x22);
            page1OnFill[0] = 1;
            byte[] page1OnC = c.clone();
            page1OnC[3] = 7;
            try (MigrationReader reader = reader(bytes)) {
                for (int i = 0; i < 5; i++) {
                    reader.next();
                }
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(a, bytes(reader.page()));
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page1, bytes(reader.page()), "first delta, on a page never sent");
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(bNew, bytes(reader.page()));
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page0OnB, bytes(reader.page()), "delta on the raw copy sent after the first delta");
                expect(reader, MigrationEvent.ZERO_PAGE);
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page0OnZero, bytes(reader.page()), "delta on a zero page that replaced a delta");
                expect(reader, MigrationEvent.ZERO_PAGE);
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page1OnFill, bytes(reader.page()), "delta on a fill page");
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(c, bytes(reader.page()));
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(page1OnC, bytes(reader.page()), "delta on an inflated page");
                expect(reader, MigrationEvent.SECTION_END);
            }
        }

        /**
         * mapped-ram: after each block entry a MappedRamHeader; pages come from the bitmap and the
         * pages region, in page order; the stream resumes after the pages region.
         */
        @Test
        void mappedRamPagesInPageOrder() throws Exception {
            int pagesA = 70;
            StreamBuilder b = stream().configuration("pc-q35-9.0").capabilities("mapped-ram");
            b.sectionStart(1, "ram", 0, 4).memSize((long) (pagesA + 2) * PAGE);
            long blockAAt = b.position();
            b.block("pc.ram", (long) pagesA * PAGE);
            long bitmapA = b.position() + 28;
            long regionA = bitmapA + 16;
            b.mappedRamHeader(PAGE, bitmapA, regionA);
            b.u64le(1L | 1L << 2).u64le(1L << 1); // pages 0, 2, 65
            for (int i = 0; i < pagesA; i++) {
                b.bytes(i == 0 || i == 2 || i == 65 ? pattern(PAGE, i) : new byte[PAGE]);
            }
            long blockBAt = b.position();
            b.block("pc.bios", 2L * PAGE);
            long bitmapB = b.position() + 28;
            long regionB = bitmapB + 8;
            b.mappedRamHeader(PAGE, bitmapB, regionB).u64le(1L << 1).zeros(PAGE).bytes(pattern(PAGE, 200));
            long eosAt = b.position();
            b.eos().footer(1);
            b.sectionEnd(1).eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();

            assertEquals(List.of("CONFIGURATION pc-q35-9.0 caps=[mapped-ram] bits=-1", "SECTION_START START ram #1",
                    "RAM_BLOCK pc.ram 0x46000", "RAM_PAGE pc.ram@0x0 MAPPED", "RAM_PAGE pc.ram@0x2000 MAPPED",
                    "RAM_PAGE pc.ram@0x41000 MAPPED", "RAM_BLOCK pc.bios 0x2000", "RAM_PAGE pc.bios@0x1000 MAPPED",
                    "SECTION_END", "FOOTER #1", "SECTION_START END ram #1", "SECTION_END", "FOOTER #1", "EOF"),
                    trace(bytes));
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals(blockAAt, reader.eventOffset());
                for (int page : new int[] {0, 2, 65}) {
                    expect(reader, MigrationEvent.RAM_PAGE);
                    assertEquals(regionA + (long) page * PAGE, reader.eventOffset());
                    assertEquals(regionA + (long) page * PAGE, reader.pageSourceOffset());
                    assertEquals((long) page * PAGE, reader.pageOffset());
                    assertArrayEquals(pattern(PAGE, page), bytes(reader.page()));
                    assertArrayEquals(pattern(PAGE, page),
                            bytes(reader.pageData().asSlice(reader.pageDataOffset(), PAGE)));
                }
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertEquals(blockBAt, reader.eventOffset());
                expect(reader, MigrationEvent.RAM_PAGE);
                assertArrayEquals(pattern(PAGE, 200), bytes(reader.page()));
                expect(reader, MigrationEvent.SECTION_END);
                assertEquals(eosAt, reader.eventOffset());
            }
        }

        /** x-ignore-shared with mapped-ram: mr_addr before the header; an unwritten shared block has offsets 0. */
        @Test
        void mappedRamWithIgnoreSharedAndAnUnwrittenBlock() {
            String configuration = Json.configuration("pc-q35-10.2",
                    Json.struct("configuration/capabilities", 1,
                            fields(Json.field("caps_count", "uint32", 4),
                                    Json.arrayField("capabilities", "capability", 16, 2))));
            StreamBuilder b = stream().configuration("pc-q35-10.2").capabilities("x-ignore-shared", "mapped-ram");
            b.sectionStart(1, "ram", 0, 4).memSize(0x100000 + 2L * PAGE);
            b.block("pc.ram", 0x100000).mrAddr(0).mappedRamHeader(PAGE, 0, 0);
            b.block("pc.bios", 2L * PAGE).mrAddr(0xfffc0000L);
            long bitmap = b.position() + 28;
            b.mappedRamHeader(PAGE, bitmap, bitmap + 8).u64le(1).bytes(pattern(PAGE, 5)).zeros(PAGE);
            b.eos().footer(1);
            byte[] bytes = b.eof().description(Json.descriptionWithConfiguration(PAGE, configuration)).toByteArray();
            assertEquals(List.of("CONFIGURATION pc-q35-10.2 caps=[x-ignore-shared, mapped-ram] bits=-1",
                    "SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x100000", "RAM_BLOCK pc.bios 0x2000",
                    "RAM_PAGE pc.bios@0x0 MAPPED", "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
        }

        static byte[] deflate(byte[] data, int level) {
            return StreamBuilder.zlib(data, level);
        }
    }

    // ================================================================== device fields

    @Nested
    final class Fields {

        @Test
        void integerTypesSignedAndUnsigned() {
            String[] fields = fields(
                    Json.field("i8", "int8", 1), Json.field("i16", "int16", 2), Json.field("i32", "int32", 4),
                    Json.field("i64", "int64", 8), Json.field("i32max", "int32", 4),
                    Json.field("u8", "uint8", 1), Json.field("u16", "uint16", 2), Json.field("u32", "uint32", 4),
                    Json.field("u64", "uint64", 8),
                    Json.field("le", "int32 le", 4), Json.field("ieq", "int32 equal", 4),
                    Json.field("i64eq", "int64 equal", 8), Json.field("u8eq", "uint8 equal", 1),
                    Json.field("u16eq", "uint16 equal", 2), Json.field("u32eq", "uint32 equal", 4));
            List<String> events = deviceTrace(fields, NONE, b -> b
                    .u8(0xff).u16(0x8000).u32(0xfffffffeL).u64(0x8000000000000000L).u32(0x7fffffff)
                    .u8(0xff).u16(0xffff).u32(0xffffffffL).u64(-1L)
                    .u32(0xfffffff6L).u32(0xffffffffL)
                    .u64(-5L).u8(0x80)
                    .u16(0xfffe).u32(0x80000000L));
            assertEquals(List.of(
                    "FIELD i8 SIGNED -1", "FIELD i16 SIGNED -32768", "FIELD i32 SIGNED -2",
                    "FIELD i64 SIGNED -9223372036854775808", "FIELD i32max SIGNED 2147483647",
                    "FIELD u8 UNSIGNED 255", "FIELD u16 UNSIGNED 65535", "FIELD u32 UNSIGNED 4294967295",
                    "FIELD u64 UNSIGNED 18446744073709551615",
                    "FIELD le SIGNED -10", "FIELD ieq SIGNED -1", "FIELD i64eq SIGNED -5",
                    "FIELD u8eq SIGNED -128", "FIELD u16eq SIGNED -2", "FIELD u32eq UNSIGNED 2147483648"), events);
        }

        @Test
        void integerAccessors() throws Exception {
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
            long firstAt = b.position();
            b.u16(0xfffe).u64(-1L).u8(0x80).u32(0xfffffff6L).footer(3);
            byte[] bytes = b.eof().description(desc(Json.device("dev", 0, 1, Json.field("s", "int16", 2),
                    Json.field("u", "uint64", 8), Json.field("ue", "uint8 equal", 1),
                    Json.field("le", "int32 le", 4)))).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.FIELD);
                assertEquals(firstAt, reader.eventOffset());
                assertEquals(firstAt + 2, reader.position());
                assertEquals("int16", reader.fieldType());
                assertEquals(-1, reader.fieldIndex());
                assertEquals(-2, reader.fieldLongValue());
                assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xfe}, bytes(reader.fieldBytes()));
                assertThrows(IllegalStateException.class, reader::fieldBooleanValue);
                assertThrows(IllegalStateException.class, reader::fieldStringValue);
                expect(reader, MigrationEvent.FIELD);
                assertEquals(firstAt + 2, reader.eventOffset());
                assertEquals(-1L, reader.fieldLongValue(), "uint64 above 2^63 comes out negative");
                assertEquals(new BigInteger("18446744073709551615"), reader.fieldBigIntegerValue());
                expect(reader, MigrationEvent.FIELD);
                assertEquals("uint8 equal", reader.fieldType());
                assertEquals(FieldKind.SIGNED, reader.fieldKind());
                assertEquals(-128, reader.fieldLongValue());
                expect(reader, MigrationEvent.FIELD);
                assertEquals("int32 le", reader.fieldType());
                assertEquals(-10, reader.fieldLongValue(), "int32 le is big-endian like the rest");
                expect(reader, MigrationEvent.SECTION_END);
            }
        }

        @Test
        void boolAndByteTypes() {
            byte[] float64 = ByteBuffer.allocate(8).putDouble(1.5).array();
            String[] fields = fields(
                    Json.field("on", "bool", 1), Json.field("off", "bool", 1), Json.field("two", "bool", 1),
                    Json.field("f", "float64", 8), Json.field("t", "timer", 8), Json.field("buf", "buffer", 3),
                    Json.field("un", "unused_buffer", 2), Json.field("bm", "bitmap", 4),
                    Json.field("cfg", "pci config", 5), Json.field("v", "virtio", 0));
            List<String> events = deviceTrace(fields, NONE, b -> b
                    .u8(1).u8(0).u8(2)
                    .bytes(float64).u64(0x0102030405060708L).bytes(0xaa, 0xbb, 0xcc)
                    .bytes(0, 0).bytes(0xf0, 0x0f, 0, 1).bytes(0x86, 0x80, 0x37, 0x12, 0x00));
            assertEquals(List.of("FIELD on BOOL true", "FIELD off BOOL false", "FIELD two BOOL true",
                    "FIELD f BYTES 3ff8000000000000", "FIELD t BYTES 0102030405060708", "FIELD buf BYTES aabbcc",
                    "FIELD un BYTES 0000", "FIELD bm BYTES f00f0001", "FIELD cfg BYTES 8680371200",
                    "FIELD v BYTES "), events);
        }

        @Test
        void byteFieldsHaveNoIntegerValue() throws Exception {
            byte[] bytes = stream().sectionFull(3, "dev", 0, 1).bytes(1, 2, 3).footer(3).eof()
                    .description(desc(Json.device("dev", 0, 1, Json.field("b", "buffer", 3)))).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.FIELD);
                assertEquals(FieldKind.BYTES, reader.fieldKind());
                assertThrows(IllegalStateException.class, reader::fieldLongValue);
                assertThrows(IllegalStateException.class, reader::fieldBigIntegerValue);
                assertThrows(IllegalStateException.class, reader::fieldBooleanValue);
            }
        }

        @Test
        void nullptrAndCapability() {
            String[] fields = fields(Json.field("p", "nullptr", 1), Json.field("cap", "capability", 16),
                    Json.field("after", "uint8", 1));
            List<String> events = deviceTrace(fields, NONE, b -> b.u8('0').str8("x-ignore-shared").u8(9));
            assertEquals(List.of("FIELD p NULLPTR 30", "FIELD cap CAPABILITY x-ignore-shared",
                    "FIELD after UNSIGNED 9"), events);
        }

        @Test
        void capabilityBytesExcludeTheLengthByte() throws Exception {
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
            long capAt = b.position();
            byte[] bytes = b.str8("mapped-ram").footer(3).eof()
                    .description(desc(Json.device("dev", 0, 1, Json.field("c", "capability", 11)))).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.FIELD);
                assertEquals(capAt, reader.eventOffset());
                assertEquals(capAt + 11, reader.position());
                assertEquals("mapped-ram", reader.fieldStringValue());
                assertEquals("mapped-ram", new String(bytes(reader.fieldBytes()), StandardCharsets.UTF_8));
            }
        }

        @Test
        void arrayLenExpandsToIndexedElements() {
            String[] fields = fields(Json.field("before", "uint8", 1), Json.arrayField("isr", "uint32", 4, 3),
                    Json.arrayField("one", "uint8", 1, 1), Json.field("after", "uint8", 1));
            List<String> events = deviceTrace(fields, NONE, b -> b.u8(1).u32(10).u32(11).u32(12).u8(7).u8(2));
            assertEquals(List.of("FIELD before UNSIGNED 1", "FIELD isr[0] UNSIGNED 10", "FIELD isr[1] UNSIGNED 11",
                    "FIELD isr[2] UNSIGNED 12", "FIELD one[0] UNSIGNED 7", "FIELD after UNSIGNED 2"), events);
        }

        @Test
        void indexEntriesKeepTheirIndex() {
            String[] fields = fields(Json.indexField("q", "uint16", 2, 0), Json.indexField("q", "uint16", 2, 1),
                    Json.indexField("q", "uint16", 2, 2));
            List<String> events = deviceTrace(fields, NONE, b -> b.u16(0x100).u16(0x101).u16(0x102));
            assertEquals(List.of("FIELD q[0] UNSIGNED 256", "FIELD q[1] UNSIGNED 257", "FIELD q[2] UNSIGNED 258"),
                    events);
        }

        /** QEMU 9.1+ splits an array around null pointers into consecutive entries of one name. */
        @Test
        void splitArrayIsConsecutiveEntriesOfOneName() {
            String[] fields = fields(Json.arrayField("ptrs", "uint8", 1, 2),
                    "{\"name\": \"ptrs\", \"index\": 2, \"type\": \"nullptr\", \"size\": 1}",
                    Json.field("ptrs", "uint8", 1), Json.field("next", "uint8", 1));
            List<String> events = deviceTrace(fields, NONE, b -> b.u8(1).u8(2).u8('0').u8(4).u8(5));
            // the last entry carries no index in the JSON (QEMU 10.2): it is the array's next element
            assertEquals(List.of("FIELD ptrs[0] UNSIGNED 1", "FIELD ptrs[1] UNSIGNED 2", "FIELD ptrs[2] NULLPTR 30",
                    "FIELD ptrs[3] UNSIGNED 4", "FIELD next UNSIGNED 5"), events);
        }

        @Test
        void structWithNestedFields() throws Exception {
            String inner = Json.struct("inner", 1, fields(Json.field("x", "uint16", 2), Json.field("y", "int8", 1)));
            String[] fields = fields(Json.field("a", "uint8", 1), Json.structField("s", -1, 3, inner),
                    Json.field("b", "uint8", 1));
            List<String> events = deviceTrace(fields, NONE, b -> b.u8(1).u16(2).u8(0xfd).u8(4));
            assertEquals(List.of("FIELD a UNSIGNED 1", "STRUCT_START s", "FIELD x UNSIGNED 2", "FIELD y SIGNED -3",
                    "STRUCT_END", "FIELD b UNSIGNED 4"), events);

            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
            long structAt = b.position();
            byte[] bytes = b.u16(2).u8(0xfd).u8(4).footer(3).eof()
                    .description(desc(Json.device("dev", 0, 1, fields))).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.FIELD);
                expect(reader, MigrationEvent.STRUCT_START);
                assertEquals(structAt, reader.eventOffset());
                assertEquals("s", reader.fieldName());
                assertEquals("struct", reader.fieldType());
                assertEquals(FieldKind.STRUCT, reader.fieldKind());
                assertEquals(-1, reader.fieldIndex());
                assertThrows(IllegalStateException.class, reader::fieldBytes);
                expect(reader, MigrationEvent.FIELD);
                expect(reader, MigrationEvent.FIELD);
                expect(reader, MigrationEvent.STRUCT_END);
                assertEquals(structAt + 3, reader.eventOffset());
                assertThrows(IllegalStateException.class, reader::fieldName);
            }
        }

        @Test
        void structArraysByArrayLenAndByIndex() {
            String body = Json.struct("ring", 1, fields(Json.field("head", "uint16", 2)));
            String[] fields = fields(
                    "{\"name\": \"rings\", \"array_len\": 2, \"type\": \"struct\", \"struct\": " + body
                            + ", \"size\": 2}",
                    Json.structField("tx", 0, 2, body), Json.structField("tx", 1, 2, body));
            List<String> events = deviceTrace(fields, NONE, b -> b.u16(1).u16(2).u16(3).u16(4));
            assertEquals(List.of("STRUCT_START rings[0]", "FIELD head UNSIGNED 1", "STRUCT_END",
                    "STRUCT_START rings[1]", "FIELD head UNSIGNED 2", "STRUCT_END",
                    "STRUCT_START tx[0]", "FIELD head UNSIGNED 3", "STRUCT_END",
                    "STRUCT_START tx[1]", "FIELD head UNSIGNED 4", "STRUCT_END"), events);
        }

        @Test
        void subsectionsWithNameAndVersion() throws Exception {
            String sub = Json.struct("dev/extra", 2, fields(Json.field("e", "uint32", 4)));
            String sub2 = Json.struct("dev/more", 1, fields(Json.field("m", "bool", 1)));
            String[] fields = fields(Json.field("a", "uint8", 1));
            List<String> events = deviceTrace(fields, new String[] {sub, sub2}, b -> b.u8(1)
                    .subsection("dev/extra", 2).u32(0x12345678).subsection("dev/more", 1).u8(1));
            assertEquals(List.of("FIELD a UNSIGNED 1", "SUBSECTION dev/extra v2", "FIELD e UNSIGNED 305419896",
                    "SUBSECTION_END", "SUBSECTION dev/more v1", "FIELD m BOOL true", "SUBSECTION_END"), events);

            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
            long subAt = b.position();
            b.subsection("dev/extra", 2);
            long fieldAt = b.position();
            byte[] bytes = b.u32(0x12345678).subsection("dev/more", 1).u8(1).footer(3).eof()
                    .description(desc(Json.deviceWithSubsections("dev", 0, 1, fields, sub, sub2))).toByteArray();
            try (MigrationReader reader = reader(bytes)) {
                expect(reader, MigrationEvent.SECTION_START);
                expect(reader, MigrationEvent.FIELD);
                expect(reader, MigrationEvent.SUBSECTION);
                assertEquals(subAt, reader.eventOffset());
                assertEquals(fieldAt, reader.position());
                assertEquals("dev/extra", reader.subsectionName());
                assertEquals(2, reader.subsectionVersion());
                assertEquals("dev", reader.sectionName());
                assertThrows(IllegalStateException.class, reader::fieldName);
                expect(reader, MigrationEvent.FIELD);
                assertEquals(fieldAt, reader.eventOffset());
                expect(reader, MigrationEvent.SUBSECTION_END);
                assertEquals(fieldAt + 4, reader.eventOffset());
                assertThrows(IllegalStateException.class, reader::subsectionName);
            }
        }

        @Test
        void subsectionsNestedInStructsAndSubsections() {
            String structBody = Json.struct("inner", 1, fields(Json.field("x", "uint16", 2)),
                    Json.struct("inner/sub", 1, fields(Json.field("y", "uint32", 4))));
            String[] fields = fields(Json.field("a", "uint8", 1), Json.structField("s", -1, 2, structBody),
                    Json.field("b", "uint8", 1));
            String sub = Json.struct("dev/sub", 2, fields(Json.field("z", "int16", 2)),
                    Json.struct("dev/sub/inner", 1, fields(Json.field("w", "bool", 1))));
            List<String> events = deviceTrace(fields, new String[] {sub}, b -> b
                    .u8(1).u16(2).subsection("inner/sub", 1).u32(3).u8(4)
                    .subsection("dev/sub", 2).u16(0xfffb).subsection("dev/sub/inner", 1).u8(0));
            assertEquals(List.of("FIELD a UNSIGNED 1", "STRUCT_START s", "FIELD x UNSIGNED 2",
                    "SUBSECTION inner/sub v1", "FIELD y UNSIGNED 3", "SUBSECTION_END", "STRUCT_END",
                    "FIELD b UNSIGNED 4", "SUBSECTION dev/sub v2", "FIELD z SIGNED -5",
                    "SUBSECTION dev/sub/inner v1", "FIELD w BOOL false", "SUBSECTION_END", "SUBSECTION_END"), events);
        }

        @Test
        void deviceWithNoFields() {
            List<String> events = deviceTrace(NONE, NONE, b -> { });
            assertEquals(List.of(), events);
        }
    }

    // ================================================================== spapr/htab, s390-storage_attributes

    @Nested
    final class OtherIterativeSections {

        @Test
        void htabWithoutHashTable() {
            StreamBuilder b = stream().sectionStart(12, "spapr/htab", 0, 1).u32(-1).footer(12)
                    .sectionEnd(12).u32(-1).footer(12);
            assertEquals(List.of("SECTION_START START spapr/htab #12", "SECTION_END", "FOOTER #12",
                    "SECTION_START END spapr/htab #12", "SECTION_END", "FOOTER #12", "EOF"),
                    trace(b.eof().description(desc()).toByteArray()));
        }

        @Test
        void htabShiftThenChunks() throws Exception {
            StreamBuilder b = stream();
            b.sectionStart(12, "spapr/htab", 0, 1).u32(24);
            long firstEnd = b.position();
            b.footer(12);
            b.sectionPart(12).u32(0)
                    .u32(5).u16(2).u16(1).bytes(pattern(32, 1))
                    .u32(9).u16(0).u16(3)
                    .u32(0x100).u16(1).u16(0).bytes(pattern(16, 2))
                    .zeros(8);
            long partEnd = b.position();
            b.footer(12);
            b.sectionEnd(12).u32(0).u32(0x200).u16(1).u16(0).bytes(pattern(16, 3)).zeros(8);
            long endEnd = b.position();
            b.footer(12);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            assertEquals(List.of("SECTION_START START spapr/htab #12", "SECTION_END", "FOOTER #12",
                    "SECTION_START PART spapr/htab #12", "SECTION_END", "FOOTER #12",
                    "SECTION_START END spapr/htab #12", "SECTION_END", "FOOTER #12", "EOF"), trace(bytes));
            try (MigrationReader reader = reader(bytes)) {
                long[] ends = {firstEnd, partEnd, endEnd};
                for (long end : ends) {
                    expect(reader, MigrationEvent.SECTION_START);
                    expect(reader, MigrationEvent.SECTION_END);
                    assertEquals(end, reader.eventOffset());
                    assertEquals("spapr/htab", reader.sectionName());
                    expect(reader, MigrationEvent.FOOTER);
                }
            }
        }

        @Test
        void storageAttributesEosMoreDone() throws Exception {
            StreamBuilder b = stream();
            b.sectionStart(3, "s390-storage_attributes", 0, 0).u64(StreamBuilder.STATTR_FLAG_EOS);
            long startEnd = b.position();
            b.footer(3);
            b.sectionPart(3).u64(0x1000 | StreamBuilder.STATTR_FLAG_MORE).u64(5).bytes(1, 2, 3, 4, 5)
                    .u64(0x6000 | StreamBuilder.STATTR_FLAG_MORE).u64(0)
                    .u64(StreamBuilder.STATTR_FLAG_EOS);
            long partEnd = b.position();
            b.footer(3);
            b.sectionEnd(3).u64(StreamBuilder.STATTR_FLAG_DONE).u64(StreamBuilder.STATTR_FLAG_EOS);
            long endEnd = b.position();
            b.footer(3);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            assertEquals(List.of("SECTION_START START s390-storage_attributes #3", "SECTION_END", "FOOTER #3",
                    "SECTION_START PART s390-storage_attributes #3", "SECTION_END", "FOOTER #3",
                    "SECTION_START END s390-storage_attributes #3", "SECTION_END", "FOOTER #3", "EOF"), trace(bytes));
            try (MigrationReader reader = reader(bytes)) {
                for (long end : new long[] {startEnd, partEnd, endEnd}) {
                    expect(reader, MigrationEvent.SECTION_START);
                    expect(reader, MigrationEvent.SECTION_END);
                    assertEquals(end, reader.eventOffset());
                    expect(reader, MigrationEvent.FOOTER);
                }
            }
        }

        /** DONE "may be followed by EOS": when it is not, the part ends at DONE. */
        @Test
        void storageAttributesDoneWithoutEosBeforeMoreSections() {
            StreamBuilder b = stream();
            b.sectionStart(3, "s390-storage_attributes", 0, 0).u64(StreamBuilder.STATTR_FLAG_EOS).footer(3);
            b.sectionEnd(3).u64(StreamBuilder.STATTR_FLAG_DONE).footer(3);
            b.sectionFull(4, "timer", 0, 2).u64(1).footer(4);
            byte[] bytes = b.eof().description(desc(Json.device("timer", 0, 2, Json.field("t", "int64", 8))))
                    .toByteArray();
            assertEquals(List.of("SECTION_START START s390-storage_attributes #3", "SECTION_END", "FOOTER #3",
                    "SECTION_START END s390-storage_attributes #3", "SECTION_END", "FOOTER #3",
                    "SECTION_START FULL timer #4", "FIELD t SIGNED 1", "SECTION_END", "FOOTER #4", "EOF"),
                    trace(bytes));
        }

        /** The same, when fewer than 8 bytes follow DONE (footer and EOF only). */
        @Test
        void storageAttributesDoneWithoutEosAtTheEndOfTheStream() {
            StreamBuilder b = stream();
            b.sectionStart(3, "s390-storage_attributes", 0, 0).u64(StreamBuilder.STATTR_FLAG_EOS).footer(3);
            b.sectionEnd(3).u64(StreamBuilder.STATTR_FLAG_DONE).footer(3);
            assertEquals(List.of("SECTION_START START s390-storage_attributes #3", "SECTION_END", "FOOTER #3",
                    "SECTION_START END s390-storage_attributes #3", "SECTION_END", "FOOTER #3", "EOF"),
                    trace(b.eof().description(desc()).toByteArray()));
        }
    }

    // ================================================================== accessors by event

    @Nested
    final class Accessors {

        @Test
        void beforeTheFirstEventOnlyStreamWideAccessors() throws Exception {
            try (MigrationReader reader = reader(stream().eof().description(desc()).toByteArray())) {
                assertEquals(null, reader.currentEvent());
                assertThrows(IllegalStateException.class, reader::sectionName);
                assertThrows(IllegalStateException.class, reader::pageOffset);
                assertThrows(IllegalStateException.class, reader::fieldName);
                assertThrows(IllegalStateException.class, reader::machineName);
                assertEquals("<memory>", reader.sourceName());
            }
        }

        @Test
        void configurationAccessorsOnlyOnConfiguration() throws Exception {
            StreamBuilder b = stream().configuration("pc");
            ramSetup(b, 1, "pc.ram", 0x1000L);
            try (MigrationReader reader = reader(b.eof().description(desc()).toByteArray())) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertThrows(IllegalStateException.class, reader::sectionName);
                assertThrows(IllegalStateException.class, reader::recordType);
                assertThrows(IllegalStateException.class, reader::commandType);
                expect(reader, MigrationEvent.SECTION_START);
                assertThrows(IllegalStateException.class, reader::machineName);
                assertThrows(IllegalStateException.class, reader::capabilities);
                assertThrows(IllegalStateException.class, reader::blockName);
                expect(reader, MigrationEvent.RAM_BLOCK);
                assertThrows(IllegalStateException.class, reader::pageOffset);
                assertThrows(IllegalStateException.class, reader::fillByte);
                assertThrows(IllegalStateException.class, reader::fieldName);
                assertEquals("ram", reader.sectionName());
            }
        }

        @Test
        void eventIdsAreDenseAndMirroredInMigrationEventId() throws Exception {
            for (MigrationEvent e : MigrationEvent.values()) {
                assertEquals(e.ordinal(), e.id(), e.name());
                assertEquals(e.id(), MigrationEventId.class.getField("ID_" + e.name()).getInt(null), e.name());
            }
        }

        @Test
        void eventTraitsPairScopesAndMarkPayloads() {
            for (MigrationEvent e : MigrationEvent.values()) {
                boolean opens = e == MigrationEvent.SECTION_START || e == MigrationEvent.STRUCT_START
                        || e == MigrationEvent.SUBSECTION;
                boolean closes = e == MigrationEvent.SECTION_END || e == MigrationEvent.STRUCT_END
                        || e == MigrationEvent.SUBSECTION_END;
                boolean payload = e == MigrationEvent.RAM_PAGE || e == MigrationEvent.FIELD
                        || e == MigrationEvent.COMMAND;
                assertEquals(opens, e.opensScope(), e.name());
                assertEquals(closes, e.closesScope(), e.name());
                assertEquals(payload, e.hasPayload(), e.name());
            }
        }

        @Test
        void recordTypesAreQemuConstants() {
            assertEquals(0x01, RecordType.START.wireValue());
            assertEquals(0x04, RecordType.FULL.wireValue());
            assertTrue(RecordType.FULL.hasHeader());
            assertFalse(RecordType.PART.hasHeader());
        }
    }
}
