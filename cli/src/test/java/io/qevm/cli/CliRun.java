package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ways to run the CLI in tests, each giving its exit code, standard output and standard error:
 * in this JVM on a file ({@link #inProcess}), in this JVM on a FIFO a thread writes the dump into
 * ({@link #throughFifo}), and as a child JVM whose standard input is a real OS pipe
 * ({@link #childWithStdin}) or that reads a FIFO ({@link #childThroughFifo}).
 */
record CliRun(int exit, byte[] out, String err) {

    /** Standard output as text. */
    String outText() {
        return new String(out, UTF_8);
    }

    /** {@code Main.run(workDir, ...)} in this JVM, failing if it takes longer than {@code timeout}. */
    static CliRun inProcess(Path workDir, Duration timeout, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = assertTimeoutPreemptively(timeout, () -> {
            try (PrintStream outStream = new PrintStream(out, false, UTF_8);
                    PrintStream errStream = new PrintStream(err, true, UTF_8)) {
                return Main.run(workDir, outStream, errStream, args);
            }
        }, () -> "qevm " + String.join(" ", args) + " ran longer than " + timeout.toSeconds() + " s");
        return new CliRun(exit, out.toByteArray(), err.toString(UTF_8));
    }

    /**
     * {@code qevm -f FIFO args} in this JVM, with a thread writing {@code dump} into the FIFO
     * (made at {@code fifo}, removed afterwards): the CLI reads it as a stream, forward, once.
     */
    static CliRun throughFifo(Path workDir, Path fifo, Path dump, Duration timeout, List<String> args)
            throws IOException {
        mkfifo(fifo);
        try (FifoWriter _ = new FifoWriter(fifo, dump)) {
            return inProcess(workDir, timeout, withFile(fifo.toString(), args));
        } finally {
            Files.deleteIfExists(fifo);
        }
    }

    /**
     * {@code java io.qevm.cli.Main args} as a child JVM (this JVM's java, class path and Java 25)
     * in {@code workDir}, with {@code stdin} (or nothing, when null) written to its standard
     * input through a pipe, which is then closed.
     */
    static CliRun childWithStdin(Path workDir, Path stdin, Duration timeout, List<String> args) throws IOException {
        return child(workDir, stdin, timeout, "512m", args);
    }

    /** As {@link #childWithStdin}, with a Java heap of at most {@code maxHeap} ({@code -Xmx}). */
    static CliRun childWithStdin(Path workDir, Path stdin, Duration timeout, String maxHeap, List<String> args)
            throws IOException {
        return child(workDir, stdin, timeout, maxHeap, args);
    }

    /** {@code qevm -f FIFO args} as a child JVM, with a thread of this JVM writing {@code dump} into the FIFO. */
    static CliRun childThroughFifo(Path workDir, Path fifo, Path dump, Duration timeout, List<String> args)
            throws IOException {
        mkfifo(fifo);
        try (FifoWriter _ = new FifoWriter(fifo, dump)) {
            return child(workDir, null, timeout, "512m", List.of(withFile(fifo.toString(), args)));
        } finally {
            Files.deleteIfExists(fifo);
        }
    }

    private static String[] withFile(String file, List<String> args) {
        List<String> all = new ArrayList<>(List.of("-f", file));
        all.addAll(args);
        return all.toArray(String[]::new);
    }

    private static CliRun child(Path workDir, Path stdin, Duration timeout, String maxHeap, List<String> args)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx" + maxHeap, "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(args);
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outReader = copier(process.getInputStream(), out);
        Thread errReader = copier(process.getErrorStream(), err);
        Thread feeder = Thread.ofPlatform().daemon().name("qevm-stdin").start(() -> {
            try (OutputStream in = process.getOutputStream()) {
                if (stdin != null) {
                    Files.copy(stdin, in);
                }
            } catch (IOException e) {
                // the child stopped reading (it failed, or needs no more): its exit code says which
            }
        });
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("java " + Main.class.getName() + " " + String.join(" ", args)
                        + " ran longer than " + timeout.toSeconds() + " s; stderr: " + err.toString(UTF_8));
            }
            outReader.join();
            errReader.join();
            feeder.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return new CliRun(process.exitValue(), out.toByteArray(), err.toString(UTF_8));
    }

    private static Thread copier(InputStream from, OutputStream to) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (from) {
                from.transferTo(to);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Makes a FIFO with mkfifo(1); the test is skipped where there is none. */
    static Path mkfifo(Path fifo) throws IOException {
        try {
            Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
            assumeTrue(mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0, "mkfifo unavailable");
        } catch (IOException e) {
            assumeTrue(false, "mkfifo unavailable: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return fifo;
    }

    /**
     * A thread writing a file into a FIFO: opening the FIFO blocks it until a reader opens it.
     * {@link #close()} releases it when the reader never came (the CLI failed before opening
     * the file) or left early: it opens the FIFO read-write (which never blocks on Linux) and
     * drains what the writer still sends, so that the thread ends and nothing is left waiting.
     */
    static final class FifoWriter implements AutoCloseable {
        private final Path fifo;
        private final Thread thread;

        FifoWriter(Path fifo, Path source) {
            this.fifo = fifo;
            this.thread = Thread.ofPlatform().daemon().name("qevm-fifo-writer").start(() -> {
                try (OutputStream out = Files.newOutputStream(fifo, StandardOpenOption.WRITE)) {
                    Files.copy(source, out);
                } catch (IOException e) {
                    // the reader closed its end early (EPIPE): what the CLI made of it is the test's business
                }
            });
        }

        @Override
        public void close() throws IOException {
            try {
                thread.join(200);
                if (!thread.isAlive()) {
                    return;
                }
                try (FileChannel release = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    Thread drain = Thread.ofPlatform().daemon().start(() -> {
                        ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
                        try {
                            while (release.read(buffer.clear()) >= 0) {
                                // discard
                            }
                        } catch (IOException e) {
                            // closed below
                        }
                    });
                    thread.join(TimeUnit.SECONDS.toMillis(30));
                    drain.interrupt();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
