package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The progress line as a user meets it: a child JVM reading a dump from a pipe that a thread
 * here fills slowly (about two seconds for a-pc-paused), so that the run lasts over the second
 * before progress shows. Its stderr is a pipe, not a terminal; {@code -Dqevm.stderr.tty=true} is
 * what the launcher passes when it is one.
 */
final class ProgressCliTest {

    private static final String ERASE = "\033[K";
    /** A progress line of a stream (no size: bytes and rate). */
    private static final Pattern STREAM_LINE = Pattern.compile(
            "qevm: [0-9.]+ (B|KiB|MiB), [0-9.]+ (B|KiB|MiB)/s");

    @TempDir
    Path work;

    record Run(int exit, String out, String err) {
    }

    /** {@code qevm -f - -d state options...} on a-pc-paused written into its stdin over ~2 s, with {@code jvmOptions}. */
    private Run slowly(List<String> jvmOptions, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "-f", "-", "-d",
                "state"));
        command.addAll(List.of(options));
        Process process = new ProcessBuilder(command).directory(work.toFile()).start();
        byte[] dump = Files.readAllBytes(Samples.dump("a-pc-paused"));
        Thread feeder = Thread.ofPlatform().daemon().start(() -> {
            int chunks = 20;
            try (OutputStream in = process.getOutputStream()) {
                for (int i = 0; i < chunks; i++) {
                    int from = dump.length * i / chunks;
                    in.write(Arrays.copyOfRange(dump, from, dump.length * (i + 1) / chunks));
                    in.flush();
                    Thread.sleep(100);
                }
            } catch (IOException | InterruptedException e) {
                // the run ended early: its exit code says why
            }
        });
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outReader = copy(process.getInputStream(), out);
        Thread errReader = copy(process.getErrorStream(), err);
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("qevm did not end within 120 s");
        }
        outReader.join();
        errReader.join();
        feeder.join();
        return new Run(process.exitValue(), out.toString(UTF_8), err.toString(UTF_8));
    }

    private static Thread copy(InputStream from, OutputStream to) {
        return Thread.ofPlatform().daemon().start(() -> {
            try (from) {
                from.transferTo(to);
            } catch (IOException e) {
                // the process is gone
            }
        });
    }

    private static void succeeded(Run run) {
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().startsWith("{"), "the state is printed");
    }

    @Test
    void noProgressByDefaultWhenStderrIsNotATerminal() throws Exception {
        Run run = slowly(List.of());
        succeeded(run);
        assertEquals("", run.err());
    }

    /** On a terminal: one line drawn over itself, erased at the end: nothing is left but the output. */
    @Test
    void onATerminalALineDrawnAndErased() throws Exception {
        Run run = slowly(List.of("-Dqevm.stderr.tty=true"));
        succeeded(run);
        assertFalse(run.err().contains("\n"), "never a new line: " + run.err());
        assertTrue(run.err().startsWith("\rqevm: "), run.err());
        assertTrue(run.err().endsWith("\r" + ERASE), "erased at the end: " + run.err());
        String[] drawn = run.err().substring(1, run.err().length() - 1 - ERASE.length()).split("\r");
        for (String line : drawn) {
            assertTrue(line.endsWith(ERASE), line);
            assertTrue(STREAM_LINE.matcher(line.substring(0, line.length() - ERASE.length())).matches(), line);
        }
    }

    @Test
    void noProgressTurnsItOffOnATerminal() throws Exception {
        Run run = slowly(List.of("-Dqevm.stderr.tty=true"), "--no-progress");
        succeeded(run);
        assertEquals("", run.err());
    }

    /** --progress where stderr is not a terminal: plain lines, once a second, and a summary. */
    @Test
    void progressForcedIntoALog() throws Exception {
        Run run = slowly(List.of(), "--progress");
        succeeded(run);
        List<String> lines = run.err().lines().toList();
        assertFalse(run.err().contains("\r") || run.err().contains("\033"), "no terminal codes: " + run.err());
        assertTrue(lines.size() >= 2, "a line after the first second, and the summary: " + run.err());
        for (String line : lines.subList(0, lines.size() - 1)) {
            assertTrue(STREAM_LINE.matcher(line).matches(), line);
        }
        long size = Files.size(Samples.dump("a-pc-paused"));
        assertTrue(Pattern.matches("qevm: read " + Pattern.quote(Progress.bytes(size)) + " in [0-9]+\\.[0-9] s \\([0-9.]+"
                + " (B|KiB|MiB)/s\\)", lines.getLast()), lines.getLast());
    }
}
