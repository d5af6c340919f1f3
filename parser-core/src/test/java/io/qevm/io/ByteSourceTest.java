package io.qevm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link ByteSource}'s factories pick the kind of source from what they are given. */
final class ByteSourceTest {

    @TempDir
    Path dir;

    @Test
    void aRegularFileIsMapped() throws IOException {
        byte[] bytes = Sources.pattern(1000, 1);
        Path file = dir.resolve("a.mig");
        Files.write(file, bytes);
        try (ByteSource source = ByteSource.open(file)) {
            assertInstanceOf(MappedFileSource.class, source);
            assertTrue(source.isRandomAccess());
            assertEquals(1000, source.size());
            assertEquals(file.toString(), source.name());
            assertArrayEquals(bytes, source.window(0, 1000).asSlice(0, 1000).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /** A FIFO is read as a stream, as {@code qevm -f FIFO} does: forward, its size known at its end. */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aFifoIsAStream() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor(), "mkfifo");
        byte[] bytes = Sources.pattern(100_000, 2);
        // opening a FIFO blocks until both ends are open: the writer runs beside the reader
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream out = Files.newOutputStream(fifo)) {
                for (int at = 0; at < bytes.length; at += 7000) {
                    out.write(bytes, at, Math.min(7000, bytes.length - at));
                    out.flush();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (ByteSource source = ByteSource.open(fifo)) {
            assertInstanceOf(StreamSource.class, source);
            assertFalse(source.isRandomAccess());
            assertEquals("input", source.kind());
            assertEquals(-1, source.size());
            MemorySegment window = source.window(50_000, 20_000);
            assertArrayEquals(Arrays.copyOfRange(bytes, 50_000, 70_000),
                    window.asSlice(0, 20_000).toArray(ValueLayout.JAVA_BYTE));
            assertThrows(IllegalStateException.class, () -> source.window(0, 1), "a FIFO cannot go back");
            assertEquals(10_000, source.window(90_000, 1 << 20).byteSize(), "to the end");
            assertEquals(100_000, source.size());
        }
        writer.get(10, TimeUnit.SECONDS);
    }

    /** A character device (here /dev/null) is not a regular file: a stream, empty. */
    @Test
    void aCharacterDeviceIsAStream() throws IOException {
        Path devNull = Path.of("/dev/null");
        if (!Files.exists(devNull)) {
            return;
        }
        try (ByteSource source = ByteSource.open(devNull)) {
            assertInstanceOf(StreamSource.class, source);
            assertEquals(0, source.window(0, 8).byteSize());
            assertEquals(0, source.size());
        }
    }

    @Test
    void aDirectoryIsRefused() {
        IOException e = assertThrows(IOException.class, () -> ByteSource.open(dir));
        assertEquals("is a directory", e.getMessage());
    }

    @Test
    void aMissingFileIsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> ByteSource.open(dir.resolve("missing.mig")));
    }

    @Test
    void anArrayIsASegmentSource() throws IOException {
        byte[] bytes = Sources.pattern(50, 3);
        try (ByteSource source = ByteSource.of(bytes, "<memory>")) {
            assertEquals(SegmentSource.class, source.getClass(), "the array's own segment, not a mapping");
            assertTrue(source.isRandomAccess());
            assertEquals("file", source.kind());
            assertEquals(50, source.size());
            MemorySegment window = source.window(10, 1);
            assertEquals(40, window.byteSize(), "everything from the offset on");
            assertEquals(bytes[10], window.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0, source.window(50, 1).byteSize());
            assertEquals(0, source.window(60, 1).byteSize());
            bytes[10] = 99;
            assertEquals(99, window.get(ValueLayout.JAVA_BYTE, 0), "the array is not copied");
        }
    }

    @Test
    void anInputStreamIsAStream() throws IOException {
        byte[] bytes = Sources.pattern(50, 4);
        try (ByteSource source = ByteSource.of(new ByteArrayInputStream(bytes), "<stdin>")) {
            assertInstanceOf(StreamSource.class, source);
            assertEquals("<stdin>", source.name());
            assertEquals(50, source.window(0, 100).byteSize());
            assertEquals(50, source.size());
        }
    }
}
