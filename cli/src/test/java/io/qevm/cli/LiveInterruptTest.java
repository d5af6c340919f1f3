package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.qevm.cli.ExtractInterruptTest.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qevm --incoming} stopped by a real signal sent to a real process (a child JVM): while it
 * waits for the source, and in the middle of a stream that has made its {@code -x} partial files
 * and its {@code --save} file. It exits 130 (SIGINT, Ctrl-C) or 143 (SIGTERM), says nothing, and
 * leaves nothing: no unix socket's path, no FILE nor FILE.partial, no output directory.
 */
final class LiveInterruptTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path work;

    private static List<Path> partialFiles(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(p -> p.getFileName().toString().startsWith(".qevm-")).toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of(); // not there yet
        }
    }

    @Test
    void sigtermWhileListeningRemovesTheSocket() throws Exception {
        Path socket = work.resolve("live.sock");
        try (ChildCli child = ChildCli.start(work, List.of(), List.of("--incoming", "unix:live.sock", "-d", "state"))) {
            await(() -> Files.exists(socket, LinkOption.NOFOLLOW_LINKS), child, "the child listens");
            child.terminate();
            assertEquals(143, child.waitFor(TIMEOUT), "stderr: " + child.err());
            assertEquals("", child.err());
            assertEquals("", child.out());
        }
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket's path is removed");
    }

    @Test
    void sigintMidStreamLeavesNothing() throws Exception {
        byte[] stream = LiveStreams.withReturnPath("pc-i440fx-7.2", 3);
        int sent = stream.length / 2;
        Path socket = work.resolve("live.sock");
        try (ChildCli child = ChildCli.start(work, ChildCli.defaultSigint(),
                List.of("--incoming", "unix:live.sock", "-x", "-o", "new/out", "--save", "raw.mig"))) {
            await(() -> Files.exists(socket, LinkOption.NOFOLLOW_LINKS), child, "the child listens");
            try (FakeSource source = FakeSource.connect("unix:" + socket, TIMEOUT)) {
                source.send(Arrays.copyOf(stream, sent)); // and then it stalls, the connection open
                Path partial = work.resolve("raw.mig.partial");
                await(() -> {
                    try {
                        return Files.exists(partial) && Files.size(partial) == sent;
                    } catch (IOException e) {
                        return false;
                    }
                }, child, "the child saves what it received");
                await(() -> !partialFiles(work.resolve("new")).isEmpty(), child, "the child makes its partial files");
                child.signal("INT");
                assertEquals(130, child.waitFor(TIMEOUT), "stderr: " + child.err());
                assertEquals("", child.err(), "a signal is reported by the exit status alone");
                assertEquals("", child.out());
                assertTrue(source.awaitClosedByPeer(TIMEOUT), "the connection is closed");
            }
        }
        assertEquals(List.of(), LiveCaptureTest.tree(work), "nothing left: " + list(work));
        assertFalse(Files.exists(work.resolve("new")), "the directories the run made are gone: " + list(work));
    }

    private static List<String> list(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }
}
