package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.Samples;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.PassCounter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The passes of a live migration told from the order of its pages ({@link LiveStats}), on streams
 * built as QEMU writes them and on a real one; the progress line that shows them; the
 * {@code --debug} summary of a capture.
 */
final class LiveStatsTest {

    @TempDir
    Path work;

    private static LiveStats stats(byte[] stream) throws IOException {
        LiveStats stats = new LiveStats();
        try (MigrationReader reader = MigrationReader.open(stream, ReadOptions.DEFAULT)) {
            MigrationConsumer.drive(reader, stats);
        }
        return stats;
    }

    @Test
    void passesAreToldFromThePageOrder() throws IOException {
        LiveStats stats = stats(LiveStreams.build(new LiveStreams.Shape("pc-i440fx-7.2", false, new int[0], 4))
                .toByteArray());
        // pass 1: pc.ram's 96 pages (48 zero) in two parts, then pc.bios's 8; then every 8th, 16th, 32nd page
        assertEquals(List.of(104L, 12L, 6L, 3L), stats.passes().stream().map(PassCounter.Pass::pages).toList());
        assertEquals(List.of(48L, 0L, 0L, 0L), stats.passes().stream().map(PassCounter.Pass::zeroPages).toList());
        assertEquals(List.of(2, 1, 1, 1), stats.passes().stream().map(PassCounter.Pass::parts).toList());
        assertEquals(1, stats.completion().pages(), "the END record's page, sent with the VM stopped");
        assertEquals(104 + 12 + 6 + 3 + 1, stats.pages());
        assertEquals(-1, stats.currentPass(), "done: in the completion");
    }

    @Test
    void aPausedVmIsOnePass() throws IOException {
        LiveStats stats = stats(LiveStreams.precopy());
        assertEquals(1, stats.passes().size());
        assertEquals(104, stats.passes().getFirst().pages());
    }

    @Test
    void aStreamWithoutPagesHasNoSummary() throws IOException {
        LiveStats stats = new LiveStats();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        stats.printSummary(new PrintStream(err, true, UTF_8), "tcp::4444");
        assertEquals("", err.toString(UTF_8));
        assertEquals(0, stats.currentPass());
        assertNull(stats.completion());
        assertEquals("0 pages", stats.progressDetail());
    }

    /** A real live migration (QEMU 7.2, XBZRLE, 48 dirty-bitmap syncs): its passes shrink to the few pages the guest dirties. */
    @Test
    void aRealLiveMigration() throws IOException {
        LiveStats stats = stats(Samples.read(Samples.dump("i-live-xbzrle")));
        List<PassCounter.Pass> passes = stats.passes();
        assertTrue(passes.size() > 10, passes.size() + " passes");
        assertTrue(passes.getFirst().pages() > 32768, "the first pass sends every page of pc.ram (128 MiB) and"
                + " the other blocks: " + passes.getFirst());
        for (PassCounter.Pass pass : passes.subList(1, passes.size())) {
            assertTrue(pass.pages() <= 529, "later passes send the dirtied pages only: " + pass);
        }
        assertTrue(stats.completion().pages() > 0);
    }

    @Test
    void theSummaryShowsTheFirstAndLastPassesAndTheOthersInOneLine() throws IOException {
        LiveStats stats = stats(LiveStreams.build(new LiveStreams.Shape("pc-i440fx-7.2", false, new int[0], 4))
                .toByteArray());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        stats.printSummary(new PrintStream(err, true, UTF_8), "unix:q.sock");
        String[] lines = err.toString(UTF_8).split("\n");
        assertEquals("qevm: unix:q.sock: RAM sent in 4 passes and the completion (VM stopped):", lines[0]);
        assertTrue(lines[1].startsWith("qevm:   pass 1: 104 pages (48 zero), "), lines[1]);
        assertTrue(lines[1].endsWith(" of stream, 2 parts"), lines[1]);
        assertTrue(lines[4].startsWith("qevm:   pass 4: 3 pages (0 zero), "), lines[4]);
        assertTrue(lines[5].startsWith("qevm:   completion: 1 page (0 zero), "), lines[5]);
        assertEquals(6, lines.length);

        LiveStats many = stats(LiveStreams.build(new LiveStreams.Shape("pc-i440fx-7.2", false, new int[0], 9))
                .toByteArray());
        ByteArrayOutputStream manyErr = new ByteArrayOutputStream();
        many.printSummary(new PrintStream(manyErr, true, UTF_8), "unix:q.sock");
        String[] manyLines = manyErr.toString(UTF_8).split("\n");
        assertEquals(1 + 3 + 1 + 3 + 1, manyLines.length, manyErr.toString(UTF_8));
        assertTrue(manyLines[4].startsWith("qevm:   passes 4 to 6: 1 to 3 pages each, 6 in all, "), manyLines[4]);
    }

    @Test
    void theProgressLineShowsPagesAndThePass() {
        Progress progress = Progress.create(Options.PROGRESS_ON, false, new PrintStream(new ByteArrayOutputStream()),
                -1, () -> 0L).detail(() -> "312456 pages, pass 3");
        assertEquals("qevm: 1.00 MiB, 1.00 MiB/s, 312456 pages, pass 3", progress.line(1 << 20, 1_000_000_000L));
    }

    @Test
    void debugPrintsTheSummaryOfACapture() throws Exception {
        byte[] stream = LiveStreams.build(new LiveStreams.Shape("pc-i440fx-7.2", true, new int[] {1}, 3)).toByteArray();
        LiveRun run = LiveRun.start(work, LiveCaptureTest.incoming("unix:q.sock", "-d", "state", "--debug"));
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("q.sock"), LiveCaptureTest.TIMEOUT)) {
            source.send(stream);
            source.awaitShut(LiveCaptureTest.TIMEOUT);
        }
        CliRun result = run.result(LiveCaptureTest.TIMEOUT);
        assertEquals(0, result.exit(), result.err());
        List<String> lines = result.err().lines().toList();
        assertEquals("qevm: listening on unix:" + work.resolve("q.sock"), lines.get(0));
        assertEquals("qevm: unix:q.sock: the source connected", lines.get(1));
        assertEquals("qevm: unix:q.sock: RAM sent in 3 passes and the completion (VM stopped):", lines.get(2));
        assertTrue(lines.get(3).startsWith("qevm:   pass 1: 104 pages (48 zero)"), lines.get(3));
        assertEquals(7, lines.size(), result.err());
    }
}
