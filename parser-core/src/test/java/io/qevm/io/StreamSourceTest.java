package io.qevm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadLimits;
import io.qevm.ReadOptions;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamSource}: a sliding window over a channel read once. Windows start at the offset
 * asked for, what lies before it is forgotten (and cannot be asked for again), reads stop as
 * soon as the bytes asked for are there, and once the end is read every offset held is answered.
 */
final class StreamSourceTest {

    private static byte[] bytesOf(MemorySegment window, int from, int length) {
        return window.asSlice(from, length).toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] range(byte[] bytes, long from, long length) {
        return Arrays.copyOfRange(bytes, (int) from, (int) (from + length));
    }

    @Test
    void aWindowStartsAtTheOffsetAskedAndHoldsWhatWasRead() throws IOException {
        byte[] bytes = Sources.pattern(1000, 1);
        Sources.Chunked channel = new Sources.Chunked(bytes, 4, 3);
        try (StreamSource source = new StreamSource(channel, "<chunked>")) {
            MemorySegment window = source.window(0, 10);
            assertEquals(10, window.byteSize(), "4, then 3 and 3: read until the 10 bytes are there, no further");
            assertEquals(10, channel.handedOut());
            assertArrayEquals(range(bytes, 0, 10), bytesOf(window, 0, 10));

            window = source.window(6, 8);
            assertArrayEquals(range(bytes, 6, 8), bytesOf(window, 0, 8), "index 0 is offset 6");
            assertEquals(16, channel.handedOut(), "bytes 6-9 were kept, 10-15 read");
            assertEquals(10, window.byteSize());
        }
    }

    /** Moving forward keeps what is buffered from the new offset on: the channel is not asked for it again. */
    @Test
    void compactionKeepsFromTheOffsetAsked() throws IOException {
        byte[] bytes = Sources.pattern(20_000, 2);
        Sources.Chunked channel = new Sources.Chunked(bytes, 5000, 5000);
        try (StreamSource source = new StreamSource(channel, "<chunked>")) {
            source.window(0, 5000);
            MemorySegment window = source.window(4000, 3000);
            assertArrayEquals(range(bytes, 4000, 3000), bytesOf(window, 0, 3000));
            assertEquals(10_000, channel.handedOut(), "1000 bytes kept, one more read of 5000");
            assertEquals(6000, window.byteSize());

            window = source.window(9999, 1); // the last byte buffered
            assertEquals(bytes[9999], window.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(10_000, channel.handedOut());

            IllegalStateException back = assertThrows(IllegalStateException.class, () -> source.window(9998, 1));
            assertEquals("a stream cannot go back to offset 9998 from 9999", back.getMessage());
        }
    }

    /** Far past the buffer: read and dropped in windows, memory stays at the first window's size. */
    @Test
    void skippingFarPastTheBuffer() throws IOException {
        int size = 3 * StreamSource.INITIAL_WINDOW + 12_345;
        byte[] bytes = Sources.pattern(size, 3);
        try (StreamSource source = new StreamSource(new Sources.Chunked(bytes, 100, 100_000), "<chunked>")) {
            source.window(0, 50);
            long far = size - 1000L;
            MemorySegment window = source.window(far, 16);
            assertArrayEquals(range(bytes, far, 16), bytesOf(window, 0, 16));
            assertTrue(window.byteSize() <= StreamSource.INITIAL_WINDOW, "window " + window.byteSize());
            assertEquals(-1, source.size());

            MemorySegment past = source.window(size + 10L, 4);
            assertEquals(0, past.byteSize(), "past the end: an empty window");
            assertEquals(size, source.size(), "the end was read");
        }
    }

    @Test
    void aWindowLargerThanTheBufferGrowsIt() throws IOException {
        int size = 2 * StreamSource.INITIAL_WINDOW + 100;
        byte[] bytes = Sources.pattern(size, 4);
        try (StreamSource source = new StreamSource(new Sources.Chunked(bytes, 10, 65_536), "<chunked>")) {
            long wanted = StreamSource.INITIAL_WINDOW + 1000L;
            MemorySegment window = source.window(7, wanted);
            assertTrue(window.byteSize() >= wanted, "window " + window.byteSize());
            assertEquals(bytes[(int) (7 + wanted - 1)], window.get(ValueLayout.JAVA_BYTE, wanted - 1));
            assertEquals(bytes[7], window.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    /** A length read from a corrupt stream is asked for as it is: the window ends where the stream does. */
    @Test
    void aHugeWindowOfAShortStreamIsTheStream() throws IOException {
        byte[] bytes = Sources.pattern(100, 5);
        try (StreamSource source = new StreamSource(new Sources.Chunked(bytes, 30, 30), "<chunked>")) {
            MemorySegment window = source.window(10, 3L << 30);
            assertEquals(90, window.byteSize());
            assertArrayEquals(range(bytes, 10, 90), bytesOf(window, 0, 90));
            assertEquals(100, source.size());
        }
    }

    @Test
    void sizeIsUnknownUntilTheEndIsRead() throws IOException {
        byte[] bytes = Sources.pattern(64, 6);
        try (StreamSource source = new StreamSource(new Sources.Chunked(bytes, 64, 64), "<chunked>")) {
            assertEquals(64, source.window(0, 64).byteSize());
            assertEquals(-1, source.size(), "all bytes are there, but the end has not been seen");
            assertEquals(64, source.window(0, 65).byteSize());
            assertEquals(64, source.size());
            assertEquals(24, source.window(40, 100).byteSize(), "after the end: what is held");
        }
    }

    @Test
    void aChannelThatReturnsNothingYetIsAskedAgain() throws IOException {
        byte[] bytes = Sources.pattern(32, 7);
        Sources.Chunked channel = new Sources.Chunked(bytes, 8, 8);
        channel.zeroReadsLeft = 5;
        try (StreamSource source = new StreamSource(channel, "<non-blocking>")) {
            MemorySegment window = source.window(0, 20);
            assertEquals(24, window.byteSize());
            assertArrayEquals(range(bytes, 0, 20), bytesOf(window, 0, 20));
            assertEquals(0, channel.zeroReadsLeft);
        }
    }

    // ------------------------------------------------------------------ the end

    @Test
    void onceTheEndIsReadEveryOffsetFromTheWindowStartIsAnswered() throws IOException {
        byte[] bytes = Sources.pattern(50_000, 8);
        try (StreamSource source = new StreamSource(new Sources.Chunked(bytes, 1000, 777), "<chunked>")) {
            source.window(0, 100);
            source.window(200, 10);
            assertEquals(49_700, source.window(300, Long.MAX_VALUE).byteSize(), "a window past the end: the rest");
            assertEquals(50_000, source.size());
            MemorySegment late = source.window(40_000, 8);
            assertArrayEquals(range(bytes, 40_000, 8), bytesOf(late, 0, 8));
            MemorySegment early = source.window(300, 49_700);
            assertEquals(49_700, early.byteSize(), "back to the window's start, after a later window");
            assertArrayEquals(range(bytes, 300, 49_700), bytesOf(early, 0, 49_700));
            assertEquals(0, source.window(50_000, 1).byteSize());
            assertThrows(IllegalStateException.class, () -> source.window(299, 1), "before the window: forgotten");
        }
    }

    /**
     * Through the reader: the device state of a stream, held until its description arrives, is
     * bounded by ReadLimits.maxHeldStreamBytes even when the bound is below the window's size.
     */
    @Test
    void theReaderHoldsNoMoreThanMaxHeldStreamBytes() throws IOException {
        StreamBuilder builder = StreamBuilder.stream().sectionStart(2, "ram", 0, 4)
                .memSize(4096).block("pc.ram", 4096).eos().footer(2)
                .sectionEnd(2).eos().footer(2);
        long device = builder.position();
        builder.sectionFull(3, "timer", 0, 2);
        for (int i = 0; i < 200; i++) {
            builder.u64(i);
        }
        String[] fields = new String[200];
        for (int i = 0; i < 200; i++) {
            fields[i] = Json.field("t" + i, "int64", 8);
        }
        byte[] bytes = builder.footer(3).eof().description(Json.description(4096, Json.device("timer", 0, 2, fields)))
                .toByteArray();
        ReadOptions small = ReadOptions.builder().limits(ReadLimits.builder().maxHeldStreamBytes(1000).build()).build();
        try (MigrationReader reader = MigrationReader.open(new ByteArrayInputStream(bytes), small)) {
            LimitExceededException e = assertThrows(LimitExceededException.class, () -> {
                for (MigrationEvent event = reader.next(); event != MigrationEvent.EOF; event = reader.next()) {
                    // read to the device section, where the rest of the stream is held
                }
            });
            assertEquals(device, e.eventOffset());
            assertEquals("more than 1000 bytes of device state follow the first device section of the stream, held"
                    + " until the JSON VM description after them arrives (see ReadLimits.maxHeldStreamBytes)",
                    e.problem());
        }
        ReadOptions enough = ReadOptions.builder()
                .limits(ReadLimits.builder().maxHeldStreamBytes(bytes.length).build()).build();
        try (MigrationReader reader = MigrationReader.open(new ByteArrayInputStream(bytes), enough)) {
            int fieldsRead = 0;
            for (MigrationEvent event = reader.next(); event != MigrationEvent.EOF; event = reader.next()) {
                fieldsRead += event == MigrationEvent.FIELD ? 1 : 0;
            }
            assertEquals(200, fieldsRead);
        }
    }

    // ------------------------------------------------------------------ the rest of the interface

    @Test
    void closeClosesTheChannelOnce() {
        Sources.Chunked channel = new Sources.Chunked(new byte[10], 10, 10);
        StreamSource source = new StreamSource(channel, "<chunked>");
        assertFalse(source.isRandomAccess());
        assertEquals("input", source.kind());
        assertEquals("<chunked>", source.name());
        source.close();
        assertTrue(channel.closed);
        source.close(); // again: nothing happens
    }

    @Test
    void aFileInputStreamIsReadThroughItsChannel(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        byte[] bytes = Sources.pattern(70_000, 11);
        Path file = dir.resolve("stream.bin");
        java.nio.file.Files.write(file, bytes);
        try (ByteSource source = ByteSource.of(new FileInputStream(file.toFile()), "<file stream>")) {
            assertTrue(source instanceof StreamSource);
            MemorySegment window = source.window(60_000, 10_000);
            assertArrayEquals(range(bytes, 60_000, 10_000), bytesOf(window, 0, 10_000));
            assertEquals(0, source.window(70_000, 1).byteSize());
            assertEquals(70_000, source.size());
        }
    }
}
