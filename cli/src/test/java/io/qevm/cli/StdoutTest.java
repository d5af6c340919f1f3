package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.Samples;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Standard output that fails: {@code qevm ... | head} (the reader goes away: EPIPE) ends quietly
 * with 141, as a process killed by SIGPIPE reports; a full disk ({@code > /dev/full}: ENOSPC) is
 * one error line and exit 1. Either way the run stops at the first failed write. Real processes
 * on real pipes, and in this JVM a stream that fails as fd 1 would, counting the writes tried.
 */
final class StdoutTest {

    private static final long TIMEOUT_SECONDS = 120;

    @TempDir
    Path work;

    /** {@code java io.qevm.cli.Main args}, as the launcher runs it, not yet waited for. */
    private ProcessBuilder qevm(String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(work.toFile());
    }

    private static String stderrOf(Process process) throws IOException, InterruptedException {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (InputStream in = process.getErrorStream()) {
                in.transferTo(err);
            } catch (IOException e) {
                // the process is gone
            }
        });
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("qevm did not end within " + TIMEOUT_SECONDS + " s");
        }
        reader.join();
        return err.toString(UTF_8);
    }

    /**
     * The reader of stdout takes 100 bytes and closes the pipe, as {@code head -c 100} does,
     * while qevm still has megabytes to write (-m of c-pc-loader-data: 18 MB; -d desc of
     * a-pc-paused: 315 kB, more than the 64 KiB a pipe holds).
     */
    @ParameterizedTest
    @ValueSource(strings = {"c-pc-loader-data -d state -m", "a-pc-paused -d desc", "c-pc-loader-data -d state"})
    void aReaderThatGoesAwayEndsTheRunQuietlyWith141(String run) throws Exception {
        String[] words = run.split(" ");
        List<String> args = new ArrayList<>(List.of("-f", Samples.dump(words[0]).toString()));
        args.addAll(List.of(words).subList(1, words.length));
        Process process = qevm(args.toArray(String[]::new)).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        try (InputStream out = process.getInputStream()) {
            assertEquals(100, out.readNBytes(100).length, "the output begins");
        } // the read end closes: qevm's next write fails with EPIPE
        String err = stderrOf(process);
        assertEquals("", err, "quiet");
        assertEquals(141, process.exitValue(), "as a process killed by SIGPIPE");
    }

    /** The same in a shell pipeline, as a user types it: {@code ${PIPESTATUS[0]}} is 141. */
    @Test
    void inAShellPipeline() throws Exception {
        List<String> command = qevm("-f", Samples.dump("c-pc-loader-data").toString(), "-d", "state", "-m").command();
        StringBuilder line = new StringBuilder();
        for (String word : command) {
            line.append('\'').append(word.replace("'", "'\\''")).append("' ");
        }
        line.append("| head -c 100 > /dev/null; exit \"${PIPESTATUS[0]}\"");
        Process bash;
        try {
            bash = new ProcessBuilder("bash", "-c", line.toString()).directory(work.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            assumeTrue(false, "no bash: " + e.getMessage());
            return;
        }
        assertEquals("", stderrOf(bash));
        assertEquals(141, bash.exitValue());
    }

    /** {@code > /dev/full}: ENOSPC on the first write that reaches fd 1, one line naming it, exit 1. */
    @Test
    void aFullDiskIsAnErrorLine() throws Exception {
        File full = new File("/dev/full");
        assumeTrue(full.exists(), "no /dev/full");
        Process process = qevm("-f", Samples.dump("a-pc-paused").toString(), "-d", "state")
                .redirectOutput(ProcessBuilder.Redirect.to(full)).start();
        String err = stderrOf(process);
        assertEquals("qevm: <stdout>: cannot write: No space left on device\n", err);
        assertEquals(1, process.exitValue());
    }

    /** fd 1 as a stream: every write fails with {@code message} (the JDK's strerror text); counts the writes tried. */
    private static final class FailingFd extends OutputStream {
        private final String message;
        int writes;

        FailingFd(String message) {
            this.message = message;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writes++;
            throw new IOException(message);
        }
    }

    /**
     * The run stops at the first write that fails: -m of c-pc-loader-data is 18 MB, some 280
     * writes of the 64 KiB buffer, each reading pages of the dump to format them; a PrintStream
     * alone swallows the error and goes on through all of them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Broken pipe", "No space left on device"})
    void theRunStopsAtTheFirstFailedWrite(String failure) {
        String dump = Samples.dump("c-pc-loader-data").toString();
        FailingFd swallowed = new FailingFd(failure);
        Main.run(work, new PrintStream(new BufferedOutputStream(swallowed, 1 << 16), false),
                new PrintStream(new ByteArrayOutputStream(), true, UTF_8), "-f", dump, "-d", "state", "-m");
        assertTrue(swallowed.writes > 200, "without Stdout, writes tried: " + swallowed.writes);

        FailingFd fd = new FailingFd(failure);
        PrintStream out = new PrintStream(new BufferedOutputStream(new Stdout(fd), 1 << 16), false);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(work, out, new PrintStream(err, true, UTF_8), "-f", dump, "-d", "state", "-m");
        // the failed write, and the JSON writer's flush as it is closed on the way out
        assertTrue(fd.writes <= 2, "writes tried: " + fd.writes);
        if (failure.equals("Broken pipe")) {
            assertEquals(141, code);
            assertEquals("", err.toString(UTF_8));
        } else {
            assertEquals(1, code);
            assertEquals("qevm: <stdout>: cannot write: No space left on device\n", err.toString(UTF_8));
        }
    }

    /** -x prints the names of the files it writes: a closed stdout ends it too, and nothing is left. */
    @Test
    void extractionWithAClosedStdoutLeavesNothing() throws IOException {
        FailingFd fd = new FailingFd("Broken pipe");
        PrintStream out = new PrintStream(new BufferedOutputStream(new Stdout(fd), 1 << 16), false);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(work, out, new PrintStream(err, true, UTF_8), "-f",
                Samples.dump("a-pc-paused").toString(), "-x", "-o", "out");
        assertEquals(141, code);
        assertEquals("", err.toString(UTF_8));
        // the extractor removes the directory it made, as it removes its partial files
        assertFalse(Files.exists(work.resolve("out")), "out left behind");
        assertTrue(fd.writes >= 1);
    }
}
