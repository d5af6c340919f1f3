package io.qevm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MappedFileSource}: one mapping handed out in windows of {@link MappedFileSource#WINDOW}
 * bytes (more when more is asked for), whose pages behind the cursor are handed back to the
 * kernel in 2 MiB granules without the bytes changing.
 */
final class MappedFileSourceTest {

    private static final long GRANULE = 2 << 20;

    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path file = dir.resolve("mapped.bin");
        Files.write(file, bytes);
        return file;
    }

    /** A sparse file of {@code size} bytes, a marker byte (its offset mod 251) every 4 MiB, 0x7f last. */
    private Path sparse(long size) throws IOException {
        Path file = dir.resolve("sparse.bin");
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(size);
            for (long at = 0; at < size; at += 1 << 22) {
                out.seek(at);
                out.write((int) (at % 251));
            }
            out.seek(size - 1);
            out.write(0x7f);
        }
        return file;
    }

    @Test
    void windowsAreWindowBytesOrWhatIsAskedOrWhatIsLeft() throws IOException {
        long size = MappedFileSource.WINDOW + (5 << 20);
        try (MappedFileSource source = MappedFileSource.open(sparse(size))) {
            assertEquals(size, source.size());
            assertTrue(source.isRandomAccess());
            assertEquals("file", source.kind());
            assertEquals(MappedFileSource.WINDOW, source.window(0, 1).byteSize(), "a whole window for one byte");
            assertEquals(MappedFileSource.WINDOW + 100, source.window(0, MappedFileSource.WINDOW + 100).byteSize(),
                    "more when more is asked for");
            assertEquals(10, source.window(size - 10, 1).byteSize(), "what is left");
            assertEquals(0, source.window(size, 8).byteSize(), "nothing at the end");
            assertEquals(0, source.window(size + 100, 8).byteSize(), "nothing past it");

            long at = 3L << 22;
            MemorySegment window = source.window(at, 1);
            assertEquals((byte) (at % 251), window.get(ValueLayout.JAVA_BYTE, 0), "index 0 is the offset asked");
            assertEquals(0x7f, source.window(size - 1, 1).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0x7f, window.get(ValueLayout.JAVA_BYTE, size - 1 - at), "the window runs past 64 MiB");
        }
    }

    /** Releasing hands pages back; reading them again maps them again, with the same bytes. */
    @Test
    void releaseDoesNotBreakLaterReads() throws IOException {
        byte[] bytes = Sources.pattern((int) (5 * GRANULE + 12_345), 17);
        try (MappedFileSource source = MappedFileSource.open(file(bytes))) {
            MemorySegment whole = source.window(0, bytes.length);
            assertEquals(bytes.length, whole.byteSize());
            source.release(0, GRANULE - 1); // no whole granule: nothing
            source.release(0, GRANULE + 5);
            source.release(GRANULE + 5, 3 * GRANULE);
            source.release(3 * GRANULE, GRANULE); // an empty range: nothing
            source.release(-GRANULE, bytes.length + GRANULE); // beyond both ends
            assertArrayEquals(bytes, whole.toArray(ValueLayout.JAVA_BYTE), "an earlier window reads the same");
            for (long at = 0; at < bytes.length; at += GRANULE / 2) {
                MemorySegment again = source.window(at, 64);
                int n = (int) Math.min(64, bytes.length - at);
                assertArrayEquals(Arrays.copyOfRange(bytes, (int) at, (int) at + n),
                        again.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), "at " + at);
            }
        }
    }

    /** Through a cursor, which releases behind itself at every refill. */
    @Test
    void aCursorReadsAcrossReleasedGranules() throws IOException {
        int size = (int) (4 * GRANULE + 7);
        byte[] bytes = Sources.pattern(size, 19);
        try (MappedFileSource source = MappedFileSource.open(file(bytes))) {
            ReadLocation at = new ReadLocation();
            ByteCursor in = new ByteCursor(source, at, 0);
            at.attach(in);
            long sum = 0;
            long expected = 0;
            for (int i = 0; i < size; i++) {
                expected += bytes[i];
            }
            for (long p = 0; p < size; p += GRANULE / 4) {
                in.skipTo(p, "ahead");
                in.mark();
                long chunk = Math.min(GRANULE / 4, size - p);
                long start = in.take(chunk, "chunk");
                MemorySegment view = in.slice(start, chunk);
                for (long i = 0; i < chunk; i++) {
                    sum += view.get(ValueLayout.JAVA_BYTE, i);
                }
                source.release(0, p); // as a refill would
            }
            assertEquals(expected, sum);
        }
    }

    @Test
    void anEmptyFile() throws IOException {
        try (MappedFileSource source = MappedFileSource.open(file(new byte[0]))) {
            assertEquals(0, source.size());
            assertEquals(0, source.window(0, 10).byteSize());
            assertEquals(0, source.window(5, 10).byteSize());
            source.release(0, 100);
        }
    }

    @Test
    void windowsAreInvalidAfterClose() throws IOException {
        MappedFileSource source = MappedFileSource.open(file(Sources.pattern(100, 1)));
        MemorySegment window = source.window(0, 10);
        source.close();
        assertThrows(IllegalStateException.class, () -> window.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void aMissingFile() {
        assertThrows(NoSuchFileException.class, () -> MappedFileSource.open(dir.resolve("missing.mig")));
    }
}
