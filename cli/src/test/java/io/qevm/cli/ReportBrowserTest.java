package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.Samples;
import io.qevm.consume.DumpStats;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qevm report}: the page opened in a real browser (Debian's headless chromium, which CI
 * installs): no console errors, and a screenshot whose RAM map has the data colour where
 * c-pc-loader-data's guest has data (the loader's blobs at 0x1000000 and 0x4000000) and the
 * zero colour where it has zero pages. Also: the output is written whole or not at all.
 */
final class ReportBrowserTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** How long one chromium run may take before it is killed. */
    private static final long BROWSER_SECONDS = 90;
    /** The browser window's width in both runs. */
    private static final int WIDTH = 1000;

    @TempDir
    Path work;

    /** chromium on PATH (Debian names it chromium), or null. */
    private static Path chromium() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String name : List.of("chromium", "chromium-browser")) {
            for (String dir : path.split(File.pathSeparator)) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static Path chromiumOrSkip() {
        Path chromium = chromium();
        assumeTrue(chromium != null, "no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)");
        return chromium;
    }

    /** report.html in the work folder, of c-pc-loader-data (data and zero pages), made quietly. */
    private void report() {
        CliRun run = CliRun.inProcess(work, TIMEOUT, "report", Samples.dump("c-pc-loader-data").toString(),
                "-o", "report.html");
        assertEquals(0, run.exit(), run.err());
        assertEquals("", run.err());
    }

    private record Browser(String out, String err) {
    }

    /** Runs headless chromium on {@code page} with {@code args}; killed (with its children) if it outlives its time. */
    private Browser browse(Path chromium, Path page, String... args) throws IOException, InterruptedException {
        return browseUrl(chromium, page.toUri().toString(), args);
    }

    private Browser browseUrl(Path chromium, String url, String... args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(work, "profile");
        Path out = Files.createTempFile(work, "chromium", ".out");
        Path err = Files.createTempFile(work, "chromium", ".err");
        List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--disable-gpu",
                "--no-sandbox", "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile));
        command.addAll(Arrays.asList(args));
        command.add(url);
        Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            boolean ended = process.waitFor(BROWSER_SECONDS, TimeUnit.SECONDS);
            assertTrue(ended, "chromium still running after " + BROWSER_SECONDS + " s: " + command);
        } finally {
            try (Stream<ProcessHandle> children = process.descendants()) {
                children.forEach(ProcessHandle::destroyForcibly);
            }
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return new Browser(Files.readString(out, UTF_8), Files.readString(err, UTF_8));
    }

    /** chromium's lines for the page's console messages of level error and its uncaught exceptions. */
    private static List<String> consoleErrors(String stderr) {
        return stderr.lines().filter(line -> line.contains("CONSOLE") && (line.contains(":ERROR:")
                || line.contains("Uncaught") || line.contains("Error"))).toList();
    }

    /** The {@code data-errors} the page's script left on its body (errors caught in the page). */
    private static String pageErrors(String dom) {
        Matcher m = Pattern.compile("<body[^>]*data-errors=\"([^\"]*)\"").matcher(dom);
        assertTrue(m.find(), "the page's script ran to its end (it sets data-errors): " + dom.substring(0,
                Math.min(400, dom.length())));
        return m.group(1).replace("&quot;", "\"");
    }

    @Test
    void theReportInARealBrowser() throws IOException, InterruptedException {
        Path chromium = chromiumOrSkip();
        report();
        Path page = work.resolve("report.html");
        String html = Files.readString(page);
        assertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"),
                "nothing fetched: no URL but the SVG namespace");
        assertFalse(html.contains("src=") || html.contains("href="), "no external file");

        // the same width in both runs: the layout (where the map lies) depends on it
        Browser dom = browse(chromium, page, "--dump-dom", "--window-size=" + WIDTH + ",1200");
        assertEquals("[]", pageErrors(dom.out()));
        assertEquals(List.of(), consoleErrors(dom.err()));
        Matcher rect = Pattern.compile("<canvas[^>]*id=\"map-0\"[^>]*data-rect=\"(\\d+),(\\d+),(\\d+),(\\d+)\"")
                .matcher(dom.out());
        assertTrue(rect.find(), "the first block's map (pc.ram) was drawn and placed");
        int left = Integer.parseInt(rect.group(1));
        int top = Integer.parseInt(rect.group(2));
        int height = Integer.parseInt(rect.group(4));
        assertEquals(ReportCommand.CELLS_PER_ROW * ReportCommand.CELL + 2, Integer.parseInt(rect.group(3)),
                "128 cells of 4 px and a 1 px border");

        Path png = work.resolve("report.png");
        Browser shot = browse(chromium, page, "--screenshot=" + png, "--window-size=" + WIDTH + "," + (top + height + 40));
        assertEquals(List.of(), consoleErrors(shot.err()));
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, "chromium wrote a PNG");

        // pc.ram: 32768 pages, 2 per cell (16384 cells, 128 a row); data at 0x1000000 (4 MiB) and
        // 0x4000000 (1 MiB), zero pages elsewhere (GROUND-TRUTH.txt: the only non-zero pages)
        int data = ReportCommand.COLOURS[DumpStats.PageKind.DATA.ordinal()];
        int zero = ReportCommand.COLOURS[DumpStats.PageKind.ZERO.ordinal()];
        long[][] pages = {{0, zero}, {0x1000000 / 4096, data}, {0x1000000 / 4096 + 600, data},
                {0x1400000 / 4096 + 2, zero}, {0x4000000 / 4096, data}, {0x4100000 / 4096 + 2, zero},
                {32767, zero}};
        for (long[] expected : pages) {
            long cell = expected[0] / 2;
            int x = left + 1 + (int) (cell % ReportCommand.CELLS_PER_ROW) * ReportCommand.CELL + 2;
            int y = top + 1 + (int) (cell / ReportCommand.CELLS_PER_ROW) * ReportCommand.CELL + 2;
            assertEquals(String.format("#%06x", expected[1]), String.format("#%06x", image.getRGB(x, y) & 0xffffff),
                    "page " + expected[0] + " at (" + x + ", " + y + ")");
        }
    }

    /** The device tree and its search: report.html#search=TEXT opens with the search done. */
    @Test
    void theDeviceTreeIsSearched() throws IOException, InterruptedException {
        Path chromium = chromiumOrSkip();
        report();
        Path page = work.resolve("search.html"); // a file:// URL keeps its #fragment only when chromium is given it whole
        Files.copy(work.resolve("report.html"), page);
        Browser dom = browseUrl(chromium, page.toUri() + "#search=a20_mask", "--dump-dom");
        assertEquals("[]", pageErrors(dom.out()));
        // expected/state.json: "env.a20_mask": "0xffffffff (-1)" in cpu (5), the one field of that name
        Matcher hits = Pattern.compile("<div class=\"leaf hit\"[^>]*><span class=\"k\">([^<]*)</span>([^<]*)</div>")
                .matcher(dom.out());
        assertTrue(hits.find(), "a hit");
        assertEquals("env.a20_mask: ", hits.group(1));
        assertEquals("0xffffffff (-1)", hits.group(2));
        assertFalse(hits.find(), "one hit only");
        assertTrue(dom.out().contains("<span id=\"matches\">1 match</span>"), "the count shown");
        assertTrue(dom.out().contains("<summary>cpu (5)<span class=\"size\"> 1873 bytes</span></summary>"),
                "devices with their sizes (as qevm stats counts them)");
    }

    /** The error checks above can fail: a script error in the page is seen both ways. */
    @Test
    void aScriptErrorIsSeen() throws IOException, InterruptedException {
        Path chromium = chromiumOrSkip();
        report();
        Path page = work.resolve("broken.html");
        Files.writeString(page, Files.readString(work.resolve("report.html"))
                .replace("</h1>", "</h1><script>noSuchFunction();</script>"));
        Browser dom = browse(chromium, page, "--dump-dom");
        assertTrue(pageErrors(dom.out()).contains("noSuchFunction"), dom.out().substring(0, 300));
        assertFalse(consoleErrors(dom.err()).isEmpty(), dom.err());
    }

    @Test
    void nothingPartialOnFailure() throws IOException {
        Path dump = Samples.dump("c-pc-loader-data");
        CliRun noDir = CliRun.inProcess(work, TIMEOUT, "report", dump.toString(), "-o", "missing/report.html");
        assertEquals(1, noDir.exit());
        assertEquals(1, noDir.err().lines().count(), noDir.err());
        assertTrue(noDir.err().contains("missing/report.html"), noDir.err());

        Files.writeString(work.resolve("report.html"), "the old report");
        Files.write(work.resolve("cut.mig"), Arrays.copyOf(Files.readAllBytes(dump), 3_000_000));
        CliRun cut = CliRun.inProcess(work, TIMEOUT, "report", "cut.mig", "-o", "report.html");
        assertEquals(1, cut.exit());
        assertEquals("the old report", Files.readString(work.resolve("report.html")));
        try (Stream<Path> files = Files.list(work)) {
            assertEquals(List.of("cut.mig", "report.html"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary file left");
        }
        CliRun usage = CliRun.inProcess(work, TIMEOUT, "report", dump.toString());
        assertEquals(2, usage.exit());
        assertTrue(usage.err().contains("-o/--output"), usage.err());
    }
}
