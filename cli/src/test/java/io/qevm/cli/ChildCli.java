package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CLI as a child JVM that a test can signal while it runs: {@code java io.qevm.cli.Main
 * args} (this JVM's java and class path) in a working directory, behind an optional command
 * prefix ({@code bash -c 'ulimit -f N; exec "$@"'}, {@code setpriv ...}), its standard input
 * closed, its output collected. {@link #close()} kills it if it still runs.
 */
final class ChildCli implements AutoCloseable {

    private final Process process;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final Thread outReader;
    private final Thread errReader;

    private ChildCli(Process process) {
        this.process = process;
        this.outReader = copier(process.getInputStream(), out);
        this.errReader = copier(process.getErrorStream(), err);
    }

    /** {@code java Main args} in {@code workDir}, run through {@code prefix} (a command that execs its arguments). */
    static ChildCli start(Path workDir, List<String> prefix, List<String> args) throws IOException {
        return start(workDir, prefix, System.getProperty("java.class.path"), args);
    }

    /** As {@link #start(Path, List, List)}, with the classes from {@code classPath}. */
    static ChildCli start(Path workDir, List<String> prefix, String classPath, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(javaCommand(classPath));
        command.addAll(args);
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).start();
        process.getOutputStream().close();
        return new ChildCli(process);
    }

    /** The command that runs the CLI's Main with {@code classPath}: this JVM's java, Java 25, 256 MiB of heap. */
    static List<String> javaCommand(String classPath) {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", classPath,
                Main.class.getName());
    }

    /**
     * A prefix that gives the child the default action for SIGINT: a process started in the
     * background by a non-interactive shell (CI, {@code mvn ... &}) inherits SIGINT ignored, and
     * a JVM that finds SIGINT ignored leaves it so. {@code env --default-signal} (coreutils 8.31)
     * undoes that; the test is skipped where there is none.
     */
    static List<String> defaultSigint() throws IOException {
        List<String> prefix = List.of("env", "--default-signal=INT");
        assumeTrue(succeeds(List.of("env", "--default-signal=INT", "true")), "env --default-signal unavailable (coreutils older than 8.31): cannot undo an inherited SIG_IGN for SIGINT");
        return prefix;
    }

    /** Whether {@code command} runs and exits 0 within 30 s. */
    static boolean succeeds(List<String> command) throws IOException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM, as {@code kill PID} sends it ({@link Process#destroy()} on Linux). */
    void terminate() {
        process.destroy();
    }

    /** Sends {@code signal} ({@code INT}, {@code TERM}...) with bash's kill (no procps needed). */
    void signal(String signal) throws IOException {
        if (!succeeds(List.of("bash", "-c", "kill -" + signal + " \"$1\"", "bash", Long.toString(process.pid())))) {
            throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** Waits for the exit and returns the status; fails (killing the child) after {@code timeout}. */
    int waitFor(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the CLI ran longer than " + timeout.toSeconds() + " s; stderr: " + err());
            }
            outReader.join();
            errReader.join();
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Standard output so far (all of it after {@link #waitFor}). */
    String out() {
        synchronized (out) {
            return out.toString(UTF_8);
        }
    }

    /** Standard error so far (all of it after {@link #waitFor}). */
    String err() {
        synchronized (err) {
            return err.toString(UTF_8);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private static Thread copier(InputStream from, ByteArrayOutputStream to) {
        return Thread.ofPlatform().daemon().start(() -> {
            byte[] buffer = new byte[8192];
            try (from) {
                for (int n; (n = from.read(buffer)) >= 0; ) {
                    synchronized (to) {
                        to.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                // the child is gone
            }
        });
    }
}
