package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.fields;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.ReaderTests.skip;
import static io.qevm.ReaderTests.trace;
import static io.qevm.StreamBuilder.filled;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reader over streams built byte by byte from FORMAT.md ({@link StreamBuilder}): each test
 * asserts the exact sequence of events and the accessors' values, from every {@link SourceKind}
 * (a mapped file, a heap array, a stream read a few bytes at a time). Events are compared as
 * one-line traces ({@link ReaderTests#describe}), so a failure shows the whole sequence. The
 * container, configuration, section framing, commands and the opaque iterative sections are
 * here; RAM, XBZRLE, device fields, scopes, accessors and what only a stream does have their
 * own {@code Reader*Test}.
 */
final class MigrationReaderTest {

    private static final HexFormat HEX = HexFormat.of();

    // ================================================================== container

    @Nested
    final class Container {

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void minimalStreamIsEofRepeated(SourceKind kind) throws Exception {
            StreamBuilder b = stream();
            long eofAt = b.position();
            String json = desc();
            byte[] bytes = b.eof().description(json).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
                assertEquals(null, reader.currentEvent());
                assertEquals(0, reader.streamStart());
                // a file's description is found from its end when it is opened; a stream's only
                // when the reader reaches it (ReaderStreamTest)
                boolean known = kind != SourceKind.STREAM;
                assertEquals(known, reader.isDescriptionKnown());
                assertEquals(known, reader.hasDescription());
                assertEquals(known ? eofAt + 1 + 5 : -1, reader.descriptionJsonOffset());
                assertEquals(known ? PAGE : -1, reader.ramPageSize());
                expect(reader, MigrationEvent.EOF);
                assertEquals(eofAt, reader.eventOffset());
                assertEquals(eofAt + 1, reader.position());
                assertTrue(reader.isDescriptionKnown());
                assertTrue(reader.hasDescription());
                assertEquals(eofAt + 1 + 5, reader.descriptionJsonOffset());
                assertEquals(json, new String(bytes(reader.descriptionJson()), StandardCharsets.UTF_8));
                assertEquals(PAGE, reader.ramPageSize());
                expect(reader, MigrationEvent.EOF);
                expect(reader, MigrationEvent.EOF);
                assertEquals(MigrationEvent.EOF, reader.currentEvent());
                assertEquals(eofAt, reader.eventOffset(), "EOF again, at the same place");
            }
        }

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void withoutDescriptionWhenNotRequired(SourceKind kind) throws Exception {
            byte[] bytes = stream().configuration("virt").targetPageBits(12).eof().toByteArray();
            ReadOptions options = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
            try (MigrationReader reader = kind.open(bytes, options)) {
                assertEquals(kind != SourceKind.STREAM, reader.isDescriptionKnown());
                assertFalse(reader.hasDescription());
                assertEquals(-1, reader.descriptionJsonOffset());
                assertEquals(-1, reader.ramPageSize());
                assertThrows(IllegalStateException.class, reader::descriptionJson);
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(12, reader.targetPageBits());
                assertEquals(PAGE, reader.ramPageSize(), "page size from target-page-bits");
                expect(reader, MigrationEvent.EOF);
                assertTrue(reader.isDescriptionKnown());
                assertFalse(reader.hasDescription());
                assertEquals("the stream has no JSON description",
                        assertThrows(IllegalStateException.class, reader::descriptionJson).getMessage());
            }
        }

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void libvirtWrappedStream(SourceKind kind) throws Exception {
            String xml = "<qemu><domain type='kvm'><name>vm</name></domain></qemu>\n\0\0\0"; // odd length
            StreamBuilder b = StreamBuilder.libvirt(xml);
            long qemuStart = StreamBuilder.LIBVIRT_HEADER_BYTES + xml.length();
            assertEquals(qemuStart + 8, b.position());
            long sectionAt = b.position();
            b.sectionFull(2, "timer", 0, 2).u64(0x1122334455667788L).footer(2);
            long eofAt = b.position();
            byte[] bytes = b.eof().description(desc(Json.device("timer", 0, 2, Json.field("ticks", "int64", 8))))
                    .toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void libvirtHeaderInBigEndianOrder(SourceKind kind) throws Exception {
            byte[] xml = "<domain/>".getBytes(StandardCharsets.US_ASCII);
            byte[] bytes = StreamBuilder.empty().libvirtHeader(xml, ByteOrder.BIG_ENDIAN, 0).header()
                    .configuration("pc").eof().description(desc()).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
                assertEquals(92 + xml.length, reader.streamStart());
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals(92 + xml.length + 8, reader.eventOffset());
                assertEquals("pc", reader.machineName());
            }
        }

        /** libvirt format 6 (sparse) wraps a mapped-ram stream: its offsets count from the file's start. */
        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void libvirtSparseImageWithMappedRam(SourceKind kind) throws Exception {
            byte[] xml = "<domain/>\n".getBytes(StandardCharsets.US_ASCII);
            StreamBuilder b = StreamBuilder.empty().libvirtHeader(xml, ByteOrder.LITTLE_ENDIAN, 6).header()
                    .configuration("pc-q35-10.0").capabilities("mapped-ram");
            b.sectionStart(1, "ram", 0, 4).memSize(2L * PAGE).block("pc.ram", 2L * PAGE);
            long bitmap = b.position() + 28;
            b.mappedRamHeader(PAGE, bitmap, bitmap + 8).u64le(2).zeros(PAGE).bytes(pattern(PAGE, 8)).eos().footer(1);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void machineNameOnly(SourceKind kind) throws Exception {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.configuration("pc-i440fx-7.2").eof().description(desc()).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
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
        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void undescribedSubsectionsByTheirKnownLayout(SourceKind kind) throws Exception {
            byte[] uuid = pattern(16, 0x40);
            StreamBuilder b = stream().configuration("virt-7.2").targetPageBits(12)
                    .capabilities("x-ignore-shared").uuid(uuid);
            long eofAt = b.position();
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals("virt-7.2", reader.machineName());
                assertEquals(12, reader.targetPageBits());
                assertEquals(List.of("x-ignore-shared"), reader.capabilities());
                assertEquals(eofAt, reader.position());
                expect(reader, MigrationEvent.EOF);
            }
        }

        /** QEMU 8.2+ describes the configuration in the JSON; capabilities are 'capability' fields. */
        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void describedConfigurationReadsCapabilityFields(SourceKind kind) throws Exception {
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
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void describedTargetPageBitsGiveThePageSize(SourceKind kind) throws Exception {
            String configuration = Json.configuration("virt-9.0",
                    Json.struct("configuration/target-page-bits", 1,
                            fields(Json.field("target_page_bits", "uint32", 4))));
            byte[] bytes = stream().configuration("virt-9.0").targetPageBits(16).eof()
                    .description("{\"configuration\": " + configuration + ", \"devices\": []}").toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
                expect(reader, MigrationEvent.CONFIGURATION);
                assertEquals("virt-9.0", reader.machineName());
                assertEquals(16, reader.targetPageBits());
                assertEquals(65536, reader.ramPageSize());
            }
        }

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void pageSizeFromTargetPageBitsWhenTheJsonHasNone(SourceKind kind) throws Exception {
            StreamBuilder b = stream().configuration("virt").targetPageBits(10);
            b.sectionStart(1, "ram", 0, 4).memSize(0x800).block("ram", 0x800).eos().footer(1);
            b.sectionEnd(1).page(0x400, "ram", filled(1024, 0x5a)).eos().footer(1);
            byte[] bytes = b.eof().description("{\"devices\": []}").toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void fullSectionWithFooter(SourceKind kind) throws Exception {
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
            try (MigrationReader reader = kind.open(bytes)) {
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
            // at 0x1000, not 0: a lone zero page at 0 reads as a page of any size up to the block's,
            // and a stream tells the size from its records (ReaderPageSizeTest)
            b.sectionPart(7).zeroPage(0x1000, "pc.ram", 0).eos().footer(7);
            b.switchoverStart();
            b.sectionEnd(7).eos().footer(7);
            b.sectionFull(9, "timer", 0, 2).u64(5).footer(9);
            byte[] bytes = b.eof().description(desc(Json.device("timer", 0, 2, Json.field("t", "int64", 8))))
                    .toByteArray();
            assertEquals(List.of(
                    "SECTION_START START ram #7", "RAM_BLOCK pc.ram 0x10000", "SECTION_END", "FOOTER #7",
                    "SECTION_START PART ram #7", "ZERO_PAGE pc.ram@0x1000 fill=0x0", "SECTION_END", "FOOTER #7",
                    "COMMAND 11 ",
                    "SECTION_START END ram #7", "SECTION_END", "FOOTER #7",
                    "SECTION_START FULL timer #9", "FIELD t SIGNED 5", "SECTION_END", "FOOTER #9",
                    "EOF"), trace(bytes));
        }

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void partAndEndKeepTheHeaderOfTheirStart(SourceKind kind) throws Exception {
            StreamBuilder b = stream();
            ramSetup(b, 0xfffffff0L, "pc.ram", 0x1000L);
            long partAt = b.position();
            b.sectionPart(0xfffffff0L).eos().footer(0xfffffff0L);
            byte[] bytes = b.eof().description(desc()).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
                skip(reader, 4);
                expect(reader, MigrationEvent.SECTION_START);
                assertEquals(partAt, reader.eventOffset());
                assertEquals(RecordType.PART, reader.recordType());
                assertEquals(0xfffffff0L, reader.sectionId(), "section ids are unsigned 32 bits");
                assertEquals("ram", reader.sectionName());
                assertEquals(0, reader.instanceId());
                assertEquals(4, reader.sectionVersion());
            }
        }

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void skipSectionMovesToRecordEnd(SourceKind kind) throws Exception {
            StreamBuilder b = stream().sectionFull(4, "dev", 0, 1).u32(1).u32(2).u32(3);
            long footerAt = b.position();
            byte[] bytes = b.footer(4).eof().description(desc(Json.device("dev", 0, 1,
                    Json.arrayField("r", "uint32", 4, 3)))).toByteArray();
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void everyCommandWithItsPayload(SourceKind kind) throws Exception {
            StreamBuilder b = stream();
            long adviseAt = b.position();
            b.postcopyAdvise(0x1000, 0x1000).openReturnPath().ping(42).command(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE,
                    new byte[0]).switchoverStart();
            byte[] bytes = b.eof().description(desc()).toByteArray();
            assertEquals(List.of("COMMAND 3 00000000000010000000000000001000", "COMMAND 1 ", "COMMAND 2 0000002a",
                    "COMMAND 3 ", "COMMAND 11 ", "EOF"), trace(bytes));
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void htabShiftThenChunks(SourceKind kind) throws Exception {
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
            try (MigrationReader reader = kind.open(bytes)) {
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

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void storageAttributesEosMoreDone(SourceKind kind) throws Exception {
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
            try (MigrationReader reader = kind.open(bytes)) {
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
}
