package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.fields;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.MalformedStreamException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Which accessor is valid on which event (the table in {@link MigrationReader}'s javadoc), from
 * every {@link SourceKind}: every accessor is called on every event; a valid one answers, any
 * other throws IllegalStateException saying where it is valid, in these exact words. Also the
 * event constants' ids and traits, and the problem text of an exception kept apart from its
 * location.
 */
final class ReaderAccessorsTest {

    private static final String IN_SECTIONS = "SECTION_START, SECTION_END, FOOTER and the events between them";

    /** The IllegalStateException's message, asserting that one is thrown. */
    static String misuse(Executable call) {
        return assertThrowsExactly(IllegalStateException.class, call).getMessage();
    }

    /** The accessors named in the javadoc table, each with the events it is valid on (null: in a section). */
    private record Accessor(String name, Set<MigrationEvent> validOn, Executable call) {
    }

    private static List<Accessor> accessors(MigrationReader r) {
        Set<MigrationEvent> configuration = EnumSet.of(MigrationEvent.CONFIGURATION);
        Set<MigrationEvent> command = EnumSet.of(MigrationEvent.COMMAND);
        Set<MigrationEvent> blockOrPage = EnumSet.of(MigrationEvent.RAM_BLOCK, MigrationEvent.RAM_PAGE,
                MigrationEvent.ZERO_PAGE);
        Set<MigrationEvent> block = EnumSet.of(MigrationEvent.RAM_BLOCK);
        Set<MigrationEvent> page = EnumSet.of(MigrationEvent.RAM_PAGE, MigrationEvent.ZERO_PAGE);
        Set<MigrationEvent> data = EnumSet.of(MigrationEvent.RAM_PAGE);
        Set<MigrationEvent> zero = EnumSet.of(MigrationEvent.ZERO_PAGE);
        Set<MigrationEvent> field = EnumSet.of(MigrationEvent.FIELD, MigrationEvent.STRUCT_START);
        Set<MigrationEvent> value = EnumSet.of(MigrationEvent.FIELD);
        Set<MigrationEvent> path = EnumSet.of(MigrationEvent.FIELD, MigrationEvent.STRUCT_START,
                MigrationEvent.SUBSECTION);
        Set<MigrationEvent> subsection = EnumSet.of(MigrationEvent.SUBSECTION);
        return List.of(
                new Accessor("recordType()", null, r::recordType),
                new Accessor("sectionId()", null, r::sectionId),
                new Accessor("sectionName()", null, r::sectionName),
                new Accessor("instanceId()", null, r::instanceId),
                new Accessor("sectionVersion()", null, r::sectionVersion),
                new Accessor("machineName()", configuration, r::machineName),
                new Accessor("capabilities()", configuration, r::capabilities),
                new Accessor("targetPageBits()", configuration, r::targetPageBits),
                new Accessor("commandType()", command, r::commandType),
                new Accessor("commandPayload()", command, r::commandPayload),
                new Accessor("blockName()", blockOrPage, r::blockName),
                new Accessor("blockLength()", block, r::blockLength),
                new Accessor("blockPageSize()", block, r::blockPageSize),
                new Accessor("blockMrAddr()", block, r::blockMrAddr),
                new Accessor("pageOffset()", page, r::pageOffset),
                new Accessor("pageSize()", page, r::pageSize),
                new Accessor("fillByte()", zero, r::fillByte),
                new Accessor("isResend()", page, r::isResend),
                new Accessor("pageData()", data, r::pageData),
                new Accessor("pageDataOffset()", data, r::pageDataOffset),
                new Accessor("page()", data, r::page),
                new Accessor("copyPage()", data, () -> r.copyPage(new byte[PAGE], 0)),
                new Accessor("copyPage()", data, () -> r.copyPage(java.nio.ByteBuffer.allocate(PAGE))),
                new Accessor("pageEncoding()", data, r::pageEncoding),
                new Accessor("pageSourceOffset()", data, r::pageSourceOffset),
                new Accessor("fieldName()", field, r::fieldName),
                new Accessor("fieldType()", field, r::fieldType),
                new Accessor("fieldKind()", field, r::fieldKind),
                new Accessor("fieldIndex()", field, r::fieldIndex),
                new Accessor("fieldPath()", path, r::fieldPath),
                new Accessor("fieldSize()", value, r::fieldSize),
                new Accessor("fieldBytes()", value, r::fieldBytes),
                new Accessor("fieldLongValue()", value, r::fieldLongValue),
                new Accessor("fieldBigIntegerValue()", value, r::fieldBigIntegerValue),
                new Accessor("subsectionName()", subsection, r::subsectionName),
                new Accessor("subsectionVersion()", subsection, r::subsectionVersion));
    }

    /** What the message says an accessor is valid on: the events in declaration order. */
    private static String validOn(Set<MigrationEvent> events) {
        if (events == null) {
            return IN_SECTIONS;
        }
        StringJoiner names = new StringJoiner(", ");
        events.forEach(e -> names.add(e.name()));
        return names.toString();
    }

    /** A stream with every event: a configuration, a command, RAM pages, a device with a struct and a subsection. */
    static byte[] everyEvent() {
        StreamBuilder b = stream().configuration("pc").targetPageBits(12).ping(7);
        ramSetup(b, 1, "pc.ram", 0x2000L);
        b.sectionEnd(1).page(0, "pc.ram", pattern(PAGE, 1)).zeroPage(0x1000, null, 0).eos().footer(1);
        b.sectionFull(3, "dev", 0, 1).u8(1).u16(2).subsection("dev/sub", 1).u8(3).footer(3);
        String inner = Json.struct("inner", 1, fields(Json.field("x", "uint16", 2)));
        String sub = Json.struct("dev/sub", 1, fields(Json.field("y", "uint8", 1)));
        return b.eof().description(desc(Json.deviceWithSubsections("dev", 0, 1,
                fields(Json.field("a", "uint8", 1), Json.structField("s", -1, 2, inner)), sub))).toByteArray();
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void everyAccessorOnEveryEventIsValidOrSaysWhereItIs(SourceKind kind) {
        ReadOptions options = ReadOptions.builder().enable(ReadOptions.Feature.TRACK_RESENDS).build();
        Set<MigrationEvent> seen = EnumSet.noneOf(MigrationEvent.class);
        try (MigrationReader reader = kind.open(everyEvent(), options)) {
            List<Accessor> accessors = accessors(reader);
            for (MigrationEvent e = null; e != MigrationEvent.EOF; e = reader.next()) {
                boolean inSection = e != null && e != MigrationEvent.CONFIGURATION && e != MigrationEvent.COMMAND
                        && e != MigrationEvent.EOF;
                String where = e == null ? "before the first next()" : "on " + e;
                for (Accessor accessor : accessors) {
                    boolean valid = accessor.validOn == null ? inSection : accessor.validOn.contains(e);
                    if (valid) {
                        assertDoesNotThrow(accessor.call, accessor.name + " " + where);
                    } else {
                        assertEquals(accessor.name + " is not valid " + where + "; valid on " + validOn(accessor.validOn),
                                misuse(accessor.call));
                    }
                }
                if (e != null) {
                    seen.add(e);
                }
            }
            seen.add(MigrationEvent.EOF);
            for (Accessor accessor : accessors) {
                assertEquals(accessor.name + " is not valid on EOF; valid on " + validOn(accessor.validOn),
                        misuse(accessor.call));
            }
        }
        assertEquals(EnumSet.allOf(MigrationEvent.class), seen, "the stream has every event");
    }

    /** The issue's own example, word for word. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void blockNameOnConfiguration(SourceKind kind) {
        StreamBuilder b = stream().configuration("pc");
        ramSetup(b, 1, "pc.ram", 0x1000L);
        try (MigrationReader reader = kind.open(b.eof().description(desc()).toByteArray())) {
            expect(reader, MigrationEvent.CONFIGURATION);
            assertEquals("blockName() is not valid on CONFIGURATION; valid on RAM_BLOCK, RAM_PAGE, ZERO_PAGE",
                    misuse(reader::blockName));
            assertEquals("sectionName() is not valid on CONFIGURATION; valid on " + IN_SECTIONS,
                    misuse(reader::sectionName));
            expect(reader, MigrationEvent.SECTION_START);
            assertEquals("machineName() is not valid on SECTION_START; valid on CONFIGURATION",
                    misuse(reader::machineName));
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("pageOffset() is not valid on RAM_BLOCK; valid on RAM_PAGE, ZERO_PAGE",
                    misuse(reader::pageOffset));
            assertEquals("fieldName() is not valid on RAM_BLOCK; valid on FIELD, STRUCT_START",
                    misuse(reader::fieldName));
            assertEquals("ram", reader.sectionName());
        }
    }

    /** Before the first next() only the stream-wide accessors answer; they differ by kind where the source does. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void beforeTheFirstEventOnlyStreamWideAccessors(SourceKind kind) {
        byte[] bytes = stream().eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            assertNull(reader.currentEvent());
            assertNull(reader.scope());
            assertEquals("sectionName() is not valid before the first next(); valid on " + IN_SECTIONS,
                    misuse(reader::sectionName));
            assertEquals("skipSection() is not valid before the first next(); valid on " + IN_SECTIONS,
                    misuse(reader::skipSection));
            assertEquals("pageOffset() is not valid before the first next(); valid on RAM_PAGE, ZERO_PAGE",
                    misuse(reader::pageOffset));
            assertEquals("fieldPath() is not valid before the first next(); valid on FIELD, STRUCT_START, SUBSECTION",
                    misuse(reader::fieldPath));
            assertEquals("machineName() is not valid before the first next(); valid on CONFIGURATION",
                    misuse(reader::machineName));
            assertEquals(0, reader.streamStart());
            assertEquals(8, reader.position());
            switch (kind) {
                case MAPPED -> {
                    assertTrue(reader.sourceName().endsWith(".mig"), reader.sourceName());
                    assertEquals(bytes.length, reader.sourceSize());
                    assertTrue(reader.isRandomAccess());
                }
                case HEAP -> {
                    assertEquals("<memory>", reader.sourceName());
                    assertEquals(bytes.length, reader.sourceSize());
                    assertTrue(reader.isRandomAccess());
                }
                case STREAM -> {
                    assertEquals("<stream>", reader.sourceName());
                    assertEquals(-1, reader.sourceSize(), "a stream's size is known once read to its end");
                    assertFalse(reader.isRandomAccess());
                }
            }
            expect(reader, MigrationEvent.EOF);
            assertEquals(bytes.length, reader.sourceSize(), "known at EOF whatever the kind");
            assertNull(reader.scope());
        }
    }

    /** skipSection() outside a section record says so and does not move the cursor. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void skipSectionOutsideASection(SourceKind kind) {
        try (MigrationReader reader = kind.open(stream().configuration("pc").eof().description(desc()).toByteArray())) {
            expect(reader, MigrationEvent.CONFIGURATION);
            long position = reader.position();
            assertEquals("skipSection() is not valid on CONFIGURATION; valid on " + IN_SECTIONS,
                    misuse(reader::skipSection));
            assertEquals(position, reader.position());
            assertEquals(MigrationEvent.CONFIGURATION, reader.currentEvent());
            expect(reader, MigrationEvent.EOF);
        }
    }

    /** On a FIELD, the value accessors check the field's kind too, naming the field. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void valueAccessorsOfTheWrongKindNameTheField(SourceKind kind) {
        byte[] bytes = stream().sectionFull(3, "dev", 0, 1).bytes(1, 2, 3).u8(1).bytes(new byte[16]).footer(3).eof()
                .description(desc(Json.device("dev", 0, 1, Json.field("buf", "buffer", 3),
                        Json.field("on", "bool", 1), Json.field("wide", "uint64", 16)))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.FIELD);
            assertEquals("fieldLongValue() is not valid on field 'buf': it is not an integer of up to 8 bytes",
                    misuse(reader::fieldLongValue));
            assertEquals("fieldBigIntegerValue() is not valid on field 'buf': it is not an integer",
                    misuse(reader::fieldBigIntegerValue));
            assertEquals("fieldBooleanValue() is not valid on field 'buf': it is not a bool",
                    misuse(reader::fieldBooleanValue));
            assertEquals("fieldStringValue() is not valid on field 'buf': it is not a capability",
                    misuse(reader::fieldStringValue));
            expect(reader, MigrationEvent.FIELD);
            assertTrue(reader.fieldBooleanValue());
            assertEquals("fieldLongValue() is not valid on field 'on': it is not an integer of up to 8 bytes",
                    misuse(reader::fieldLongValue));
            expect(reader, MigrationEvent.FIELD);
            assertEquals(FieldKind.UNSIGNED, reader.fieldKind());
            assertEquals(java.math.BigInteger.ZERO, reader.fieldBigIntegerValue());
            assertEquals("fieldLongValue() is not valid on field 'wide': it is not an integer of up to 8 bytes",
                    misuse(reader::fieldLongValue));
        }
    }

    /** bytesAt() reads the source again: a file or an array can, a stream cannot. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void bytesAtOnlyOnRandomAccessSources(SourceKind kind) {
        byte[] bytes = stream().eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.EOF);
            if (kind == SourceKind.STREAM) {
                assertEquals("bytesAt() needs a random-access source (a file, not a stream)",
                        misuse(() -> reader.bytesAt(0, 4)));
                return;
            }
            assertEquals("5145564d", ReaderTests.hex(reader.bytesAt(0, 4)), "QEMU_VM_FILE_MAGIC");
            assertEquals("00000003", ReaderTests.hex(reader.bytesAt(4, 4)), "QEMU_VM_FILE_VERSION");
            assertEquals(0, reader.bytesAt(bytes.length, 0).byteSize());
            assertEquals("range 1+" + bytes.length + " outside the " + bytes.length + "-byte source",
                    assertThrowsExactly(IllegalArgumentException.class, () -> reader.bytesAt(1, bytes.length))
                            .getMessage());
            assertEquals("range -1+1 outside the " + bytes.length + "-byte source",
                    assertThrowsExactly(IllegalArgumentException.class, () -> reader.bytesAt(-1, 1)).getMessage());
        }
    }

    // ------------------------------------------------------------------ the exception's problem text

    /**
     * problem() is the text the check wrote, kept apart from the location getMessage() puts
     * before it: a section whose name holds ": " must not cut it (REVIEW.md's bug).
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void problemIsKeptApartFromTheLocationWhateverTheSectionName(SourceKind kind) {
        StreamBuilder b = stream().sectionFull(3, "a: b", 0, 1);
        long fieldAt = b.position();
        byte[] bytes = b.u8('1').footer(3).eof()
                .description(desc(Json.device("a: b", 0, 1, Json.field("p", "nullptr", 1)))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class, reader::next);
            String problem = "expected the nullptr marker '0' (0x30) for field 'p', found 0x31";
            assertEquals(problem, e.problem());
            assertEquals("at byte 0x" + Long.toHexString(fieldAt) + " (" + fieldAt + "), section 'a: b' #3: " + problem,
                    e.getMessage());
            assertEquals(fieldAt, e.eventOffset());
            assertEquals(fieldAt + 1, e.position());
            assertEquals("a: b", e.sectionName());
            assertEquals(3, e.sectionId());
            assertEquals("FIELD", e.event());
        }
    }

    // ------------------------------------------------------------------ the event constants

    @Test
    void eventIdsAreDenseAndMirroredInMigrationEventId() throws Exception {
        for (MigrationEvent e : MigrationEvent.values()) {
            assertEquals(e.ordinal(), e.id(), e.name());
            assertEquals(e.id(), MigrationEventId.class.getField("ID_" + e.name()).getInt(null), e.name());
        }
        assertEquals(MigrationEvent.values().length, MigrationEventId.class.getFields().length,
                "one id for each event, no more");
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

    /** The traits hold on a real stream: every scope an event opens, a later one closes, innermost first. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void openingAndClosingEventsNestOnARealStream(SourceKind kind) {
        List<MigrationEvent> open = new ArrayList<>();
        try (MigrationReader reader = kind.open(everyEvent())) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e.opensScope()) {
                    open.add(e);
                } else if (e.closesScope()) {
                    MigrationEvent opened = open.removeLast();
                    assertEquals(switch (opened) {
                        case SECTION_START -> MigrationEvent.SECTION_END;
                        case STRUCT_START -> MigrationEvent.STRUCT_END;
                        default -> MigrationEvent.SUBSECTION_END;
                    }, e, "closes " + opened);
                    // a struct's or subsection's end is in the scope around it; SECTION_END in the section's own
                    assertEquals(e == MigrationEvent.SECTION_END ? 0 : open.size() - 1, reader.scope().depth(),
                            "depth on " + e);
                }
            }
        }
        assertEquals(List.of(), open);
    }

    @Test
    void recordTypesAreQemuConstants() {
        assertEquals(0x01, RecordType.START.wireValue());
        assertEquals(0x02, RecordType.PART.wireValue());
        assertEquals(0x03, RecordType.END.wireValue());
        assertEquals(0x04, RecordType.FULL.wireValue());
        assertTrue(RecordType.START.hasHeader());
        assertTrue(RecordType.FULL.hasHeader());
        assertFalse(RecordType.PART.hasHeader());
        assertFalse(RecordType.END.hasHeader());
    }
}
