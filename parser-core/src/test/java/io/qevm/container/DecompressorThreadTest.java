package io.qevm.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.CleanFailure;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.exc.MalformedStreamException;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The decompressor's thread ends with the reader: closed early, after a failure at open, or while
 * it waits on a stream that sends nothing more. No thread is left behind, nothing hangs.
 */
class DecompressorThreadTest {

    private static boolean decompressorAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().endsWith("-decompressor") && t.isAlive());
    }

    private static void assertNoDecompressorWithin(Duration wait) throws InterruptedException {
        long end = System.nanoTime() + wait.toNanos();
        while (decompressorAlive() && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertTrue(!decompressorAlive(), "a decompressor thread is still alive");
    }

    /** Closed after the first event of a stream much larger than the decompressor's buffers. */
    @Test
    void closedEarly() throws InterruptedException {
        byte[] start = StreamBuilder.stream().configuration("pc-q35-10.0").toByteArray();
        byte[] stream = Arrays.copyOf(start, 64 << 20); // then zeros: never read that far
        byte[] compressed = CompressedDumpsTest.library("zstd", stream);
        try (MigrationReader reader = SourceKind.MAPPED.open(compressed)) {
            assertEquals(MigrationEvent.CONFIGURATION, reader.next());
            assertTrue(decompressorAlive(), "the thread waits, its buffers full, while the reader reads");
        }
        assertNoDecompressorWithin(Duration.ofSeconds(5));
    }

    @Test
    void failedAtOpen() throws InterruptedException {
        byte[] notADump = Tools.compress(new byte[1 << 22], "gzip");
        assertThrows(MalformedStreamException.class, () -> SourceKind.STREAM.open(notADump).close());
        assertNoDecompressorWithin(Duration.ofSeconds(5));
    }

    /**
     * A stream that sends the start of a dump and then nothing (a migration that stalled): what
     * was sent reaches the reader (the decompressor hands over what it has, it does not wait to
     * fill a buffer), and closing the reader stops the decompressor blocked on the pipe.
     */
    @Test
    void closedWhileTheInputStalls() throws IOException, InterruptedException {
        PipedInputStream in = new PipedInputStream(1 << 16);
        PipedOutputStream out = new PipedOutputStream(in);
        GZIPOutputStream gzip = new GZIPOutputStream(out, 1024, true);
        byte[] dump = CleanFailure.sample("n-pc-paused");
        gzip.write(dump, 0, 4096);
        gzip.flush(); // SYNC_FLUSH: what was written can be decompressed, the member goes on
        MigrationReader reader = MigrationReader.open(in, ReadOptions.DEFAULT);
        assertEquals(MigrationEvent.CONFIGURATION, reader.next());
        long start = System.nanoTime();
        reader.close(); // the decompressor is blocked reading the pipe, which sends nothing more
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "close() waited");
        assertNoDecompressorWithin(Duration.ofSeconds(5));
        out.close();
    }
}
