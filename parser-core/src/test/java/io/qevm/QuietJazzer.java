package io.qevm;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Keeps Jazzer's chatter out of the build log when a fuzz test only replays its corpus (a plain
 * {@code mvn verify}): its agent prints a line for each hook class it loads and for each class it
 * instruments afterwards, in any test of the JVM, ~150 lines that say nothing about the tests.
 * Those two kinds of lines are dropped from {@link System#err} (Jazzer's log writes there);
 * everything else, Jazzer's warnings and findings and the tests' own output, passes unchanged, so
 * a failing test still shows all of its output. When fuzzing ({@code JAZZER_FUZZ} set) nothing is
 * filtered: what the instrumentation did matters there. The JVM's own warnings about Jazzer's
 * agent are turned off by flags instead (the surefire argLine in the parent pom).
 */
public final class QuietJazzer {

    /** The lines dropped: {@code INFO: Loaded 784 hooks from com...}, {@code INFO: Instrumented io.qevm.X with custom hooks only (took 3 ms, size +0%)}. */
    static final Pattern CHATTER = Pattern.compile(
            "INFO: (Loaded \\d+ hooks from \\S+|Instrumented \\S+ with custom hooks only \\(took \\d+ ms, size [+-]{0,2}\\d+%\\))");

    private QuietJazzer() {
    }

    /** Filters {@link System#err} from now on, once per JVM; nothing when fuzzing. Call from {@code @BeforeAll}. */
    public static synchronized void install() {
        if (System.getenv("JAZZER_FUZZ") != null || System.err instanceof Filtered) {
            return;
        }
        System.setErr(new Filtered(System.err));
    }

    /** {@code out} without Jazzer's chatter lines. */
    static PrintStream filter(OutputStream out) {
        return new Filtered(out);
    }

    private static final class Filtered extends PrintStream {
        Filtered(OutputStream out) {
            super(new LineFilter(out), true, StandardCharsets.UTF_8);
        }
    }

    /** Passes whole lines on, but for the chatter; a partial line waits for its end (or a flush that cannot make it chatter). */
    private static final class LineFilter extends FilterOutputStream {
        private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);

        LineFilter(OutputStream out) {
            super(out);
        }

        @Override
        public synchronized void write(int b) throws IOException {
            line.write(b);
            if (b == '\n') {
                String text = line.toString(StandardCharsets.UTF_8);
                if (!CHATTER.matcher(text.stripTrailing()).matches()) {
                    line.writeTo(out);
                }
                line.reset();
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                write(b[i]);
            }
        }

        /** A partial line goes out now unless it may still become a chatter line ("INFO: ..."). */
        @Override
        public synchronized void flush() throws IOException {
            String partial = line.toString(StandardCharsets.UTF_8);
            if (!partial.startsWith("INFO: ") && !"INFO: ".startsWith(partial)) {
                line.writeTo(out);
                line.reset();
            }
            out.flush();
        }

        @Override
        public synchronized void close() throws IOException {
            line.writeTo(out);
            line.reset();
            out.close();
        }
    }
}
