package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.consume.MigrationConsumer;
import java.io.PrintStream;

/**
 * A progress line on stderr for long reads (bytes done of the total, and the rate), drawn over
 * itself twice a second. Only when stderr is a terminal: the launcher says so with
 * {@code -Dqevm.stderr.tty=true}, as Java cannot ask isatty(2) itself.
 */
final class Progress implements MigrationConsumer {

    private static final long INTERVAL_NANOS = 500_000_000L;
    private static final int EVENTS_BETWEEN_CLOCK_READS = 1 << 14;
    private static final double MIB = 1 << 20;

    private final PrintStream err;
    private final long total;
    private final long start = System.nanoTime();
    private long lastDrawn = start;
    private int events;
    private boolean drawn;

    private Progress(PrintStream err, long total) {
        this.err = err;
        this.total = total;
    }

    /** A progress line when stderr is a terminal, else a consumer that does nothing. */
    static MigrationConsumer forStderr(MigrationReader reader, PrintStream err) {
        if (!Boolean.getBoolean("qevm.stderr.tty") || err != System.err) {
            return (event, r) -> { };
        }
        return new Progress(err, reader.sourceSize());
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        if (event == MigrationEvent.EOF) {
            if (drawn) {
                err.print("\r\033[K");
                err.flush();
            }
            return;
        }
        if (++events < EVENTS_BETWEEN_CLOCK_READS) {
            return;
        }
        events = 0;
        long now = System.nanoTime();
        if (now - lastDrawn < INTERVAL_NANOS) {
            return;
        }
        lastDrawn = now;
        long done = reader.position();
        double seconds = (now - start) / 1e9;
        String of = total > 0 ? String.format(" / %.0f MiB (%d%%)", total / MIB, done * 100 / total) : "";
        err.printf("\rqevm: %.0f MiB%s, %.0f MiB/s\033[K", done / MIB, of, done / MIB / seconds);
        err.flush();
        drawn = true;
    }
}
