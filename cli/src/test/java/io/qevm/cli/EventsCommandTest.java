package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qevm events} on real samples: every line a JSON object, counts against QEMU's own,
 * field values against the reference's {@code -d state}, and a dump cut short: the events up to
 * the cut (the same lines as the whole dump's), then one error line and exit 1.
 */
final class EventsCommandTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path work;

    private static List<Map<String, Object>> parse(CliRun run) {
        return run.outText().lines().map(TestJson::object).toList();
    }

    private static long number(Map<String, Object> event, String name) {
        return ((Number) event.get(name)).longValue();
    }

    @Test
    void everyEventOfAPausedVm() throws IOException {
        CliRun run = CliRun.inProcess(work, TIMEOUT, "events", Samples.dump("c-pc-loader-data").toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals("", run.err());
        List<Map<String, Object>> events = parse(run);
        Map<String, Integer> counts = new HashMap<>();
        long lastOffset = -1;
        for (Map<String, Object> event : events) {
            counts.merge((String) event.get("event"), 1, Integer::sum);
            long offset = number(event, "offset");
            assertTrue(offset >= lastOffset, "offsets grow: " + event);
            lastOffset = offset;
        }
        // NOTES.txt, QEMU's final 'info migrate': normal: 1329 pages, duplicate: 31569 pages
        assertEquals(1329, counts.get("ram_page"));
        assertEquals(31569, counts.get("zero_page"));
        assertEquals(1, counts.get("configuration"));
        assertEquals("eof", events.getLast().get("event"));
        assertEquals(counts.get("section_start"), counts.get("section_end"));

        // the loader's first page at 0x1000000, sent raw
        assertTrue(events.contains(Map.of("offset", events.stream().filter(e -> "ram_page".equals(e.get("event"))
                        && Long.valueOf(0x1000000).equals(e.get("page"))).findFirst().orElseThrow().get("offset"),
                "event", "ram_page", "block", "pc.ram", "page", 0x1000000L, "size", 4096L, "encoding", "raw")));

        // the integer fields directly in a device are the reference's -d state values
        Map<String, Object> state = TestJson.object(Files.readString(Samples.folder("c-pc-loader-data")
                .resolve("expected/state.json")));
        String device = null;
        int compared = 0;
        for (Map<String, Object> event : events) {
            if (event.get("event").equals("section_start")) {
                device = event.get("section") + " (" + event.get("id") + ")";
            }
            if (!event.get("event").equals("field") || !(event.get("value") instanceof Number value)) {
                continue;
            }
            String path = (String) event.get("path");
            String name = path.substring(path.indexOf('/') + 1);
            @SuppressWarnings("unchecked")
            Map<String, Object> fields = (Map<String, Object>) state.get(device);
            if (name.contains("/") || name.contains("[") || !(fields.get(name) instanceof String hex)
                    || !hex.startsWith("0x")) {
                continue;
            }
            // the reference adds the signed value of a negative one: "0xffffffff (-1)"
            BigInteger expected = new BigInteger(hex.substring(2).replaceFirst(" \\(-\\d+\\)$", ""), 16);
            BigInteger actual = new BigInteger(value.toString());
            int bits = (int) number(event, "size") * 8;
            assertEquals(expected, actual.signum() < 0 ? actual.add(BigInteger.ONE.shiftLeft(bits)) : actual,
                    device + " " + name);
            compared++;
        }
        assertTrue(compared > 100, compared + " fields compared");
    }

    @Test
    void aDumpCutShortGivesItsEventsThenTheError() throws IOException {
        Path dump = Samples.dump("c-pc-loader-data");
        List<String> whole = CliRun.inProcess(work, TIMEOUT, "events", dump.toString()).outText().lines().toList();
        int cut = 3_000_000;
        Files.write(work.resolve("cut.mig"), Arrays.copyOf(Files.readAllBytes(dump), cut));
        CliRun run = CliRun.inProcess(work, TIMEOUT, "events", "cut.mig");
        assertEquals(1, run.exit());
        List<String> lines = run.outText().lines().toList();
        assertTrue(lines.size() > 1000, lines.size() + " events");
        assertEquals(whole.subList(0, lines.size()), lines, "the events before the cut, as in the whole dump");
        // the next event of the whole dump is the page the cut falls in
        Map<String, Object> next = TestJson.object(whole.get(lines.size()));
        assertTrue(number(next, "offset") < cut && number(next, "offset") + 4096 > cut - 16, next.toString());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("qevm: cut.mig: at byte "), run.err());
        assertTrue(run.err().contains("found the end of the file (at byte 3000000)"), run.err());
    }

    @Test
    void aLiveMigrationsXbzrlePages() {
        CliRun run = CliRun.inProcess(work, TIMEOUT, "events", Samples.dump("i-live-xbzrle").toString());
        assertEquals(0, run.exit(), run.err());
        long xbzrle = parse(run).stream().filter(e -> "xbzrle".equals(e.get("encoding"))).count();
        assertEquals(16295, xbzrle, "NOTES.txt: 16295 XBZRLE pages");
    }

    @Test
    void help() {
        CliRun help = CliRun.inProcess(work, TIMEOUT, "events", "--help");
        assertEquals(0, help.exit());
        assertTrue(help.outText().contains("ram_page:"), help.outText());
    }
}
