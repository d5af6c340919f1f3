package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.consume.MigrationConsumer;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Progress on stderr for long reads: bytes read, and when the size is known (a file, not a pipe)
 * the percentage and the time left; the rate always. Nothing for the first second, so that short
 * runs print nothing. Two styles:
 * <ul>
 * <li>on a terminal, one line drawn over itself twice a second and erased at the end (or when the
 *     run fails, before its error line). The launcher says whether stderr is a terminal with
 *     {@code -Dqevm.stderr.tty=true}, as Java cannot ask isatty(2) itself;
 * <li>elsewhere, only with {@code --progress}: the same text as a line of its own once a second
 *     (a log reads well at that rate), and a summary line at the end of a run that succeeded.
 * </ul>
 * {@code --no-progress} turns both off. The clock is a parameter, so that tests can run it.
 */
final class Progress implements MigrationConsumer, AutoCloseable {

    /** Nothing is shown for a run shorter than this. */
    static final long DELAY_NANOS = 1_000_000_000L;
    /** How often a terminal's line is redrawn. */
    static final long TERMINAL_INTERVAL_NANOS = 500_000_000L;
    /** How often a line is added to a log (stderr not a terminal, with --progress). */
    static final long LOG_INTERVAL_NANOS = 1_000_000_000L;
    /**
     * Events between two reads of the clock: 256 pages are 1 MiB of 4 KiB pages, so a slow pipe
     * (1 MB/s) still updates about once a second, and the clock costs nothing per event.
     */
    private static final int EVENTS_BETWEEN_CLOCK_READS = 256;

    private enum Style { OFF, TERMINAL, LOG }

    private final Style style;
    private final PrintStream err;
    private final long total;
    private final LongSupplier clock;
    private final long start;
    private long nextDraw;
    private int events;
    private boolean drawn;
    private boolean finished;
    /** More to show after the rate (a live capture's pages and pass), or null. */
    private Supplier<String> detail;

    private Progress(Style style, PrintStream err, long total, LongSupplier clock) {
        this.style = style;
        this.err = err;
        this.total = total;
        this.clock = clock;
        this.start = style == Style.OFF ? 0 : clock.getAsLong();
        this.nextDraw = start + DELAY_NANOS;
    }

    /**
     * Progress of {@code reader} on {@code err} as {@code mode} ({@link Options#PROGRESS_AUTO},
     * {@code _ON}, {@code _OFF}) asks: {@code err} is taken for a terminal when it is the
     * process's stderr and the launcher said that is one.
     */
    static Progress forStderr(MigrationReader reader, PrintStream err, int mode) {
        boolean terminal = err == System.err && Boolean.getBoolean("qevm.stderr.tty");
        return create(mode, terminal, err, reader.sourceSize(), System::nanoTime);
    }

    /** Progress in the style {@code mode} and {@code terminal} give, of {@code total} bytes (or -1, unknown). */
    static Progress create(int mode, boolean terminal, PrintStream err, long total, LongSupplier clock) {
        Style style = mode == Options.PROGRESS_OFF ? Style.OFF
                : terminal ? Style.TERMINAL
                : mode == Options.PROGRESS_ON ? Style.LOG
                : Style.OFF;
        return new Progress(style, err, total, clock);
    }

    /** Shows {@code detail}'s text after the rate on every line (a live capture's pages and pass). */
    Progress detail(Supplier<String> detail) {
        this.detail = detail;
        return this;
    }

    /** Whether this shows anything at all. */
    boolean isShown() {
        return style != Style.OFF;
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        if (style == Style.OFF) {
            return;
        }
        if (event == MigrationEvent.EOF) {
            finish(bytesRead(reader));
            return;
        }
        if (++events < EVENTS_BETWEEN_CLOCK_READS) {
            return;
        }
        events = 0;
        update(reader.position());
    }

    /**
     * The bytes read at EOF: a file's size, or a stream's up to the end of the JSON description
     * that follows EOF (the reader has it already; the position is still at EOF).
     */
    static long bytesRead(MigrationReader reader) {
        if (reader.sourceSize() >= 0) {
            return reader.sourceSize();
        }
        if (reader.hasDescription()) {
            return reader.descriptionJsonOffset() + reader.descriptionJson().byteSize();
        }
        return reader.position();
    }

    /** {@code done} bytes are read: shows them if it is time to. */
    void update(long done) {
        if (style == Style.OFF || finished) {
            return;
        }
        long now = clock.getAsLong();
        if (now - nextDraw < 0) {
            return;
        }
        String line = line(done, now);
        if (style == Style.TERMINAL) {
            err.print("\r" + line + "\033[K");
            nextDraw = now + TERMINAL_INTERVAL_NANOS;
        } else {
            err.print(line + "\n");
            nextDraw = now + LOG_INTERVAL_NANOS;
        }
        err.flush();
        drawn = true;
    }

    /** The read succeeded with {@code done} bytes: the terminal's line is erased, a log gets a summary. */
    void finish(long done) {
        if (style == Style.OFF || finished) {
            return;
        }
        if (style == Style.LOG) {
            double seconds = seconds(clock.getAsLong());
            err.print(String.format(Locale.ROOT, "qevm: read %s in %.1f s (%s/s)%n", bytes(done), seconds,
                    bytes(rate(done, seconds))));
            err.flush();
        }
        close();
    }

    /** Erases a terminal's line if one is drawn (a failure's error line then starts on a clean line). */
    @Override
    public void close() {
        if (finished) {
            return;
        }
        finished = true;
        if (style == Style.TERMINAL && drawn) {
            err.print("\r\033[K");
            err.flush();
        }
    }

    /**
     * {@code qevm: 1.21 GiB of 3.20 GiB (37%), 412 MiB/s, ETA 0:05}; without a size, bytes and
     * rate; a live capture adds its pages and pass: {@code qevm: 1.21 GiB, 412 MiB/s, 312456
     * pages, pass 3}.
     */
    String line(long done, long now) {
        double seconds = seconds(now);
        double rate = rate(done, seconds);
        StringBuilder line = new StringBuilder(80).append("qevm: ").append(bytes(done));
        if (total > 0) {
            long percent = Math.min(100, done * 100 / total);
            line.append(" of ").append(bytes(total)).append(" (").append(percent).append("%)");
        }
        line.append(", ").append(bytes(rate)).append("/s");
        if (total > 0 && rate > 0) {
            line.append(", ETA ").append(duration(Math.max(0, total - done) / rate));
        }
        if (detail != null) {
            line.append(", ").append(detail.get());
        }
        return line.toString();
    }

    private double seconds(long now) {
        return Math.max(now - start, 1) / 1e9;
    }

    private static double rate(long done, double seconds) {
        return done / seconds;
    }

    /** Three significant digits in binary units: {@code 812 B}, {@code 0.98 KiB}, {@code 4.00 KiB}, {@code 27.5 MiB}, {@code 3.20 GiB}. */
    static String bytes(double count) {
        if (count < 999.5) {
            return Math.round(count) + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double value = count / 1024;
        int unit = 0;
        while (value >= 999.5 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        String format = value < 9.995 ? "%.2f %s" : value < 99.95 ? "%.1f %s" : "%.0f %s";
        return String.format(Locale.ROOT, format, value, units[unit]);
    }

    /** Seconds as {@code m:ss}, or {@code h:mm:ss} from an hour on, rounded up. */
    static String duration(double seconds) {
        long whole = (long) Math.ceil(seconds);
        long hours = whole / 3600;
        long minutes = whole / 60 % 60;
        long rest = whole % 60;
        return hours > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", hours, minutes, rest)
                : String.format(Locale.ROOT, "%d:%02d", minutes, rest);
    }
}
