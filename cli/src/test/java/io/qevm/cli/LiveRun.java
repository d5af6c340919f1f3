package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code Main.run(workDir, ...)} on a thread of this JVM, for a capture that runs while a test
 * plays the source: its standard error can be read as it is written ({@link #awaitAddress}: the
 * address it listens on, port 0 resolved), and {@link #result} waits, bounded, for the exit.
 */
final class LiveRun {

    private static final Pattern LISTENING = Pattern.compile("qevm: listening on (\\S+)");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CompletableFuture<Integer> exit;
    private final String args;

    private LiveRun(Path workDir, String... args) {
        this.args = String.join(" ", args);
        PrintStream outStream = new PrintStream(out, false, UTF_8);
        PrintStream errStream = new PrintStream(new SynchronizedOut(err), true, UTF_8);
        exit = CompletableFuture.supplyAsync(() -> {
            try {
                return Main.run(workDir, outStream, errStream, args);
            } finally {
                outStream.flush();
                errStream.flush();
            }
        }, runnable -> Thread.ofPlatform().daemon().name("qevm-live-run").start(runnable));
    }

    static LiveRun start(Path workDir, String... args) {
        return new LiveRun(workDir, args);
    }

    /** Standard error so far. */
    String err() {
        synchronized (err) {
            return err.toString(UTF_8);
        }
    }

    /** The address of the "qevm: listening on ADDRESS" line, once written (within {@code timeout}). */
    String awaitAddress(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher matcher = LISTENING.matcher(err());
            if (matcher.find()) {
                return matcher.group(1);
            }
            if (exit.isDone()) {
                break;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("qevm " + args + " said no address; stderr: " + err());
    }

    /** Waits for the exit, within {@code timeout}. */
    CliRun result(Duration timeout) throws InterruptedException {
        try {
            int code = exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new CliRun(code, out.toByteArray(), err());
        } catch (TimeoutException e) {
            throw new AssertionError("qevm " + args + " ran longer than " + timeout.toSeconds() + " s; stderr: " + err());
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
    }

    /** Whether it has exited. */
    boolean isDone() {
        return exit.isDone();
    }

    /** An output stream whose writes hold the lock of {@code target}, so that {@link #err()} reads whole writes. */
    private static final class SynchronizedOut extends java.io.OutputStream {
        private final ByteArrayOutputStream target;

        SynchronizedOut(ByteArrayOutputStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            synchronized (target) {
                target.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            synchronized (target) {
                target.write(b, off, len);
            }
        }
    }
}
