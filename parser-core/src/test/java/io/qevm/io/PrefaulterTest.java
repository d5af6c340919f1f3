package io.qevm.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The thread that maps a large file's pages ahead of the cursor: started only for a file larger
 * than {@link MappedFileSource#PREFAULT_FROM}, gone when the source is closed, also when it is
 * closed in the middle of its work (a touch after the unmapping would throw in that thread and
 * print a stack trace), and the windows read the same bytes with it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class PrefaulterTest {

    @TempDir
    Path scratch;

    /** A sparse file of {@code size} bytes with a marker byte every 16 MiB. */
    private Path sparseFile(long size) throws IOException {
        Path file = scratch.resolve("big-" + size);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(size);
            for (long at = 0; at < size; at += 16L << 20) {
                out.seek(at);
                out.write((int) (at >>> 24) | 1);
            }
        }
        return file;
    }

    private static long prefaultThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("qevm-prefault") && t.isAlive())
                .count();
    }

    @Test
    void closedWhileTouchingLeavesNoThreadAndReadsTheSameBytes() throws IOException {
        long size = MappedFileSource.PREFAULT_FROM + (48L << 20);
        Path file = sparseFile(size);
        for (int round = 0; round < 20; round++) {
            try (ByteSource source = ByteSource.open(file)) {
                ReadLocation location = new ReadLocation();
                ByteCursor cursor = new ByteCursor(source, location, 0);
                location.attach(cursor);
                // a cursor walking the file: windows asked in order, the thread told each time
                for (long at = 0; at < size; at += 16L << 20) {
                    cursor.skipTo(at, "bytes");
                    cursor.mark();
                    assertEquals((byte) ((at >>> 24) | 1), (byte) cursor.u8(), "marker at " + at);
                    if (round % 2 == 1 && at >= 64L << 20) {
                        break; // closed with the thread somewhere ahead
                    }
                }
            }
        }
        assertEquals(0, prefaultThreads(), "every source's thread stopped at close");
    }

    @Test
    void aSmallFileHasNoThread() throws IOException {
        Path file = sparseFile(MappedFileSource.PREFAULT_FROM);
        try (ByteSource source = ByteSource.open(file)) {
            MemorySegment window = source.window(0, 1);
            assertEquals(1, window.get(ValueLayout.JAVA_BYTE, 0));
            assertFalse(prefaultThreads() > 0, "no thread for a file of PREFAULT_FROM bytes");
        }
    }
}
