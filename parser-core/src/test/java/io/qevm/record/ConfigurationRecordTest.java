package io.qevm.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadLimits;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ConfigurationRecord}: QEMU_VM_CONFIGURATION (migration/savevm.c
 * {@code vmstate_configuration}), read by its known layout (QEMU 7.2, or a stream whose
 * description has not arrived) or, when the JSON describes it (QEMU 8.2+), as a device's fields.
 */
final class ConfigurationRecordTest {

    private static final byte[] UUID = StreamBuilder.pattern(16, 1);

    /** The record after its type byte (at offset 1), by its layout. */
    private static RecordTesting.Cursor readLayout(byte[] bytes, boolean stream, ConfigurationRecord[] into,
                                                   ReadLimits limits) {
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        c.at().startEvent(MigrationEvent.CONFIGURATION);
        c.in().u8();
        ConfigurationRecord record = new ConfigurationRecord(c.in(), c.at(), limits);
        into[0] = record;
        record.read(null, null);
        return c;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theLayoutWithEverySubsection(boolean stream) {
        StreamBuilder b = StreamBuilder.empty().configuration("pc-q35-9.2").targetPageBits(12)
                .capabilities("x-ignore-shared", "mapped-ram").uuid(UUID);
        long end = b.position();
        ConfigurationRecord[] record = new ConfigurationRecord[1];
        RecordTesting.Cursor c = readLayout(b.eof().toByteArray(), stream, record, ReadLimits.DEFAULT);
        assertEquals("pc-q35-9.2", record[0].machineName());
        assertEquals(12, record[0].targetPageBits());
        assertEquals(List.of("x-ignore-shared", "mapped-ram"), record[0].capabilities());
        assertTrue(record[0].has("mapped-ram"));
        assertFalse(record[0].has("xbzrle"));
        assertEquals(end, c.in().position(), "at the next record");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theNameAlone(boolean stream) {
        ConfigurationRecord[] record = new ConfigurationRecord[1];
        RecordTesting.Cursor c = readLayout(StreamBuilder.empty().configuration("pc-i440fx-7.2").sectionStart(2, "ram",
                0, 4).toByteArray(), stream, record, ReadLimits.DEFAULT);
        assertEquals("pc-i440fx-7.2", record[0].machineName());
        assertEquals(-1, record[0].targetPageBits());
        assertEquals(List.of(), record[0].capabilities());
        assertEquals(1 + 4 + 13, c.in().position());
    }

    @Test
    void anUnknownSubsection() {
        StreamBuilder b = StreamBuilder.empty().configuration("pc").targetPageBits(12);
        long subsection = b.position();
        b.subsection("configuration/foo", 1);
        long after = b.position();
        byte[] bytes = b.u32(7).eof().toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> readLayout(bytes, false, new ConfigurationRecord[1], ReadLimits.DEFAULT));
        assertEquals("expected a configuration subsection (target-page-bits, capabilities, uuid), found"
                + " 'configuration/foo'", e.problem());
        assertEquals(subsection, e.eventOffset(), "the subsection");
        assertEquals(after, e.position(), "after its name and version");
        assertEquals("CONFIGURATION", e.event());
    }

    @Test
    void theLimits() {
        byte[] longName = StreamBuilder.empty().u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(5000).zeros(5000).eof()
                .toByteArray();
        LimitExceededException name = assertThrows(LimitExceededException.class,
                () -> readLayout(longName, false, new ConfigurationRecord[1], ReadLimits.DEFAULT));
        assertEquals("too many bytes in the machine name: 5000, over the limit of 4096 (see ReadLimits)", name.problem());
        assertEquals(0, name.eventOffset());
        assertEquals(5, name.position(), "after the length, before the name");

        byte[] caps = StreamBuilder.empty().configuration("pc").capabilities("a", "b", "c").eof().toByteArray();
        ReadLimits two = ReadLimits.builder().maxCapabilities(2).build();
        LimitExceededException count = assertThrows(LimitExceededException.class,
                () -> readLayout(caps, false, new ConfigurationRecord[1], two));
        assertEquals("too many capabilities: 3, over the limit of 2 (see ReadLimits)", count.problem());
        readLayout(caps, false, new ConfigurationRecord[1], ReadLimits.builder().maxCapabilities(3).build());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cutShort(boolean stream) {
        byte[] name = StreamBuilder.empty().u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(20).bytes(new byte[5])
                .toByteArray();
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> readLayout(name, stream, new ConfigurationRecord[1], ReadLimits.DEFAULT));
        assertEquals("expected 20 bytes of machine name, found " + RecordTesting.end(stream, 10), e.problem());
        byte[] capability = StreamBuilder.empty().configuration("pc").subsection("configuration/capabilities", 1).u32(2)
                .str8("mapped-ram").u8(10).bytes(new byte[3]).toByteArray();
        TruncatedInputException c = assertThrows(TruncatedInputException.class,
                () -> readLayout(capability, stream, new ConfigurationRecord[1], ReadLimits.DEFAULT));
        assertEquals("expected 10 bytes of name, found " + RecordTesting.end(stream, capability.length), c.problem());
    }

    // ------------------------------------------------------------------ through the reader

    private static final String TARGET_PAGE_BITS = Json.struct("configuration/target-page-bits", 1,
            new String[] {Json.field("target_page_bits", "uint32", 4)});
    private static final String CAPABILITIES = Json.struct("configuration/capabilities", 1,
            new String[] {Json.field("caps_count", "uint32", 4), Json.arrayField("capabilities", "capability", 16, 2)});

    private static byte[] stream(String description, int bits) {
        return StreamBuilder.stream().configuration("pc-q35-9.2").targetPageBits(bits)
                .capabilities("x-ignore-shared", "validate-uuid").eof().description(description).toByteArray();
    }

    /**
     * QEMU 8.2+ describes the record in the JSON: on a file it is read through the description,
     * on a stream (whose description comes last) by its layout; the reader tells the same.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void describedOrNotTheSame(SourceKind kind) {
        String described = Json.descriptionWithConfiguration(4096, Json.configuration("pc-q35-9.2", TARGET_PAGE_BITS,
                CAPABILITIES));
        for (String description : new String[] {Json.description(4096), described}) {
            try (MigrationReader reader = kind.open(stream(description, 12))) {
                assertEquals(MigrationEvent.CONFIGURATION, reader.next());
                assertEquals(8, reader.eventOffset());
                assertEquals("pc-q35-9.2", reader.machineName());
                assertEquals(12, reader.targetPageBits());
                assertEquals(List.of("x-ignore-shared", "validate-uuid"), reader.capabilities());
                assertEquals(4096, reader.ramPageSize());
                assertEquals(MigrationEvent.EOF, reader.next());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void targetPageBitsGiveThePageSize(SourceKind kind) {
        byte[] bytes = StreamBuilder.stream().configuration("versatilepb").targetPageBits(10).eof()
                .description(Json.description(1024)).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            reader.next();
            assertEquals(1024, reader.ramPageSize());
        }
    }

    /** Bits outside 9..20 are refused on every source, whether or not a description gave the page size first. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void targetPageBitsOutOfRange(SourceKind kind) {
        for (int bits : new int[] {8, 21, 64}) {
            byte[] bytes = stream(Json.description(4096), bits);
            MalformedStreamException e = assertThrows(MalformedStreamException.class,
                    () -> RecordTesting.events(kind, bytes), kind + " bits " + bits);
            assertEquals("expected target-page-bits from 9 to 20, found " + bits, e.problem());
            assertEquals(8, e.eventOffset());
            assertEquals("CONFIGURATION", e.event());
        }
    }

    /** Described: the stream must carry the subsections the JSON lists, in its order. */
    @Test
    void aDescribedSubsectionMissing() {
        String described = Json.descriptionWithConfiguration(4096, Json.configuration("pc-q35-9.2", TARGET_PAGE_BITS,
                CAPABILITIES));
        StreamBuilder b = StreamBuilder.stream().configuration("pc-q35-9.2").targetPageBits(12);
        long missing = b.position();
        byte[] bytes = b.eof().description(described).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> RecordTesting.events(SourceKind.HEAP, bytes));
        assertEquals("expected subsection 'configuration/capabilities' (QEMU_VM_SUBSECTION 0x05), found 0x0",
                e.problem());
        assertEquals(missing, e.eventOffset());
    }
}
