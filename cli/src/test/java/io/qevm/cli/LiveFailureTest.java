package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A live capture that cannot or must not complete: capabilities that need a real destination
 * refused (postcopy-ram, dirty-bitmaps, x-colo, multifd: a second connection, or a first one that
 * is a multifd channel) before anything is written, and the connection closed so that the
 * source's migration fails; a stream cut, a source that stalls, one that sends nothing; an
 * address that cannot be listened on. One line each, exit 1; {@code --save} keeps the bytes of a
 * stream that failed as FILE.partial and nothing of one refused.
 */
final class LiveFailureTest {

    private static final Duration TIMEOUT = LiveCaptureTest.TIMEOUT;

    @TempDir
    Path work;

    private String socketUri() {
        return "unix:" + work.resolve("live.sock");
    }

    private LiveRun start(String... args) {
        return LiveRun.start(work, LiveCaptureTest.incoming("unix:live.sock", args));
    }

    /** Nothing of the capture left in the working directory: no output, no save file, no socket. */
    private void assertNothingLeft() throws IOException {
        assertEquals(List.of(), LiveCaptureTest.tree(work.resolve("out")), "no file extracted");
        assertFalse(Files.exists(work.resolve("raw.mig")));
        assertFalse(Files.exists(work.resolve("raw.mig.partial")), "a refused stream is not kept");
        assertFalse(Files.exists(work.resolve("live.sock")));
    }

    // ------------------------------------------------------------------ refusals

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "postcopy-ram  | MIG_CMD_POSTCOPY_ADVISE",
        "dirty-bitmaps | MIG_CMD_POSTCOPY_ADVISE: its bitmaps go by postcopy",
        "x-colo        | MIG_CMD_ENABLE_COLO",
    })
    void capabilitiesThatNeedARealDestinationAreRefused(String capability, String why) throws Exception {
        StreamBuilder b = StreamBuilder.stream().configuration("pc-i440fx-7.2").openReturnPath().ping(1);
        switch (capability) {
            case "postcopy-ram" -> b.postcopyAdvise(4096, 4096);
            case "dirty-bitmaps" -> b.command(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE, new byte[0]);
            default -> b.command(ReturnPath.MIG_CMD_ENABLE_COLO, new byte[0]);
        }
        byte[] head = b.toByteArray();
        // what a source sends next: the RAM section and the rest, after its own header and commands
        byte[] whole = LiveStreams.withReturnPath("pc-i440fx-7.2", 2);
        long commands = StreamBuilder.stream().configuration("pc-i440fx-7.2").openReturnPath().ping(1).position();
        byte[] rest = Arrays.copyOfRange(whole, (int) commands, whole.length);
        LiveRun run = start("-x", "-o", "out", "--save", "raw.mig");
        List<FakeSource.Message> answers;
        try (FakeSource source = FakeSource.connect(socketUri(), TIMEOUT)) {
            source.send(head);
            source.trySend(rest); // qevm may have closed already
            assertTrue(source.awaitClosedByPeer(TIMEOUT), "qevm closes the connection: the source's migration fails");
            answers = source.messages();
        }
        CliRun result = run.result(TIMEOUT);
        assertEquals(1, result.exit());
        assertEquals("qevm: unix:live.sock: the source uses " + capability + ", which needs a real destination ("
                + why + "): turn it off (migrate_set_capability " + capability + " off)\n", result.err());
        assertEquals(List.of("2 1", "1 1"), answers.stream().map(m -> m.type() + " " + m.u32()).toList(),
                "PONG 1, then SHUT with an error");
        assertNothingLeft();
    }

    /** A multifd channel's first bytes (migration/multifd.c MultiFDInit_t): magic, version 1, uuid, id. */
    private static byte[] multifdInit(int id) {
        return ByteBuffer.allocate(64).putInt(Connection.MULTIFD_MAGIC).putInt(1).put(new byte[16]).put((byte) id)
                .array();
    }

    @Test
    void aSecondConnectionThatIsAMultifdChannelIsRefused() throws Exception {
        byte[] stream = LiveStreams.precopy();
        LiveRun run = start("-d", "state", "--save", "raw.mig");
        try (FakeSource source = FakeSource.connect(socketUri(), TIMEOUT)) {
            source.send(Arrays.copyOf(stream, 200)); // the main channel first, as QEMU 7.2 connects it
            try (FakeSource channel = FakeSource.connect(socketUri(), TIMEOUT)) {
                channel.send(multifdInit(0));
                assertTrue(source.awaitClosedByPeer(TIMEOUT));
            }
        }
        CliRun result = run.result(TIMEOUT);
        assertEquals(1, result.exit());
        assertEquals("qevm: unix:live.sock: the source uses multifd, which needs a real destination (it opened a"
                + " second connection, a multifd channel): turn it off (migrate_set_capability multifd off)\n",
                result.err());
        assertEquals("", result.outText());
        assertNothingLeft();
    }

    @Test
    void aFirstConnectionThatIsAMultifdChannelIsRefused() throws Exception {
        LiveRun run = start("-d", "state");
        try (FakeSource channel = FakeSource.connect(socketUri(), TIMEOUT)) {
            channel.send(multifdInit(0));
            assertTrue(channel.awaitClosedByPeer(TIMEOUT));
        }
        CliRun result = run.result(TIMEOUT);
        assertEquals(1, result.exit());
        assertEquals("qevm: unix:live.sock: the source uses multifd, which needs a real destination (its first"
                + " connection is a multifd channel): turn it off (migrate_set_capability multifd off)\n", result.err());
    }

    @Test
    void anotherConnectionIsClosedAndTheCaptureGoesOn() throws Exception {
        byte[] stream = LiveStreams.precopy();
        LiveRun run = start("-d", "state", "--debug");
        try (FakeSource source = FakeSource.connect(socketUri(), TIMEOUT)) {
            source.send(Arrays.copyOf(stream, 200));
            try (FakeSource stray = FakeSource.connect(socketUri(), TIMEOUT)) {
                stray.send("GET / HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                assertTrue(stray.awaitClosedByPeer(TIMEOUT), "the stray connection is closed");
            }
            source.send(Arrays.copyOfRange(stream, 200, stream.length));
        }
        CliRun result = run.result(TIMEOUT);
        assertEquals(0, result.exit(), result.err());
        assertTrue(result.err().contains("qevm: unix:live.sock: 1 other connection(s) came meanwhile, and were closed\n"),
                result.err());
    }

    // ------------------------------------------------------------------ the stream fails

    @Test
    void aCutStreamFailsAsAPipeWouldAndItsBytesAreKept() throws Exception {
        byte[] stream = LiveStreams.withReturnPath("pc-i440fx-7.2", 3);
        byte[] cut = Arrays.copyOf(stream, stream.length / 2);
        LiveRun run = start("-x", "-o", "out", "--save", "raw.mig");
        try (FakeSource source = FakeSource.connect(socketUri(), TIMEOUT)) {
            source.send(cut);
        } // closed: the source is gone
        CliRun result = run.result(TIMEOUT);
        assertEquals(1, result.exit());
        Path file = work.resolve("cut.mig");
        Files.write(file, cut);
        CliRun piped = CliRun.childWithStdin(work, file, TIMEOUT, List.of("-f", "-", "-x", "-o", "piped"));
        assertEquals(1, piped.exit());
        String[] lines = result.err().split("\n");
        assertEquals(2, lines.length, result.err());
        assertEquals(piped.err().replaceFirst("^qevm: -: ", "qevm: unix:live.sock: "), lines[0] + "\n",
                "the error of the same bytes from a pipe");
        assertTrue(lines[0].contains("at byte 0x"), lines[0]);
        assertEquals("qevm: raw.mig.partial: kept the " + cut.length
                + " bytes received (the stream up to where it failed)", lines[1]);
        assertArrayEquals(cut, Files.readAllBytes(work.resolve("raw.mig.partial")), "every byte received");
        assertFalse(Files.exists(work.resolve("raw.mig")), "no file named FILE: it would look whole");
        assertEquals(List.of(), LiveCaptureTest.tree(work.resolve("out")));
    }

    @Test
    void aSourceThatStallsIsGivenUpOnAfterTheTimeout() throws Exception {
        byte[] stream = LiveStreams.precopy();
        int sent = stream.length / 3;
        LiveRun run = start("-d", "state", "--timeout", "1", "--save", "raw.mig");
        long start = System.nanoTime();
        try (FakeSource source = FakeSource.connect(socketUri(), TIMEOUT)) {
            source.send(Arrays.copyOf(stream, sent));
            CliRun result = run.result(Duration.ofSeconds(30)); // the source stays connected, silent
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            assertTrue(seconds < 10, "gave up after " + seconds + " s");
            assertEquals(1, result.exit());
            assertEquals(String.format("qevm: unix:live.sock: the source sent nothing for 1 s, after byte 0x%x (%d):"
                    + " giving up (--timeout)%n", sent, sent), result.err().lines().findFirst().orElse("") + "\n");
            assertTrue(source.awaitClosedByPeer(TIMEOUT));
        }
        assertEquals(sent, Files.size(work.resolve("raw.mig.partial")));
    }

    @Test
    void aSourceThatSendsNothingSaysSo() throws Exception {
        LiveRun run = start("-d", "state");
        FakeSource.connect(socketUri(), TIMEOUT).close(); // connects, then closes without a byte
        CliRun result = run.result(TIMEOUT);
        assertEquals(1, result.exit());
        assertEquals("qevm: unix:live.sock: the source closed the connection without sending anything\n", result.err());
    }

    @Test
    void anAddressInUseCannotBeListenedOn() throws Exception {
        try (ServerSocketChannel taken = ServerSocketChannel.open()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) taken.getLocalAddress()).getPort();
            CliRun result = CliRun.inProcess(work, TIMEOUT, "--incoming", "tcp:127.0.0.1:" + port, "-d", "state");
            assertEquals(1, result.exit());
            assertTrue(result.err().startsWith("qevm: tcp:127.0.0.1:" + port + ": cannot listen: "), result.err());
            assertEquals(1, result.err().lines().count(), result.err());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aUnixPathThatIsASocketIsReplacedAnyOtherFileIsNot(boolean socket) throws Exception {
        Path path = work.resolve("live.sock");
        if (socket) {
            // a socket a killed run left behind
            try (ServerSocketChannel left = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                left.bind(java.net.UnixDomainSocketAddress.of(path));
            }
            assertTrue(Files.exists(path));
            LiveRun run = start("-d", "desc");
            try (FakeSource source = FakeSource.connect(socketUri(), TIMEOUT)) {
                source.send(LiveStreams.precopy());
            }
            assertEquals(0, run.result(TIMEOUT).exit());
            assertFalse(Files.exists(path));
        } else {
            Files.writeString(path, "mine");
            CliRun result = CliRun.inProcess(work, TIMEOUT, "--incoming", "unix:live.sock", "-d", "state");
            assertEquals(1, result.exit());
            assertEquals("qevm: unix:live.sock: cannot listen: " + path + " exists and is not a socket\n", result.err());
            assertEquals("mine", Files.readString(path), "left as it was");
        }
    }
}
