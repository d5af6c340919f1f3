package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.fields;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.qevm.StreamBuilder.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The nesting context, as jackson-core's {@code streamReadContext()}: {@link MigrationReader#scope()}
 * (kind, name, index, parent, depth, path, a consumer's value) and
 * {@link MigrationReader#fieldPath()}, from every {@link SourceKind}. Scopes are compared as
 * one-line traces ({@link #scopes}), as the events are in {@link MigrationReaderTest}.
 */
final class ReaderScopeTest {

    /**
     * Device {@code cpu}: {@code halted}, then {@code env}, an array of two structs each with
     * {@code regs[4]} and {@code eflags}, then subsection {@code cpu/msr} with {@code msr}.
     * Each value is its own number, so a misplaced field shows.
     */
    static byte[] cpu() {
        return cpuSection(stream(), 7).eof().description(desc(cpuDevice(0))).toByteArray();
    }

    /** The {@code cpu} section (instance 0 for id 7, else 1), FULL, with its footer. */
    static StreamBuilder cpuSection(StreamBuilder b, long id) {
        b.sectionFull(id, "cpu", id == 7 ? 0 : 1, 1).u32(1);
        for (int element = 0; element < 2; element++) {
            for (int reg = 0; reg < 4; reg++) {
                b.u32(10 * (element + 1) + reg);
            }
            b.u32(100 + element);
        }
        return b.subsection("cpu/msr", 1).u64(0x1234).footer(id);
    }

    static String cpuDevice(long instance) {
        String env = Json.struct("env", 1, fields(Json.arrayField("regs", "uint32", 4, 4),
                Json.field("eflags", "uint32", 4)));
        String msr = Json.struct("cpu/msr", 1, fields(Json.field("msr", "uint64", 8)));
        String[] fields = fields(Json.field("halted", "uint32", 4),
                "{\"name\": \"env\", \"array_len\": 2, \"type\": \"struct\", \"struct\": " + env + ", \"size\": 20}");
        return Json.deviceWithSubsections("cpu", instance, 1, fields, msr);
    }

    /**
     * Every event with its scope: {@code EVENT [fieldPath] | KIND path depth=N index=I}, or
     * {@code | -} outside sections.
     */
    static List<String> scopes(SourceKind kind, byte[] bytes) {
        List<String> lines = new ArrayList<>();
        try (MigrationReader reader = kind.open(bytes)) {
            for (MigrationEvent e = reader.next(); ; e = reader.next()) {
                String path = switch (e) {
                    case FIELD, STRUCT_START, SUBSECTION -> " " + reader.fieldPath();
                    default -> "";
                };
                ReadScope scope = reader.scope();
                lines.add(e + path + " | " + (scope == null ? "-" : scope.kind() + " " + scope.path()
                        + " depth=" + scope.depth() + " index=" + scope.index()));
                if (e == MigrationEvent.EOF) {
                    return lines;
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void fieldPathAndScopeOfEveryEvent(SourceKind kind) {
        List<String> expected = new ArrayList<>(List.of(
                "SECTION_START | SECTION cpu depth=0 index=-1",
                "FIELD cpu/halted | SECTION cpu depth=0 index=-1"));
        for (int element = 0; element < 2; element++) {
            String env = "cpu/env[" + element + "]";
            String in = " | STRUCT " + env + " depth=1 index=" + element;
            expected.add("STRUCT_START " + env + in);
            for (int reg = 0; reg < 4; reg++) {
                expected.add("FIELD " + env + "/regs[" + reg + "]" + in);
            }
            expected.add("FIELD " + env + "/eflags" + in);
            expected.add("STRUCT_END | SECTION cpu depth=0 index=-1");
        }
        // a subsection's scope is named as the stream names it, "cpu/msr": its path repeats the section
        expected.addAll(List.of(
                "SUBSECTION cpu/cpu/msr | SUBSECTION cpu/cpu/msr depth=1 index=-1",
                "FIELD cpu/cpu/msr/msr | SUBSECTION cpu/cpu/msr depth=1 index=-1",
                "SUBSECTION_END | SECTION cpu depth=0 index=-1",
                "SECTION_END | SECTION cpu depth=0 index=-1",
                "FOOTER | SECTION cpu depth=0 index=-1",
                "EOF | -"));
        assertEquals(expected, scopes(kind, cpu()));
    }

    /** The example: the path of an array element inside an array element. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void registerThreeOfTheSecondEnv(SourceKind kind) {
        try (MigrationReader reader = kind.open(cpu())) {
            for (int i = 0; i < 9; i++) {
                reader.next();
            }
            expect(reader, MigrationEvent.STRUCT_START);
            assertEquals("cpu/env[1]", reader.fieldPath());
            assertEquals("env", reader.fieldName());
            assertEquals(1, reader.fieldIndex());
            for (int reg = 0; reg < 4; reg++) {
                expect(reader, MigrationEvent.FIELD);
            }
            assertEquals("cpu/env[1]/regs[3]", reader.fieldPath());
            assertEquals(23, reader.fieldLongValue());
            ReadScope env = reader.scope();
            assertEquals(ReadScope.Kind.STRUCT, env.kind());
            assertEquals("env", env.name());
            assertEquals(1, env.index());
            assertEquals(1, env.depth());
            assertEquals("cpu/env[1]", env.path());
            ReadScope cpu = env.parent();
            assertEquals(ReadScope.Kind.SECTION, cpu.kind());
            assertEquals("cpu", cpu.name());
            assertEquals(-1, cpu.index());
            assertEquals(0, cpu.depth());
            assertEquals("cpu", cpu.path());
            assertNull(cpu.parent());
        }
    }

    /** Structs and subsections inside each other: each level's path, depth and parent. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void subsectionsInsideStructsAndSubsections(SourceKind kind) {
        String structBody = Json.struct("inner", 1, fields(Json.field("x", "uint16", 2)),
                Json.struct("inner/sub", 1, fields(Json.field("y", "uint8", 1))));
        String sub = Json.struct("dev/sub", 1, fields(Json.field("z", "uint8", 1)),
                Json.struct("dev/sub/deeper", 1, fields(Json.structField("t", 4, 2, structBody))));
        byte[] bytes = stream().sectionFull(3, "dev", 0, 1).u16(1).subsection("inner/sub", 1).u8(2)
                .subsection("dev/sub", 1).u8(3).subsection("dev/sub/deeper", 1).u16(4).subsection("inner/sub", 1).u8(5)
                .footer(3).eof().description(desc(Json.deviceWithSubsections("dev", 0, 1,
                        fields(Json.structField("s", -1, 2, structBody)), sub))).toByteArray();
        assertEquals(List.of(
                "SECTION_START | SECTION dev depth=0 index=-1",
                "STRUCT_START dev/s | STRUCT dev/s depth=1 index=-1",
                "FIELD dev/s/x | STRUCT dev/s depth=1 index=-1",
                "SUBSECTION dev/s/inner/sub | SUBSECTION dev/s/inner/sub depth=2 index=-1",
                "FIELD dev/s/inner/sub/y | SUBSECTION dev/s/inner/sub depth=2 index=-1",
                "SUBSECTION_END | STRUCT dev/s depth=1 index=-1",
                "STRUCT_END | SECTION dev depth=0 index=-1",
                "SUBSECTION dev/dev/sub | SUBSECTION dev/dev/sub depth=1 index=-1",
                "FIELD dev/dev/sub/z | SUBSECTION dev/dev/sub depth=1 index=-1",
                "SUBSECTION dev/dev/sub/dev/sub/deeper | SUBSECTION dev/dev/sub/dev/sub/deeper depth=2 index=-1",
                "STRUCT_START dev/dev/sub/dev/sub/deeper/t[4] | STRUCT dev/dev/sub/dev/sub/deeper/t[4] depth=3 index=4",
                "FIELD dev/dev/sub/dev/sub/deeper/t[4]/x | STRUCT dev/dev/sub/dev/sub/deeper/t[4] depth=3 index=4",
                "SUBSECTION dev/dev/sub/dev/sub/deeper/t[4]/inner/sub"
                        + " | SUBSECTION dev/dev/sub/dev/sub/deeper/t[4]/inner/sub depth=4 index=-1",
                "FIELD dev/dev/sub/dev/sub/deeper/t[4]/inner/sub/y"
                        + " | SUBSECTION dev/dev/sub/dev/sub/deeper/t[4]/inner/sub depth=4 index=-1",
                "SUBSECTION_END | STRUCT dev/dev/sub/dev/sub/deeper/t[4] depth=3 index=4",
                "STRUCT_END | SUBSECTION dev/dev/sub/dev/sub/deeper depth=2 index=-1",
                "SUBSECTION_END | SUBSECTION dev/dev/sub depth=1 index=-1",
                "SUBSECTION_END | SECTION dev depth=0 index=-1",
                "SECTION_END | SECTION dev depth=0 index=-1",
                "FOOTER | SECTION dev depth=0 index=-1",
                "EOF | -"), scopes(kind, bytes));
    }

    /**
     * No scope outside section records (before the first event, CONFIGURATION, COMMAND, EOF);
     * the RAM section and an opaque iterative section are one SECTION scope from their
     * SECTION_START to their footer, every part of them.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void scopesOfRamAndIterativeSectionsAndNoneBetweenRecords(SourceKind kind) {
        StreamBuilder b = stream().configuration("pc").targetPageBits(12).ping(1);
        ramSetup(b, 2, "pc.ram", 0x2000L);
        b.sectionPart(2).page(0, "pc.ram", pattern(PAGE, 1)).zeroPage(0x1000, null, 0).eos().footer(2);
        b.sectionStart(12, "spapr/htab", 0, 1).u32(-1).footer(12);
        byte[] bytes = b.switchoverStart().eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            assertNull(reader.scope(), "before the first next()");
        }
        String ram = " | SECTION ram depth=0 index=-1";
        String htab = " | SECTION spapr/htab depth=0 index=-1";
        assertEquals(List.of("CONFIGURATION | -", "COMMAND | -",
                "SECTION_START" + ram, "RAM_BLOCK" + ram, "SECTION_END" + ram, "FOOTER" + ram,
                "SECTION_START" + ram, "RAM_PAGE" + ram, "ZERO_PAGE" + ram, "SECTION_END" + ram, "FOOTER" + ram,
                "SECTION_START" + htab, "SECTION_END" + htab, "FOOTER" + htab,
                "COMMAND | -", "EOF | -"), scopes(kind, bytes));
    }

    /**
     * A consumer's value stays with its scope while the scope is open, is seen through
     * {@link ReadScope#parent()} from inside, and is cleared when a scope is opened again at
     * that level (the next array element, the next section; the footer opens its section's
     * scope afresh).
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void currentValueLivesWithItsScopeAndIsClearedOnReopen(SourceKind kind) {
        byte[] two = stream().sectionFull(7, "cpu", 0, 1).u32(1).footer(7).sectionFull(8, "cpu", 1, 1).u32(2)
                .footer(8).eof().description(desc(Json.device("cpu", 0, 1, Json.field("halted", "uint32", 4)),
                        Json.device("cpu", 1, 1, Json.field("halted", "uint32", 4)))).toByteArray();
        try (MigrationReader reader = kind.open(cpu())) {
            expect(reader, MigrationEvent.SECTION_START);
            ReadScope section = reader.scope();
            assertNull(section.currentValue());
            section.setCurrentValue("cpu object");
            expect(reader, MigrationEvent.FIELD);
            assertEquals("cpu object", reader.scope().currentValue());
            expect(reader, MigrationEvent.STRUCT_START);
            assertNull(reader.scope().currentValue(), "a struct opened: its own value, none yet");
            reader.scope().setCurrentValue("env[0] object");
            assertEquals("cpu object", reader.scope().parent().currentValue());
            expect(reader, MigrationEvent.FIELD);
            assertEquals("env[0] object", reader.scope().currentValue());
            for (int i = 0; i < 4; i++) {
                reader.next();
            }
            expect(reader, MigrationEvent.STRUCT_END);
            assertEquals("cpu object", reader.scope().currentValue(), "back in the section");
            expect(reader, MigrationEvent.STRUCT_START);
            assertEquals(1, reader.scope().index());
            assertNull(reader.scope().currentValue(), "env[1] is a new scope at the same level");
            assertEquals("cpu object", reader.scope().parent().currentValue());
            for (int i = 0; i < 6; i++) {
                reader.next();
            }
            expect(reader, MigrationEvent.SUBSECTION);
            assertNull(reader.scope().currentValue(), "a subsection at env's level: cleared too");
            reader.scope().setCurrentValue("msr object");
            expect(reader, MigrationEvent.FIELD);
            expect(reader, MigrationEvent.SUBSECTION_END);
            assertEquals("cpu object", reader.scope().currentValue());
            expect(reader, MigrationEvent.SECTION_END);
            assertEquals("cpu object", reader.scope().currentValue());
            expect(reader, MigrationEvent.FOOTER);
            assertEquals(ReadScope.Kind.SECTION, reader.scope().kind());
            assertEquals("cpu", reader.scope().name());
            assertEquals("cpu object", reader.scope().currentValue(), "the footer is in the record's own scope");
        }
        try (MigrationReader reader = kind.open(two)) {
            expect(reader, MigrationEvent.SECTION_START);
            reader.scope().setCurrentValue("cpu 0");
            expect(reader, MigrationEvent.FIELD);
            expect(reader, MigrationEvent.SECTION_END);
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.SECTION_START);
            assertEquals(1, reader.instanceId());
            assertNull(reader.scope().currentValue(), "the next section's scope starts empty");
        }
    }

    /**
     * skipSection() from deep inside (a field of a struct) leaves every inner scope: at
     * SECTION_END the scope is the section's, and the next section starts at depth 0.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void skipSectionFromInsideAStructLeavesItsScopes(SourceKind kind) {
        StreamBuilder b = cpuSection(cpuSection(stream(), 7), 8);
        byte[] bytes = b.eof().description(desc(cpuDevice(0), cpuDevice(1))).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            for (int i = 0; i < 4; i++) {
                reader.next();
            }
            assertEquals("cpu/env[0]/regs[0]", reader.fieldPath());
            assertEquals(MigrationEvent.SECTION_END, reader.skipSection());
            assertEquals(ReadScope.Kind.SECTION, reader.scope().kind());
            assertEquals(0, reader.scope().depth());
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.SECTION_START);
            assertEquals(8, reader.sectionId());
            assertEquals("cpu", reader.scope().path());
            assertEquals(0, reader.scope().depth());
            expect(reader, MigrationEvent.FIELD);
            assertEquals("cpu/halted", reader.fieldPath());
            expect(reader, MigrationEvent.STRUCT_START);
            assertEquals("cpu/env[0]", reader.fieldPath());
            assertEquals(1, reader.scope().depth());
        }
    }

    /** The scope handed out on STRUCT_START is the parent seen from inside it, while it is open. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void parentIsTheScopeThatWasOpened(SourceKind kind) {
        try (MigrationReader reader = kind.open(cpu())) {
            expect(reader, MigrationEvent.SECTION_START);
            ReadScope section = reader.scope();
            expect(reader, MigrationEvent.FIELD);
            assertSame(section, reader.scope());
            expect(reader, MigrationEvent.STRUCT_START);
            assertSame(section, reader.scope().parent());
            expect(reader, MigrationEvent.FIELD);
            assertSame(section, reader.scope().parent());
        }
    }
}
