package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/**
 * {@link Progress} on a clock the test moves: what it draws and when, on a terminal and in a log.
 */
final class ProgressTest {

    private static final long MS = 1_000_000L;
    private static final long GIB = 1L << 30;
    private static final String ERASE = "\033[K";

    /** A clock at {@code now} nanoseconds, which the test sets. */
    private long now = 5_000 * MS; // not zero: the progress counts from its own start

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(bytes, true, UTF_8);

    private Progress progress(int mode, boolean terminal, long total) {
        return Progress.create(mode, terminal, err, total, () -> now);
    }

    /** What was written since the last call. */
    private String drawn() {
        String text = bytes.toString(UTF_8);
        bytes.reset();
        return text;
    }

    private void after(long millis) {
        now += millis * MS;
    }

    @Test
    void onATerminalNothingForTheFirstSecondThenALineDrawnOverItself() {
        Progress p = progress(Options.PROGRESS_AUTO, true, 4 * GIB);
        assertTrue(p.isShown());
        after(999);
        p.update(GIB);
        assertEquals("", drawn(), "a run under a second shows nothing");
        after(1);
        p.update(GIB);
        assertEquals("\rqevm: 1.00 GiB of 4.00 GiB (25%), 1.00 GiB/s, ETA 0:03" + ERASE, drawn());
        after(499);
        p.update(GIB + GIB / 4);
        assertEquals("", drawn(), "twice a second at most");
        after(1);
        p.update(3 * GIB);
        assertEquals("\rqevm: 3.00 GiB of 4.00 GiB (75%), 2.00 GiB/s, ETA 0:01" + ERASE, drawn());
        p.finish(4 * GIB);
        assertEquals("\r" + ERASE, drawn(), "erased at the end: the terminal is as before");
        p.close();
        p.update(4 * GIB);
        assertEquals("", drawn(), "nothing after the end");
    }

    @Test
    void withoutASizeBytesAndRate() {
        Progress p = progress(Options.PROGRESS_AUTO, true, -1);
        after(2000);
        p.update(300L << 20);
        assertEquals("\rqevm: 300 MiB, 150 MiB/s" + ERASE, drawn());
    }

    @Test
    void aFailedRunErasesTheLineBeforeItsError() {
        Progress p = progress(Options.PROGRESS_ON, true, 4 * GIB);
        after(1500);
        p.update(GIB);
        assertTrue(drawn().startsWith("\rqevm: 1.00 GiB"));
        p.close();
        assertEquals("\r" + ERASE, drawn());
        p.close();
        assertEquals("", drawn(), "once");
    }

    @Test
    void aShortRunOnATerminalLeavesNothing() {
        Progress p = progress(Options.PROGRESS_AUTO, true, 4 * GIB);
        after(300);
        p.update(4 * GIB);
        p.finish(4 * GIB);
        p.close();
        assertEquals("", drawn(), "nothing drawn, nothing erased");
    }

    /** --progress where stderr is not a terminal: a line a second after the first, and a summary. */
    @Test
    void inALogLinesOnceASecondAndASummary() {
        Progress p = progress(Options.PROGRESS_ON, false, 4 * GIB);
        after(500);
        p.update(GIB / 2);
        assertEquals("", drawn());
        after(500);
        p.update(GIB);
        assertEquals("qevm: 1.00 GiB of 4.00 GiB (25%), 1.00 GiB/s, ETA 0:03\n", drawn());
        after(600);
        p.update(2 * GIB);
        assertEquals("", drawn(), "once a second");
        after(400);
        p.update(2 * GIB);
        assertEquals("qevm: 2.00 GiB of 4.00 GiB (50%), 1.00 GiB/s, ETA 0:02\n", drawn());
        after(2000);
        p.finish(4 * GIB);
        assertEquals("qevm: read 4.00 GiB in 4.0 s (1.00 GiB/s)\n", drawn());
        p.close();
        assertEquals("", drawn(), "no escape codes in a log");
    }

    @Test
    void inALogAShortRunGetsTheSummaryOnly() {
        Progress p = progress(Options.PROGRESS_ON, false, -1);
        after(250);
        p.update(100 << 20);
        p.finish(100 << 20);
        assertEquals("qevm: read 100 MiB in 0.3 s (400 MiB/s)\n", drawn());
    }

    @Test
    void inALogAFailedRunGetsNoSummary() {
        Progress p = progress(Options.PROGRESS_ON, false, -1);
        after(1000);
        p.update(1 << 20);
        assertEquals("qevm: 1.00 MiB, 1.00 MiB/s\n", drawn());
        p.close();
        assertEquals("", drawn());
    }

    @Test
    void offByDefaultWhereStderrIsNotATerminalAndWithNoProgress() {
        for (Progress p : new Progress[] {progress(Options.PROGRESS_AUTO, false, GIB),
                progress(Options.PROGRESS_OFF, true, GIB), progress(Options.PROGRESS_OFF, false, GIB)}) {
            assertFalse(p.isShown());
            after(5000);
            p.update(GIB / 2);
            p.finish(GIB);
            p.close();
            assertEquals("", drawn());
        }
    }

    @Test
    void theForms() {
        assertEquals("0 B", Progress.bytes(0));
        assertEquals("999 B", Progress.bytes(999));
        assertEquals("0.98 KiB", Progress.bytes(1000));
        assertEquals("4.00 KiB", Progress.bytes(4096));
        assertEquals("27.5 MiB", Progress.bytes(27.5 * (1 << 20)));
        assertEquals("999 MiB", Progress.bytes(999.4 * (1 << 20)));
        assertEquals("0.98 GiB", Progress.bytes(1000.0 * (1 << 20)));
        assertEquals("3.20 GiB", Progress.bytes(3.2 * GIB));
        assertEquals("2.00 TiB", Progress.bytes(2048.0 * GIB));
        assertEquals("0:00", Progress.duration(0));
        assertEquals("0:01", Progress.duration(0.2), "rounded up");
        assertEquals("1:05", Progress.duration(65));
        assertEquals("1:00:00", Progress.duration(3600));
    }

    /** A percentage never passes 100, nor the time left below 0, if the source grows while read. */
    @Test
    void aSourceLargerThanItsSize() {
        Progress p = progress(Options.PROGRESS_AUTO, true, GIB);
        after(1000);
        p.update(2 * GIB);
        assertEquals("\rqevm: 2.00 GiB of 1.00 GiB (100%), 2.00 GiB/s, ETA 0:00" + ERASE, drawn());
    }
}
