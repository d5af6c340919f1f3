package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code qevm --incoming}: a capture in this JVM, a fake source over a real socket (TCP on
 * 127.0.0.1, or a unix socket) writing a stream as QEMU's migration thread does and reading the
 * return path as QEMU's source does. The output is exactly that of {@code -f} on the same bytes,
 * which {@code --save} keeps.
 */
final class LiveCaptureTest {

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path work;

    /** {@code qevm -f FILE args} of the same bytes, for comparison, in the folder {@code file} of its own. */
    private CliRun fromFile(byte[] stream, String... args) throws IOException {
        Path folder = Files.createDirectories(work.resolve("file"));
        Path file = folder.resolve("stream.mig");
        Files.write(file, stream);
        List<String> all = new ArrayList<>(List.of("-f", file.toString()));
        all.addAll(List.of(args));
        return CliRun.inProcess(folder, TIMEOUT, all.toArray(String[]::new));
    }

    /** {@code --incoming uri args}. */
    static String[] incoming(String uri, String... args) {
        List<String> all = new ArrayList<>(List.of("--incoming", uri));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    /** Every regular file under {@code folder}, relative path -> bytes. */
    static List<String> tree(Path folder) throws IOException {
        List<String> files = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            return files;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted().toList()) {
                if (Files.isRegularFile(path)) {
                    files.add(folder.relativize(path) + " " + java.util.HexFormat.of().formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(path))));
                }
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        return files;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    // ------------------------------------------------------------------ plain precopy

    @Test
    void tcpPortZeroSaysTheAddressAndExtractsAsTheFile() throws Exception {
        byte[] stream = LiveStreams.precopy();
        Path out = work.resolve("out");
        LiveRun run = LiveRun.start(work, incoming("tcp:127.0.0.1:0", "-x", "-o", "out", "--save", "raw.mig"));
        String address = run.awaitAddress(TIMEOUT);
        assertTrue(address.matches("tcp:127\\.0\\.0\\.1:\\d+"), address);
        try (FakeSource source = FakeSource.connect(address, TIMEOUT)) {
            source.send(stream);
        }
        CliRun live = run.result(TIMEOUT);
        assertEquals("qevm: listening on " + address + "\n", live.err(), "a port 0 given: the port chosen, and nothing else");
        assertEquals(0, live.exit());
        CliRun file = fromFile(stream, "-x", "-o", "out");
        assertEquals(file.outText(), live.outText());
        assertEquals(tree(work.resolve("file").resolve("out")), tree(out));
        assertEquals(4, tree(out).size(), "desc.json, state.json, pc.ram, pc.bios: " + tree(out));
        assertArrayEquals(stream, Files.readAllBytes(work.resolve("raw.mig")), "--save: every byte, as sent");
        assertFalse(Files.exists(work.resolve("raw.mig.partial")));
        CliRun saved = CliRun.inProcess(work, TIMEOUT, "-f", "raw.mig", "-x", "-o", "again");
        assertEquals(live.outText(), saved.outText());
        assertEquals(tree(out), tree(work.resolve("again")), "-f on the saved capture extracts the same files");
    }

    /**
     * {@code --save FILE --no-clobber}: a FILE already there is refused before the source
     * connects; one made while the capture runs is not replaced (link(2) at the end), and the
     * whole capture stays in FILE.partial, said so.
     */
    @Test
    void saveWithNoClobberNeverReplacesAFile() throws Exception {
        byte[] stream = LiveStreams.precopy();
        Path saved = work.resolve("raw.mig");
        Files.writeString(saved, "older capture");
        CliRun refused = LiveRun.start(work, incoming("tcp:127.0.0.1:0", "-d", "state", "--save", "raw.mig",
                "--no-clobber")).result(TIMEOUT);
        assertEquals(1, refused.exit());
        assertEquals("qevm: " + saved + ": cannot write: file exists\n", refused.err(), "refused before listening");
        assertEquals("older capture", Files.readString(saved));
        assertFalse(Files.exists(work.resolve("raw.mig.partial")));

        Files.delete(saved);
        LiveRun run = LiveRun.start(work, incoming("tcp:127.0.0.1:0", "-d", "state", "--save", "raw.mig",
                "--no-clobber"));
        String address = run.awaitAddress(TIMEOUT);
        Files.writeString(saved, "made meanwhile");
        try (FakeSource source = FakeSource.connect(address, TIMEOUT)) {
            source.send(stream);
        }
        CliRun live = run.result(TIMEOUT);
        assertEquals(1, live.exit(), live.err());
        assertTrue(live.err().endsWith("raw.mig: cannot write: file exists\n"
                + "qevm: raw.mig.partial: kept the " + stream.length + " bytes received (the whole stream)\n"),
                live.err());
        assertEquals("made meanwhile", Files.readString(saved));
        assertArrayEquals(stream, Files.readAllBytes(work.resolve("raw.mig.partial")));
    }

    @Test
    void ipv6InBracketsAndEveryAddress() throws Exception {
        byte[] stream = LiveStreams.precopy();
        CliRun file = fromFile(stream, "-d", "state");
        LiveRun every = LiveRun.start(work, incoming("tcp::0", "-d", "state"));
        String address = every.awaitAddress(TIMEOUT);
        assertTrue(address.matches("tcp::\\d+"), address);
        try (FakeSource source = FakeSource.connect(address, TIMEOUT)) {
            source.send(stream);
        }
        assertArrayEquals(file.out(), every.result(TIMEOUT).out());

        LiveRun loopback6 = LiveRun.start(work, incoming("tcp:[::1]:0", "-d", "state"));
        String address6;
        try {
            address6 = loopback6.awaitAddress(Duration.ofSeconds(10));
        } catch (AssertionError e) {
            CliRun failed = loopback6.result(TIMEOUT);
            org.junit.jupiter.api.Assumptions.assumeTrue(false, "no IPv6 loopback here: " + failed.err());
            return;
        }
        assertTrue(address6.matches("tcp:\\[::1\\]:\\d+"), address6);
        try (FakeSource source = FakeSource.connect(address6, TIMEOUT)) {
            source.send(stream);
        }
        CliRun live = loopback6.result(TIMEOUT);
        assertEquals(0, live.exit(), live.err());
        assertArrayEquals(file.out(), live.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-d state -m", "-d desc", "-x"})
    void unixSocketGivesWhatTheFileGives(String mode) throws Exception {
        byte[] stream = LiveStreams.build(new LiveStreams.Shape("pc-i440fx-7.2", false, new int[0], 3)).toByteArray();
        Path socket = work.resolve("qevm.sock");
        String[] args = mode.split(" ");
        LiveRun run = LiveRun.start(work, incoming("unix:qevm.sock", args));
        try (FakeSource source = FakeSource.connect("unix:" + socket, TIMEOUT)) {
            source.send(stream);
        }
        CliRun live = run.result(TIMEOUT);
        assertEquals("", live.err(), "nothing on stderr without progress or --debug");
        assertEquals(0, live.exit());
        CliRun file = fromFile(stream, args);
        assertArrayEquals(file.out(), live.out());
        if (mode.equals("-x")) {
            List<String> extracted = tree(work).stream().filter(f -> !f.startsWith("file")).toList();
            assertEquals(tree(work.resolve("file")).stream().filter(f -> !f.startsWith("stream.mig")).toList(),
                    extracted);
            assertEquals(4, extracted.size(), extracted.toString());
        }
        assertFalse(Files.exists(socket), "the socket's path is removed at exit");
    }

    @Test
    void bytesAfterTheDescriptionAreSavedIgnoredAndCounted() throws Exception {
        byte[] stream = LiveStreams.precopy();
        byte[] more = java.util.Arrays.copyOf(stream, stream.length + 100);
        LiveRun run = LiveRun.start(work, incoming("unix:q.sock", "-d", "state", "--debug", "--save", "raw.mig"));
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("q.sock"), TIMEOUT)) {
            source.send(more);
        }
        CliRun live = run.result(TIMEOUT);
        assertEquals(0, live.exit(), live.err());
        assertArrayEquals(fromFile(stream, "-d", "state").out(), live.out());
        assertTrue(live.err().contains("qevm: unix:q.sock: 100 bytes after the JSON description ignored\n"), live.err());
        assertArrayEquals(more, Files.readAllBytes(work.resolve("raw.mig")), "saved as received");
    }

    /** A real QEMU stream of a live migration (XBZRLE, 75 RAM records), sent in small writes. */
    @ParameterizedTest
    @ValueSource(strings = {"i-live-xbzrle", "c-pc-loader-data", "n-live-xbzrle"})
    void realSamplesGiveTheirExpectedOutput(String sample) throws Exception {
        byte[] stream = Samples.read(Samples.dump(sample));
        int port = freePort();
        LiveRun run = LiveRun.start(work, incoming("tcp:127.0.0.1:" + port, "-d", "state"));
        try (FakeSource source = FakeSource.connect("tcp:127.0.0.1:" + port, TIMEOUT)) {
            for (int at = 0; at < stream.length; at += 65_537) {
                source.send(java.util.Arrays.copyOfRange(stream, at, Math.min(stream.length, at + 65_537)));
            }
        }
        CliRun live = run.result(TIMEOUT);
        assertEquals("", live.err());
        assertEquals(0, live.exit());
        assertArrayEquals(Files.readAllBytes(Samples.folder(sample).resolve("expected").resolve("state.json")),
                live.out());
    }

    /** XBZRLE pages of a live stream decode against the pages extracted (and spooled, with -m) before them. */
    @ParameterizedTest
    @ValueSource(strings = {"-x", "-d state -m"})
    void aRealLiveMigrationExtractsAsItsFile(String mode) throws Exception {
        byte[] stream = Samples.read(Samples.dump("i-live-xbzrle"));
        String[] args = mode.split(" ");
        LiveRun run = LiveRun.start(work, incoming("unix:q.sock", args));
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("q.sock"), TIMEOUT)) {
            source.send(stream);
        }
        CliRun live = run.result(TIMEOUT);
        assertEquals(0, live.exit(), live.err());
        CliRun file = fromFile(stream, args);
        assertArrayEquals(file.out(), live.out());
        if (mode.equals("-x")) {
            assertEquals(tree(work.resolve("file")).stream().filter(f -> !f.startsWith("stream.mig")).toList(),
                    tree(work).stream().filter(f -> !f.startsWith("file")).toList());
        }
    }
}
