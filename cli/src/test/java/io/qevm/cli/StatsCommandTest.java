package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qevm stats} on real samples, its JSON checked against facts found another way: QEMU's
 * {@code info migrate} counts in NOTES.txt, the reference script's {@code -d state} output (the
 * sections), the addresses the samples' data was loaded at, the arithmetic of a section's bytes.
 */
final class StatsCommandTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path work;

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    private static long number(Map<String, Object> object, String name) {
        return ((Number) object.get(name)).longValue();
    }

    private Map<String, Object> statsJson(String... args) {
        CliRun run = CliRun.inProcess(work, TIMEOUT, args);
        assertEquals(0, run.exit(), run.err());
        assertEquals("", run.err());
        return TestJson.object(run.outText());
    }

    @Test
    void aPausedVmCountedAsQemuCountedIt() throws IOException {
        Path dump = Samples.dump("c-pc-loader-data");
        Map<String, Object> stats = statsJson("stats", "--json", dump.toString());
        Map<String, Object> stream = map(stats.get("stream"));
        assertEquals("pc-i440fx-7.2", stream.get("machine"));
        assertEquals(4096L, stream.get("pageSize"));
        assertEquals(true, stream.get("description"));
        assertEquals(List.of(), stream.get("containers"));
        assertEquals(Files.size(dump), number(stats, "streamBytes"));

        long data = 0;
        long zero = 0;
        for (Map<String, Object> block : list(stats.get("ram"))) {
            Map<String, Object> kinds = map(block.get("data"));
            data += number(kinds, "raw") + number(kinds, "mapped") + number(kinds, "compressed")
                    + number(kinds, "xbzrle");
            zero += number(block, "zero");
            assertEquals(number(block, "pages"), number(block, "distinct"));
            assertEquals(0, number(block, "resends"));
            assertEquals(0, number(block, "neverSent"));
        }
        // NOTES.txt, QEMU's final 'info migrate': normal: 1329 pages, duplicate: 31569 pages
        assertEquals(1329, data);
        assertEquals(31569, zero);

        // pc.ram's map: 256 cells of 128 pages; the loader's blobs at 0x1000000 (4 MiB) and 0x4000000 (1 MiB)
        Map<String, Object> ram = list(stats.get("ram")).getFirst();
        assertEquals("pc.ram", ram.get("block"));
        Map<String, Object> ramMap = map(ram.get("map"));
        assertEquals(128L, ramMap.get("pagesPerCell"));
        List<Map<String, Object>> runs = list(ramMap.get("runs"));
        assertTrue(runs.contains(Map.of("first", 0x1000000L / 4096, "pages", 1024L, "kind", "data")), runs.toString());
        assertTrue(runs.contains(Map.of("first", 0x4000000L / 4096, "pages", 256L, "kind", "data")), runs.toString());

        // the sections are those of the reference's -d state ("name (id)")
        Map<String, Object> expected = TestJson.object(Files.readString(Samples.folder("c-pc-loader-data")
                .resolve("expected/state.json")));
        Set<String> names = new HashSet<>();
        for (Map<String, Object> section : list(stats.get("sections"))) {
            names.add(section.get("name") + " (" + section.get("id") + ")");
            if (section.get("name").equals("timer")) {
                // SECTION_FULL header 1+4+1+5+4+4, three 8-byte fields, footer 1+4
                assertEquals(19 + 24 + 5, number(section, "bytes"));
                assertEquals(1, number(section, "parts"));
            }
            if (section.get("name").equals("ram")) {
                assertEquals(3, number(section, "parts"), "START, and END of a paused VM, and a PART");
            }
        }
        assertEquals(expected.keySet(), names);

        List<Map<String, Object>> largest = list(stats.get("largestDevices"));
        assertEquals(10, largest.size());
        for (int i = 1; i < largest.size(); i++) {
            assertTrue(number(largest.get(i - 1), "bytes") >= number(largest.get(i), "bytes"));
        }
        assertTrue(largest.stream().noneMatch(s -> s.get("name").equals("ram")));
        assertEquals(1, list(stats.get("passes")).size());
    }

    @Test
    void aLiveMigrationHasPassesAndResends() throws IOException {
        Map<String, Object> stats = statsJson("stats", "--json", Samples.dump("i-live-xbzrle").toString());
        long xbzrle = 0;
        long records = 0;
        long distinct = 0;
        long resends = 0;
        for (Map<String, Object> block : list(stats.get("ram"))) {
            xbzrle += number(map(block.get("data")), "xbzrle");
            records += number(block, "records");
            distinct += number(block, "distinct");
            resends += number(block, "resends");
        }
        assertEquals(16295, xbzrle, "NOTES.txt: 16295 XBZRLE pages");
        assertEquals(records - distinct, resends);
        assertTrue(resends > 0);
        List<Map<String, Object>> passes = list(stats.get("passes"));
        assertTrue(passes.size() > 10, passes.size() + " passes");
        long passPages = passes.stream().mapToLong(p -> number(p, "pages")).sum()
                + number(map(stats.get("completion")), "pages");
        assertEquals(records, passPages, "every page record is in a pass or the completion");
        Map<String, Object> ram = list(stats.get("sections")).stream().filter(s -> s.get("name").equals("ram"))
                .findFirst().orElseThrow();
        assertEquals(75, number(ram, "parts"), "NOTES.txt: START + 73 PART + END");
    }

    @Test
    void aQcow2SnapshotChosenByItsId() {
        Map<String, Object> stats = statsJson("stats", "--json", "--snapshot", "1",
                Samples.dump("s-savevm-pc-first").toString());
        List<?> containers = (List<?>) map(stats.get("stream")).get("containers");
        assertEquals(1, containers.size());
        assertTrue(containers.getFirst().toString().startsWith("qcow2 image, snapshot 1 'boot'"), containers.toString());
        // 96 MiB pc.ram
        assertEquals(96L << 20, number(list(stats.get("ram")).getFirst(), "length"));
    }

    /** Without a JSON description (suppress-vmdesc): RAM counted, the device state said to be unread, exit 0. */
    @Test
    void aDumpWithoutDescriptionHasItsRamCounted() {
        CliRun run = CliRun.inProcess(work, TIMEOUT, "stats", "--json", Samples.dump("j-suppress-vmdesc").toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().contains("no JSON VM description"), run.err());
        Map<String, Object> stats = TestJson.object(run.outText());
        assertEquals(false, map(stats.get("stream")).get("description"));
        assertEquals(List.of("ram"), list(stats.get("sections")).stream().map(s -> s.get("name")).toList());
        long data = 0;
        long zero = 0;
        for (Map<String, Object> block : list(stats.get("ram"))) {
            data += number(map(block.get("data")), "raw");
            zero += number(block, "zero");
        }
        // NOTES.txt, QEMU's final 'info migrate': normal: 49 pages, duplicate: 32849 pages
        assertEquals(49, data);
        assertEquals(32849, zero);
    }

    @Test
    void theTextSummary() {
        CliRun run = CliRun.inProcess(work, TIMEOUT, "stats", Samples.dump("c-pc-loader-data").toString());
        assertEquals(0, run.exit(), run.err());
        String text = run.outText();
        assertTrue(text.contains("  machine:      pc-i440fx-7.2\n"), text);
        assertTrue(text.contains("RAM block pc.ram: 32768 pages of 4096 bytes (128 MiB)\n"), text);
        assertTrue(text.contains("  page records: 32768 (data: 1280 raw, 0 mapped, 0 compressed, 0 XBZRLE; zero: 31488;"
                + " other fill: 0)\n"), text);
        assertTrue(text.contains("largest device states:\n"), text);
    }

    @Test
    void helpUsageAndBadInput() throws IOException {
        CliRun help = CliRun.inProcess(work, TIMEOUT, "stats", "--help");
        assertEquals(0, help.exit());
        assertTrue(help.outText().contains("\"largestDevices\""), "the JSON is documented in --help");
        CliRun none = CliRun.inProcess(work, TIMEOUT, "stats");
        assertEquals(2, none.exit());
        assertEquals("qevm stats: error: the following arguments are required: FILE (see qevm stats --help)\n",
                none.err());
        Files.write(work.resolve("junk.mig"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        CliRun junk = CliRun.inProcess(work, TIMEOUT, "stats", "junk.mig");
        assertEquals(1, junk.exit());
        assertTrue(junk.err().startsWith("qevm: junk.mig: "), junk.err());
        assertEquals(1, junk.err().lines().count(), junk.err());
    }
}
