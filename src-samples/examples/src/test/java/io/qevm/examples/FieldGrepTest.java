package io.qevm.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.Samples;
import io.qevm.consume.MigrationConsumer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/** FieldGrep against the reference script's -d state output of the samples (expected/state.json). */
class FieldGrepTest {

    private static String grep(String sample, String regex) throws IOException {
        return Printed.by(out -> FieldGrep.grep(Samples.dump(sample), Pattern.compile(regex), out));
    }

    @Test
    void findsTheResetVectorOfAPausedPc() throws IOException {
        // expected/state.json: "cpu (5)": { ... "env.eip": "0x000000000000fff0" ... }
        assertEquals("cpu (5) / env.eip = 0x000000000000fff0\n", grep("a-pc-paused", "^env\\.eip$"));
        // "eip" also names the sysenter MSR
        assertEquals("""
                cpu (5) / env.eip = 0x000000000000fff0
                cpu (5) / env.sysenter_eip = 0x0000000000000000
                """, grep("a-pc-paused", "eip"));
    }

    @Test
    void pathsGoThroughStructsArraysAndSubsections() throws IOException {
        // env.segs is an array of structs (CS, segs[1], is f000 at reset), env.ldt... plain
        // structs; piix4_pm's sits in a subsection and a struct
        assertEquals("""
                cpu (5) / env.segs[0] / selector = 0x00000000
                cpu (5) / env.segs[1] / selector = 0x0000f000
                cpu (5) / env.segs[2] / selector = 0x00000000
                cpu (5) / env.segs[3] / selector = 0x00000000
                cpu (5) / env.segs[4] / selector = 0x00000000
                cpu (5) / env.segs[5] / selector = 0x00000000
                cpu (5) / env.ldt / selector = 0x00000000
                cpu (5) / env.tr / selector = 0x00000000
                cpu (5) / env.gdt / selector = 0x00000000
                cpu (5) / env.idt / selector = 0x00000000
                0000:00:01.3/piix4_pm (30) / piix4_pm/memhp / acpi_memory_hotplug / selector = 0x00000000
                """, grep("a-pc-paused", "^selector$"));
        // a subsection: state.json "cpu/poll_control_msr": {"env.poll_control_msr": ...}
        assertEquals("cpu (5) / cpu/poll_control_msr / env.poll_control_msr = 0x0000000000000000\n",
                grep("a-pc-paused", "poll_control"));
        // a negative signed field gets its decimal value too, as in state.json
        assertEquals("cpu (5) / env.a20_mask = 0xffffffff (-1)\n", grep("a-pc-paused", "a20_mask"));
        // bools
        assertEquals("0000:00:01.3/piix4_pm (30) / smb / op_done = true\n", grep("a-pc-paused", "^op_done$"));
    }

    @Test
    void numbersTheLastElementOfQemu10SplitArrays() throws IOException {
        // QEMU 10 describes bmdma as {index 0} then an entry with no index: still element 1
        assertEquals("""
                0000:00:01.1/ide (14) / bmdma[0] / cmd = 0x00
                0000:00:01.1/ide (14) / bmdma[1] / cmd = 0x00
                """, grep("n-pc-paused", "^cmd$").lines().filter(line -> line.contains("bmdma"))
                        .map(line -> line + "\n").reduce("", String::concat));
    }

    @Test
    void printsNothingWhenNothingMatches() throws IOException {
        assertEquals("", grep("a-pc-paused", "no-such-field"));
    }

    /** Every sample with a reference state.json and a dump. */
    static Stream<String> samplesWithState() throws IOException {
        try (Stream<Path> folders = Files.list(Samples.root())) {
            return folders.map(folder -> folder.getFileName().toString())
                    .filter(name -> expectedState(name) != null && hasDump(name))
                    .sorted().toList().stream();
        }
    }

    /** The sample's expected/state.json, or its .xz; null when it has neither. */
    private static Path expectedState(String name) {
        Path expected = Samples.root().resolve(name).resolve("expected");
        return Stream.of("state.json", "state.json.xz").map(expected::resolve).filter(Files::exists)
                .findFirst().orElse(null);
    }

    private static boolean hasDump(String name) {
        Path folder = Samples.root().resolve(name);
        return Files.exists(folder.resolve(name + ".mig")) || Files.exists(folder.resolve(name + ".mig.xz"));
    }

    /**
     * Grepping for every field ({@code .}) prints the reference's whole device state, one leaf a
     * line, in its order: FieldGrep's paths and values are those of analyze-migration.py.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("samplesWithState")
    void everyFieldIsTheReferenceStateFlattened(String sample) throws IOException {
        List<String> expected = flatten(Samples.read(expectedState(sample)));
        assertTrue(expected.size() > 1000, "state.json of " + sample + " has " + expected.size() + " fields");
        List<String> got = grep(sample, ".").lines().toList();
        for (int i = 0; i < Math.min(expected.size(), got.size()); i++) {
            assertEquals(expected.get(i), got.get(i), sample + ": line " + (i + 1));
        }
        assertEquals(expected.size(), got.size(), sample + ": lines");
    }

    /**
     * The reader's own spelling of where a field is, {@link MigrationReader#fieldPath()}, names
     * the same scopes FieldGrep walks: joined with {@code /} and without the section id, it is
     * FieldGrep's path (on every field, struct and subsection of a sample with structs, arrays of
     * structs and subsections).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"a-pc-paused", "n-q35-devices"})
    void fieldPathNamesTheSameScopes(String sample) throws IOException {
        long[] checked = new long[1];
        try (MigrationReader reader = MigrationReader.open(Samples.dump(sample))) {
            MigrationConsumer.drive(reader, (event, r) -> {
                if (event != MigrationEvent.FIELD) {
                    return;
                }
                String section = r.sectionName() + " (" + r.sectionId() + ")";
                String path = FieldGrep.path(r);
                assertTrue(path.startsWith(section), path);
                String index = r.fieldIndex() < 0 ? "" : "[" + r.fieldIndex() + "]";
                assertEquals(r.sectionName() + path.substring(section.length()).replace(" / ", "/") + "/"
                        + r.fieldName() + index, r.fieldPath());
                checked[0]++;
            });
        }
        assertTrue(checked[0] > 1000, "fields checked: " + checked[0]);
    }

    /**
     * The reference's state.json as FieldGrep prints it: {@code section / key / key[i] = value}
     * per leaf, without the RAM sections (block sizes, not fields) and the sections printed as
     * {@code ""} (spapr/htab: no fields).
     */
    private static List<String> flatten(byte[] json) {
        List<String> lines = new ArrayList<>();
        try (JsonParser parser = JsonFactory.builder().build().createParser(ObjectReadContext.empty(), json)) {
            assertEquals(JsonToken.START_OBJECT, parser.nextToken());
            while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                String section = parser.currentName();
                JsonToken value = parser.nextToken();
                if (section.startsWith("ram (") || value != JsonToken.START_OBJECT) {
                    parser.skipChildren();
                } else {
                    flattenObject(parser, section, lines);
                }
            }
        }
        return lines;
    }

    private static void flattenObject(JsonParser parser, String path, List<String> lines) {
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String key = path + " / " + parser.currentName();
            if (parser.nextToken() == JsonToken.START_ARRAY) {
                int index = 0;
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    flattenValue(parser, key + "[" + index++ + "]", lines);
                }
            } else {
                flattenValue(parser, key, lines);
            }
        }
    }

    private static void flattenValue(JsonParser parser, String path, List<String> lines) {
        switch (parser.currentToken()) {
            case START_OBJECT -> flattenObject(parser, path, lines);
            case VALUE_STRING -> lines.add(path + " = " + parser.getString());
            case VALUE_TRUE, VALUE_FALSE -> lines.add(path + " = " + parser.getBooleanValue());
            default -> throw new AssertionError(path + ": unexpected " + parser.currentToken() + " in state.json");
        }
    }
}
