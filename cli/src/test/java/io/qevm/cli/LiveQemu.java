package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real QEMU (qemu-system-x86_64, TCG, no display, no default devices) driven through its human
 * monitor on a unix socket, as shared/tools/dumps/hmp.py drives it: each command is written as
 * a line and its output read up to the next {@code (qemu) } prompt, the echoed command line
 * dropped. Everything is bounded in time ({@link #COMMAND_TIMEOUT} per command, a deadline for a
 * migration), and everything said is kept in a transcript that {@link #report()} gives, with
 * QEMU's command line and its own output (stdout and stderr, in a file), for failure messages.
 *
 * <p>{@link #close()} quits QEMU through the monitor and then stops it as {@link #stop} stops any
 * process: with its descendants (an {@code exec:} migration's command), SIGTERM, then SIGKILL.
 * QEMU and the test's other children are started through {@code setpriv --pdeathsig KILL}
 * (util-linux) where it exists: if the test JVM itself is killed (CI's timeout, SIGKILL) its
 * children get SIGKILL from the kernel, so no qemu outlives the test JVM even then. The
 * death signal comes when the thread that started the child ends; JUnit runs a test's methods
 * on one thread, which outlives the children it starts.
 */
final class LiveQemu implements AutoCloseable {

    static final String BINARY = "qemu-system-x86_64";

    /** Per monitor command: they answer in milliseconds, even during a migration. */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private static final byte[] PROMPT = "(qemu) ".getBytes(UTF_8);
    private static final Pattern STATUS = Pattern.compile("(?m)^Migration status: *([a-z-]+)");

    private final List<String> command;
    private final Process process;
    private final Path log;
    private final StringBuilder transcript = new StringBuilder();
    private SocketChannel monitor;
    private Selector selector;
    private String lastInfo = "";

    private LiveQemu(List<String> command, Process process, Path log) {
        this.command = command;
        this.process = process;
        this.log = log;
    }

    /**
     * Skips the calling test where qemu-system-x86_64 is not installed, saying why in the
     * build log too (surefire keeps a skipped test's reason in its reports only).
     */
    static void assumeInstalled() {
        String why = BINARY + " is not installed (apt-get install -y qemu-system-x86): "
                + "the live-capture tests need a real QEMU";
        if (!onPath(BINARY)) {
            System.out.println("skipped: " + why);
        }
        assumeTrue(onPath(BINARY), why);
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The prefix for every child a live test starts: {@code setpriv --pdeathsig KILL} where it
     * works, else nothing (close() still stops the children; only a killed JVM would leave them).
     */
    static List<String> deathSignalPrefix() {
        return PDEATHSIG;
    }

    private static final List<String> PDEATHSIG = pdeathsig();

    private static List<String> pdeathsig() {
        try {
            return ChildCli.succeeds(List.of("setpriv", "--pdeathsig", "KILL", "true"))
                    ? List.of("setpriv", "--pdeathsig", "KILL") : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Starts {@code qemu-system-x86_64 -accel tcg -display none -monitor unix:DIR/qemu.sock ...
     * args} in {@code dir} (its output in {@code dir/qemu.log}) and connects to its monitor.
     * Fails, stopping QEMU, if the monitor does not answer within {@link #COMMAND_TIMEOUT}.
     */
    static LiveQemu start(Path dir, List<String> args) throws IOException {
        Path socket = dir.resolve("qemu.sock");
        if (socket.toString().length() > 100) {
            throw new IllegalArgumentException("a unix socket's path holds 108 bytes: too long: " + socket);
        }
        List<String> command = new ArrayList<>(List.of(BINARY, "-accel", "tcg", "-display", "none",
                "-monitor", "unix:" + socket + ",server=on,wait=off"));
        command.addAll(args);
        List<String> full = new ArrayList<>(deathSignalPrefix());
        full.addAll(command);
        Path log = dir.resolve("qemu.log");
        Process process = new ProcessBuilder(full).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        LiveQemu qemu = new LiveQemu(command, process, log);
        try {
            qemu.connect(socket);
        } catch (IOException | RuntimeException | Error e) {
            qemu.close();
            throw e;
        }
        return qemu;
    }

    private void connect(Path socket) throws IOException {
        long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new AssertionError("QEMU exited (status " + process.exitValue() + ") before its monitor answered"
                        + report());
            }
            if (Files.exists(socket)) {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    channel.connect(UnixDomainSocketAddress.of(socket));
                    monitor = channel;
                    break;
                } catch (IOException e) {
                    channel.close(); // not listening yet
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("QEMU's monitor " + socket + " did not accept within "
                        + COMMAND_TIMEOUT.toSeconds() + " s" + report());
            }
            pause(50);
        }
        monitor.configureBlocking(false);
        selector = Selector.open();
        monitor.register(selector, SelectionKey.OP_READ);
        String banner = readToPrompt(COMMAND_TIMEOUT, "the monitor's banner");
        transcript.append(banner, 0, banner.length() - PROMPT.length);
    }

    /** Runs one monitor command and returns its output (without the echo and the prompt). */
    String hmp(String line) throws IOException {
        transcript.append("(qemu) ").append(line).append('\n');
        ByteBuffer bytes = ByteBuffer.wrap((line + "\n").getBytes(UTF_8));
        long deadline = System.nanoTime() + COMMAND_TIMEOUT.toNanos();
        while (bytes.hasRemaining()) {
            if (monitor.write(bytes) == 0) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("QEMU's monitor took no input for " + COMMAND_TIMEOUT.toSeconds()
                            + " s" + report());
                }
                pause(10);
            }
        }
        String out = readToPrompt(COMMAND_TIMEOUT, line);
        // the first line is the monitor's echo of what was typed (with terminal escapes)
        int newline = out.indexOf('\n');
        String body = newline < 0 ? "" : out.substring(newline + 1);
        body = body.substring(0, body.length() - PROMPT.length);
        transcript.append(body);
        return body;
    }

    private String readToPrompt(Duration timeout, String what) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(65536);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!endsWithPrompt(got.toByteArray())) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new AssertionError("no monitor prompt " + timeout.toSeconds() + " s after \"" + what
                        + "\"; got: " + got.toString(UTF_8) + report());
            }
            selector.select(left);
            selector.selectedKeys().clear();
            buffer.clear();
            int n = monitor.read(buffer);
            if (n < 0) {
                throw new AssertionError("QEMU closed its monitor during \"" + what + "\"; got: "
                        + got.toString(UTF_8) + report());
            }
            got.write(buffer.array(), 0, n);
        }
        return got.toString(UTF_8).replace("\r", "");
    }

    private static boolean endsWithPrompt(byte[] got) {
        if (got.length < PROMPT.length) {
            return false;
        }
        for (int i = 0; i < PROMPT.length; i++) {
            if (got[got.length - PROMPT.length + i] != PROMPT[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code migrate -d URI} (QEMU's own quoting: the URI in double quotes). */
    void migrate(String uri) throws IOException {
        String out = hmp("migrate -d \"" + uri + "\"");
        if (!out.isBlank()) {
            // a refused URI or capability is said here; the status then says failed
            transcript.append("(migrate said the above)\n");
        }
    }

    /** The status in {@code info migrate} ("active", "completed", "failed"...; "none" before any). */
    String migrationStatus() throws IOException {
        lastInfo = hmp("info migrate");
        Matcher m = STATUS.matcher(lastInfo);
        return m.find() ? m.group(1) : "none";
    }

    /** The last {@code info migrate} output that {@link #migrationStatus} read. */
    String lastInfo() {
        return lastInfo;
    }

    /** A number that {@code info migrate} printed last as {@code label: N}, or -1. */
    long infoNumber(String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + ": *(\\d+)").matcher(lastInfo);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Polls {@code info migrate} every 200 ms until the migration is completed, failed or
     * cancelled and returns that status. After {@code nudgeAfter} of polling (if not null) it
     * runs {@code nudge} once (commands that let a live migration converge). After
     * {@code timeout} it cancels the migration and fails, with the transcript.
     */
    String awaitMigration(Duration timeout, Duration nudgeAfter, String... nudge) throws IOException {
        long start = System.nanoTime();
        boolean nudged = nudgeAfter == null;
        while (true) {
            String status = migrationStatus();
            switch (status) {
                case "completed", "failed", "cancelled" -> {
                    return status;
                }
                default -> {
                }
            }
            long elapsed = System.nanoTime() - start;
            if (!nudged && elapsed > nudgeAfter.toNanos()) {
                nudged = true;
                for (String line : nudge) {
                    hmp(line);
                }
            }
            if (elapsed > timeout.toNanos()) {
                hmp("migrate_cancel");
                throw new AssertionError("the migration was still " + status + " after " + timeout.toSeconds()
                        + " s (cancelled)" + report());
            }
            if (!process.isAlive()) {
                throw new AssertionError("QEMU exited during the migration" + report());
            }
            pause(200);
        }
    }

    /** {@code info status}: "running", "paused (prelaunch)", "paused (postmigrate)"... */
    String vmStatus() throws IOException {
        String out = hmp("info status").strip();
        return out.startsWith("VM status: ") ? out.substring("VM status: ".length()) : out;
    }

    /** The 32-bit word at guest physical address {@code address} ({@code xp /1wx}). */
    long guestWord(long address) throws IOException {
        String out = hmp("xp /1wx 0x" + Long.toHexString(address)).strip();
        Matcher m = Pattern.compile(":\\s*0x([0-9a-fA-F]+)").matcher(out);
        if (!m.find()) {
            throw new AssertionError("xp printed no word: " + out + report());
        }
        return Long.parseLong(m.group(1), 16);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * What to read when a live test fails: QEMU's command line, the end of its output, and the
     * monitor transcript (every command and what it said, the last {@code info migrate} in it).
     */
    String report() {
        StringBuilder out = new StringBuilder("\n--- QEMU: ").append(String.join(" ", command));
        out.append(process.isAlive() ? "\n(running)" : "\n(exited with status " + process.exitValue() + ")");
        out.append("\n--- QEMU's stdout and stderr:\n").append(tail(log, 4000));
        out.append("\n--- monitor transcript:\n").append(tail(transcript.toString(), 8000));
        out.append("\n--- last info migrate:\n").append(lastInfo).append("---");
        return out.toString();
    }

    static String tail(Path file, int chars) {
        try {
            return Files.exists(file) ? tail(Files.readString(file, UTF_8), chars) : "(no " + file + ")";
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    static String tail(String text, int chars) {
        return text.length() <= chars ? text : "[... " + (text.length() - chars) + " chars]" + text.substring(text.length() - chars);
    }

    /** Quits QEMU (monitor {@code quit}), then stops what is left of it as {@link #stop} does. */
    @Override
    public void close() {
        try {
            if (monitor != null && process.isAlive()) {
                transcript.append("(qemu) quit\n");
                monitor.write(ByteBuffer.wrap("quit\n".getBytes(UTF_8)));
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            // the monitor is gone: stop() below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                if (selector != null) {
                    selector.close();
                }
                if (monitor != null) {
                    monitor.close();
                }
            } catch (IOException e) {
                // closing: nothing to do
            }
            stop(process.toHandle());
        }
    }

    /**
     * Stops {@code process} and its descendants (an {@code exec:} migration's shell and command):
     * SIGTERM to each, up to 5 s for them to exit, then SIGKILL and up to 5 s more. Fails if one
     * is still alive then.
     */
    static void stop(ProcessHandle process) {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process);
        all.forEach(ProcessHandle::destroy);
        if (!awaitExit(all, Duration.ofSeconds(5))) {
            all.forEach(ProcessHandle::destroyForcibly);
            if (!awaitExit(all, Duration.ofSeconds(5))) {
                throw new AssertionError("still running after SIGKILL: "
                        + all.stream().filter(ProcessHandle::isAlive).map(p -> p.pid() + " " + p.info().commandLine()
                                .orElse("?")).toList());
            }
        }
    }

    private static boolean awaitExit(List<ProcessHandle> all, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle handle : all) {
            while (handle.isAlive()) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                pause(20);
            }
        }
        return true;
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). */
    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * Waits until something listens on TCP {@code port} (Linux's /proc/net/tcp and tcp6: state
     * 0A), without connecting (a destination accepts one connection). Fails if {@code owner}
     * exits first or after {@code timeout}, with {@code why} in the message.
     */
    static void awaitListening(int port, ProcessHandle owner, Duration timeout, Supplier<String> why)
            throws IOException {
        String hexPort = String.format(Locale.ROOT, ":%04X ", port);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
                Path path = Path.of(table);
                if (!Files.exists(path)) {
                    continue;
                }
                for (String row : Files.readAllLines(path)) {
                    String[] cols = row.strip().split("\\s+");
                    if (cols.length > 3 && (cols[1] + " ").endsWith(hexPort) && cols[3].equals("0A")) {
                        return;
                    }
                }
            }
            if (!owner.isAlive()) {
                throw new AssertionError("exited before listening on port " + port + why.get());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nothing listened on port " + port + " after " + timeout.toSeconds() + " s"
                        + why.get());
            }
            pause(50);
        }
    }

    /** Sleeps; an interrupt (JUnit's @Timeout) fails the test. */
    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
