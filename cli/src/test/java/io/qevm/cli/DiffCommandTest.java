package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * {@code qevm diff}: a dump against itself, two snapshots of one qcow2 image, two live XBZRLE
 * dumps (RAM runs checked against the pages {@code -x} extracts, compared here page by page),
 * a built pair whose differences are known field by field, and the failures (exit 2).
 */
final class DiffCommandTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final int PAGE = 4096;
    private static final Pattern RANGE = Pattern.compile(
            "ram (.*): pages? 0x([0-9a-f]+)(?:-0x([0-9a-f]+))? differs? \\(offsets 0x([0-9a-f]+)-0x([0-9a-f]+)\\)");

    @TempDir
    Path work;

    private CliRun run(String... args) {
        return CliRun.inProcess(work, TIMEOUT, args);
    }

    private static List<String> lines(CliRun result) {
        return new String(result.out(), UTF_8).lines().toList();
    }

    @Test
    void aDumpAgainstItselfIsTheSame() {
        String dump = Samples.dump("c-pc-loader-data").toString();
        CliRun text = run("diff", dump, dump);
        assertEquals(0, text.exit(), text.err());
        assertEquals("", new String(text.out(), UTF_8));
        assertEquals("", text.err());
        CliRun json = run("diff", "--json", dump, dump);
        assertEquals(0, json.exit(), json.err());
        Map<String, String> top = topLevel(json.out());
        assertEquals("false", top.get("different"));
        assertEquals("true", top.get("device_state_compared"));
        assertEquals("[]", top.get("fields"));
        assertEquals("[]", top.get("sections"));
    }

    @Test
    void twoSnapshotsOfOneImage() throws IOException {
        String image = Samples.dump("s-savevm-pc-first").toString();
        CliRun result = run("diff", image, image, "--snapshot-a", "1", "--snapshot-b", "later");
        assertEquals(1, result.exit(), result.err());
        assertEquals("", result.err());
        List<String> lines = lines(result);
        // the fields: env.eip and env.regs[] as the reference's -d state gives them for each snapshot
        Path first = Samples.folder("s-savevm-pc-first").resolve("expected/state.json");
        Path latest = Samples.folder("s-savevm-pc-latest").resolve("expected/state.json");
        long eipA = Long.decode(stateValues(first, "env.eip").getFirst());
        long eipB = Long.decode(stateValues(latest, "env.eip").getFirst());
        assertTrue(eipA != eipB);
        assertTrue(lines.contains("cpu (0)/env.eip: 0x" + Long.toHexString(eipA) + " -> 0x" + Long.toHexString(eipB)),
                String.join("\n", lines));
        List<String> regsA = stateValues(first, "env.regs");
        List<String> regsB = stateValues(latest, "env.regs");
        assertEquals(16, regsA.size());
        int differing = 0;
        for (int i = 0; i < regsA.size(); i++) {
            long a = Long.decode(regsA.get(i));
            long b = Long.decode(regsB.get(i));
            String line = "cpu (0)/env.regs[" + i + "]: 0x" + Long.toHexString(a) + " -> 0x" + Long.toHexString(b);
            assertEquals(a != b, lines.contains(line), line);
            differing += a != b ? 1 : 0;
        }
        assertTrue(differing > 0);
        // the RAM: against what -x extracts of each snapshot
        Path dirA = extract(image, "--snapshot", "1");
        Path dirB = extract(image, "--snapshot", "2");
        assertRangesAsExtracted(lines, dirA, dirB);
    }

    @Test
    void twoLiveXbzrleDumps() throws IOException {
        String a = Samples.dump("i-live-xbzrle").toString();
        String b = Samples.dump("n-live-xbzrle").toString();
        CliRun result = run("diff", a, b);
        assertEquals(1, result.exit(), result.err());
        List<String> lines = lines(result);
        assertTrue(lines.contains("machine: pc-i440fx-7.2 -> pc-i440fx-10.2") || lines.stream()
                .noneMatch(l -> l.startsWith("machine:")), String.join("\n", lines));
        assertRangesAsExtracted(lines, extract(a), extract(b));
        // the same in JSON
        CliRun json = run("diff", "--json", a, b);
        assertEquals(1, json.exit(), json.err());
        assertEquals(rangesOf(lines), jsonRanges(json.out()));
    }

    @Test
    void aBuiltPairDiffersWhereItWasMadeTo() throws IOException {
        Path a = Files.write(work.resolve("a.mig"), built(false));
        Path b = Files.write(work.resolve("b.mig"), built(true));
        CliRun result = run("diff", a.toString(), b.toString());
        assertEquals(1, result.exit(), result.err());
        assertEquals("", result.err());
        assertEquals(List.of(
                "machine: pc-i440fx-7.2 -> pc-q35-7.2",
                "serial (0): only in A",
                "kbd (0): only in B",
                "cpu (1): version 3 -> 4",
                "timer (0)/ticks: 0x1234 -> 0x1235",
                "cpu (1)/regs[3]: 0x3 -> 0x7",
                "cpu (1)/buf: 0102030405060708 -> 0102030405660708",
                "cpu (1)/cpu/sub/extra: only in B: 0x9",
                "ram pc.ram: length 0x10000 -> 0x12000",
                "ram pc.ram: page 0x2 differs (offsets 0x2000-0x2fff)",
                "ram pc.ram: pages 0x8-0x9 differ (offsets 0x8000-0x9fff)",
                "ram pc.bios: only in A (8192 bytes)"), lines(result));
        // the same pair in JSON
        CliRun json = run("diff", "--json", a.toString(), b.toString());
        assertEquals(1, json.exit(), json.err());
        String text = new String(json.out(), UTF_8);
        assertTrue(text.replaceAll("\\s+", " ").contains("""
                        {
                            "name": "cpu",
                            "instance_id": 1,
                            "path": "regs[3]",
                            "type": "uint64",
                            "a": "0x3",
                            "b": "0x7"
                        }""".replaceAll("\\s+", " ")), text);
        assertEquals(List.of(List.of(2L, 2L), List.of(8L, 9L)), jsonRanges(json.out()).get("pc.ram"));
        assertTrue(text.replaceAll("\\s+", " ").contains(
                "\"block\": \"pc.ram\", \"length_a\": 65536, \"length_b\": 73728, \"page_size\": 4096"), text);
        assertTrue(text.replaceAll("\\s+", " ").contains(
                "\"block\": \"pc.bios\", \"length_a\": 8192, \"length_b\": null"), text);
        // and B against A: the other way round
        CliRun back = run("diff", b.toString(), a.toString());
        assertEquals(1, back.exit());
        assertTrue(lines(back).contains("timer (0)/ticks: 0x1235 -> 0x1234"));
        assertTrue(lines(back).contains("ram pc.bios: only in B (8192 bytes)"));
    }

    /** A paused VM's stream: pages, a timer, a cpu; {@code changed}: what B changes. */
    private static byte[] built(boolean changed) {
        // the description lists a subsection only where the stream sent it, as QEMU's does
        String[] cpuFields = {Json.arrayField("regs", "uint64", 8, 4), Json.field("buf", "buffer", 8)};
        String cpu = changed ? Json.deviceWithSubsections("cpu", 1, 4, cpuFields,
                Json.struct("cpu/sub", 1, new String[] {Json.field("extra", "uint8", 1)}))
                : Json.device("cpu", 1, 3, cpuFields);
        List<String> devices = new ArrayList<>(List.of(
                Json.device("timer", 0, 2, Json.field("ticks", "int64", 8)), cpu));
        devices.add(changed ? Json.device("kbd", 0, 1, Json.field("mode", "uint8", 1))
                : Json.device("serial", 0, 1, Json.field("lsr", "uint8", 1)));
        StreamBuilder s = StreamBuilder.stream().configuration(changed ? "pc-q35-7.2" : "pc-i440fx-7.2");
        s.sectionStart(1, "ram", 0, 4).memSize(18 * PAGE).block("pc.ram", (changed ? 18 : 16) * PAGE);
        if (!changed) {
            s.block("pc.bios", 2 * PAGE);
        }
        s.eos().footer(1);
        s.sectionPart(1);
        for (int page = 0; page < 8; page++) {
            // B: page 2's data differs; page 5 zero in both
            if (page == 5) {
                s.zeroPage((long) page * PAGE, page == 0 ? "pc.ram" : null, 0);
            } else {
                s.page((long) page * PAGE, page == 0 ? "pc.ram" : null,
                        StreamBuilder.pattern(PAGE, page + (changed && page == 2 ? 100 : 0)));
            }
        }
        s.eos().footer(1);
        s.sectionEnd(1);
        // B: page 8 filled with 0xff, page 9 data (A never sends them: zero); page 10 zero in B;
        // B's block is 2 pages longer (pages 16 and 17 not compared)
        if (changed) {
            s.zeroPage(8L * PAGE, "pc.ram", 0xff);
            s.page(9L * PAGE, null, StreamBuilder.pattern(PAGE, 9));
            s.zeroPage(10L * PAGE, null, 0);
            s.page(17L * PAGE, null, StreamBuilder.pattern(PAGE, 17));
        } else {
            s.page(7L * PAGE, "pc.ram", StreamBuilder.pattern(PAGE, 7)); // sent again, the same
            s.page(0, "pc.bios", StreamBuilder.pattern(PAGE, 50));
        }
        s.eos().footer(1);
        s.sectionFull(2, "timer", 0, 2).u64(changed ? 0x1235 : 0x1234).footer(2);
        s.sectionFull(3, "cpu", 1, changed ? 4 : 3).u64(0).u64(1).u64(2).u64(changed ? 7 : 3)
                .bytes(1, 2, 3, 4, 5, changed ? 0x66 : 6, 7, 8);
        if (changed) {
            s.subsection("cpu/sub", 1).u8(9);
        }
        s.footer(3);
        if (changed) {
            s.sectionFull(4, "kbd", 0, 1).u8(1).footer(4);
        } else {
            s.sectionFull(4, "serial", 0, 1).u8(0x60).footer(4);
        }
        return s.eof().description(Json.description(PAGE, devices.toArray(String[]::new))).toByteArray();
    }

    @Test
    void withoutADescriptionRamAloneIsCompared() throws IOException {
        Path a = Files.write(work.resolve("a.mig"), built(false));
        Path bare = Samples.dump("j-suppress-vmdesc");
        CliRun result = run("diff", "--json", bare.toString(), a.toString());
        assertEquals(1, result.exit(), result.err());
        assertEquals(List.of("qevm: " + bare + ": no JSON description: device state not compared, RAM only"),
                result.err().lines().toList());
        Map<String, String> top = topLevel(result.out());
        assertEquals("false", top.get("device_state_compared"));
        assertEquals("[]", top.get("fields"));
        assertEquals("true", top.get("different"));
        // its RAM against itself: the same
        CliRun same = run("diff", bare.toString(), bare.toString());
        assertEquals(0, same.exit(), same.err());
        assertEquals("", new String(same.out(), UTF_8));
    }

    @Test
    void aMissingFileIsTrouble() {
        String dump = Samples.dump("a-pc-paused").toString();
        CliRun result = run("diff", dump, "nope.mig");
        assertEquals(2, result.exit());
        assertEquals(List.of("qevm: nope.mig: no such file"), result.err().lines().toList());
        assertEquals(0, result.out().length);
    }

    @Test
    void aBrokenBIsTroubleInOneLine() throws IOException {
        Path dump = Samples.dump("a-pc-paused");
        byte[] bytes = Files.readAllBytes(dump);
        Path broken = Files.write(work.resolve("broken.mig"), Arrays.copyOf(bytes, bytes.length / 2));
        CliRun result = run("diff", dump.toString(), broken.toString());
        assertEquals(2, result.exit(), result.err());
        List<String> err = result.err().lines().toList();
        assertEquals(1, err.size(), result.err());
        assertTrue(err.getFirst().startsWith("qevm: " + broken + ": "), err.getFirst());
        assertTrue(err.getFirst().matches(".*byte \\d+.*"), err.getFirst());
        assertFalse(result.err().contains("\tat "));
    }

    @Test
    void usageIsTrouble() {
        CliRun result = run("diff", "only-one.mig");
        assertEquals(2, result.exit());
        assertTrue(result.err().contains("the following arguments are required: B"), result.err());
        CliRun stdin = run("diff", "a.mig", "-");
        assertEquals(2, stdin.exit());
        assertEquals(List.of("qevm diff: error: argument B: standard input cannot be read twice: give a file "
                + "(see qevm diff --help)"), stdin.err().lines().toList());
        CliRun help = run("diff", "--help");
        assertEquals(0, help.exit());
        assertTrue(new String(help.out(), UTF_8).startsWith("usage: qevm diff A B"));
    }

    // ------------------------------------------------------------------ expectations

    /** {@code qevm -f DUMP ARGS -x} into a new folder. */
    private Path extract(String dump, String... args) throws IOException {
        Path dir = Files.createTempDirectory(work, "x");
        List<String> all = new ArrayList<>(List.of("-f", dump, "-x", "-o", dir.toString()));
        all.addAll(List.of(args));
        CliRun result = run(all.toArray(String[]::new));
        assertEquals(0, result.exit(), result.err());
        return dir;
    }

    /**
     * The runs of pages that differ between the blocks extracted in {@code dirA} and {@code dirB}
     * (files of both: every one but desc.json and state.json), compared page by page here, are
     * exactly the ones diff printed.
     */
    private static void assertRangesAsExtracted(List<String> lines, Path dirA, Path dirB) throws IOException {
        Map<String, List<List<Long>>> expected = new LinkedHashMap<>();
        for (Path fileA : blockFiles(dirA)) {
            String relative = dirA.relativize(fileA).toString();
            Path fileB = dirB.resolve(relative);
            if (!Files.exists(fileB)) {
                continue;
            }
            byte[] a = Files.readAllBytes(fileA);
            byte[] b = Files.readAllBytes(fileB);
            int common = Math.min(a.length, b.length);
            List<List<Long>> runs = new ArrayList<>();
            long start = -1;
            long pages = (common + PAGE - 1) / PAGE;
            for (long page = 0; page <= pages; page++) {
                boolean differs = page < pages && !Arrays.equals(
                        a, (int) page * PAGE, (int) Math.min(common, (page + 1) * PAGE),
                        b, (int) page * PAGE, (int) Math.min(common, (page + 1) * PAGE));
                if (differs && start < 0) {
                    start = page;
                } else if (!differs && start >= 0) {
                    runs.add(List.of(start, page - 1));
                    start = -1;
                }
            }
            if (!runs.isEmpty()) {
                expected.put(relative, runs);
            }
        }
        assertFalse(expected.isEmpty(), "the two dumps' RAM is the same: nothing tested");
        Map<String, List<List<Long>>> printed = new LinkedHashMap<>();
        rangesOf(lines).forEach((block, runs) -> printed.put(block.startsWith("/") ? block.substring(1) : block, runs));
        assertEquals(expected, printed);
    }

    private static List<Path> blockFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().equals("desc.json")
                            && !f.getFileName().toString().equals("state.json"))
                    .sorted().toList();
        }
    }

    /** The runs of the text output's RAM lines, by block; offsets checked against the pages. */
    private static Map<String, List<List<Long>>> rangesOf(List<String> lines) {
        Map<String, List<List<Long>>> runs = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = RANGE.matcher(line);
            if (m.matches()) {
                long first = Long.parseLong(m.group(2), 16);
                long last = m.group(3) == null ? first : Long.parseLong(m.group(3), 16);
                assertEquals(first * PAGE, Long.parseLong(m.group(4), 16), line);
                assertEquals((last + 1) * PAGE - 1, Long.parseLong(m.group(5), 16), line);
                runs.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(List.of(first, last));
            }
        }
        return runs;
    }

    /** The {@code ram} ranges of the JSON output, by block (blocks with none left out). */
    private static Map<String, List<List<Long>>> jsonRanges(byte[] json) {
        Map<String, List<List<Long>>> runs = new LinkedHashMap<>();
        try (JsonParser p = new JsonFactory().createParser(ObjectReadContext.empty(), json)) {
            String block = null;
            long first = -1;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.PROPERTY_NAME) {
                    switch (p.currentName()) {
                        case "block" -> block = p.nextStringValue();
                        case "first_page" -> first = p.nextLongValue(-1);
                        case "last_page" -> runs.computeIfAbsent(block, k -> new ArrayList<>())
                                .add(List.of(first, p.nextLongValue(-1)));
                        default -> {
                        }
                    }
                }
            }
        }
        return runs;
    }

    /** The top-level values of a JSON object: scalars as text, arrays and objects as "[]"/"{}" when empty. */
    private static Map<String, String> topLevel(byte[] json) {
        Map<String, String> top = new LinkedHashMap<>();
        try (JsonParser p = new JsonFactory().createParser(ObjectReadContext.empty(), json)) {
            p.nextToken();
            for (JsonToken t = p.nextToken(); t == JsonToken.PROPERTY_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (v.isStructStart()) {
                    JsonToken next = p.nextToken();
                    if (next.isStructEnd()) {
                        top.put(name, v == JsonToken.START_ARRAY ? "[]" : "{}");
                        continue;
                    }
                    top.put(name, "...");
                    for (int depth = next.isStructStart() ? 2 : 1; depth > 0; ) {
                        JsonToken inner = p.nextToken();
                        depth += inner.isStructStart() ? 1 : inner.isStructEnd() ? -1 : 0;
                    }
                } else {
                    top.put(name, p.getString());
                }
            }
        }
        return top;
    }

    /**
     * The values of {@code "name"} in the first device that has it in a state.json: its value,
     * or the items of its array.
     */
    private static List<String> stateValues(Path stateJson, String name) throws IOException {
        List<String> values = new ArrayList<>();
        List<String> lines = Files.readAllLines(stateJson);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.startsWith("\"" + name + "\": [")) {
                for (int j = i + 1; !lines.get(j).trim().startsWith("]"); j++) {
                    values.add(lines.get(j).trim().replaceAll("[\",]", ""));
                }
                return values;
            }
            if (line.startsWith("\"" + name + "\": ")) {
                values.add(line.substring(name.length() + 4).replaceAll("[\",]", ""));
                return values;
            }
        }
        throw new AssertionError(name + " not in " + stateJson);
    }
}
