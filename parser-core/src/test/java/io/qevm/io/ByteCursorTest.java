package io.qevm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.Sources.Kind;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ByteCursor} over every kind of source: relative and absolute reads, the one slow path
 * (a refill, or a {@link TruncatedInputException} naming where the data ends), limits, views,
 * and holding the rest of a stream. Errors are asserted by their problem text, the offset where
 * the data ends ({@code position()}) and the event offset the {@link ReadLocation} had.
 */
final class ByteCursorTest {

    /** A cursor at {@code position} of a source of {@code kind} over {@code bytes}, located by {@link #at}. */
    private ReadLocation at;

    private ByteCursor cursor(Kind kind, byte[] bytes, long position) {
        at = new ReadLocation();
        ByteCursor in = new ByteCursor(Sources.open(kind, bytes), at, position);
        at.attach(in);
        return in;
    }

    private ByteCursor cursor(Kind kind, byte[] bytes) {
        return cursor(kind, bytes, 0);
    }

    private static ByteCursor cursorOver(ByteSource source) {
        ReadLocation location = new ReadLocation();
        ByteCursor in = new ByteCursor(source, location, 0);
        location.attach(in);
        return in;
    }

    private static TruncatedInputException truncated(String problem, long endOfData, long eventOffset, Executable read) {
        TruncatedInputException e = assertThrows(TruncatedInputException.class, read);
        assertEquals(problem, e.problem());
        assertEquals(endOfData, e.position(), "where the data ends");
        assertEquals(eventOffset, e.eventOffset(), "the event being read");
        return e;
    }

    // ------------------------------------------------------------------ relative reads

    @ParameterizedTest
    @EnumSource(Kind.class)
    void everyWidthAndByteOrder(Kind kind) {
        byte[] bytes = Sources.pattern(64, 11);
        ByteBuffer expected = ByteBuffer.wrap(bytes);
        ByteCursor in = cursor(kind, bytes);

        assertEquals(bytes[0] & 0xff, in.u8());
        assertEquals(expected.order(ByteOrder.BIG_ENDIAN).getShort(1) & 0xffff, in.be16());
        assertEquals(Integer.toUnsignedLong(expected.getInt(3)), in.be32());
        assertEquals(Integer.toUnsignedLong(expected.order(ByteOrder.LITTLE_ENDIAN).getInt(7)), in.le32());
        assertEquals(expected.order(ByteOrder.BIG_ENDIAN).getLong(11), in.be64());
        assertEquals(expected.order(ByteOrder.LITTLE_ENDIAN).getLong(19), in.le64());
        assertEquals(27, in.position());
        assertEquals(bytes[27] & 0xff, in.peekU8(), "a peek does not move");
        assertEquals(expected.order(ByteOrder.BIG_ENDIAN).getLong(27), in.peekBe64());
        assertEquals(27, in.position());
        assertEquals(bytes[27] & 0xff, in.u8());
        assertEquals(28, in.position());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void valuesAreUnsignedUpTo32Bits(Kind kind) {
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 0xff);
        ByteCursor in = cursor(kind, ones);
        assertEquals(0xff, in.u8());
        assertEquals(0xffff, in.be16());
        assertEquals(0xffffffffL, in.be32());
        assertEquals(0xffffffffL, in.le32());
        assertEquals(-1L, in.be64(), "64-bit values are the raw bits");
        assertEquals(-1L, in.le64());
    }

    /**
     * A channel that hands out {@code first} bytes and then {@code chunk} at a time: with every
     * first read size from 0 to 24, each value straddles a refill at each of its bytes.
     */
    @Test
    void everyRefillBoundaryOfATricklingStream() {
        byte[] bytes = Sources.pattern(96, 5);
        for (int chunk : new int[] {1, 2, 3, 5, 7}) {
            for (int first = 0; first <= 24; first++) {
                Sources.Chunked channel = new Sources.Chunked(bytes, first, chunk);
                ByteCursor in = cursorOver(ByteSource.of(channel, "<chunked>"));
                ByteBuffer big = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
                ByteBuffer little = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                String where = "first " + first + ", chunk " + chunk;
                for (int round = 0; round < 3; round++) {
                    int base = round * 29;
                    in.mark(); // the window may slide past what was read
                    assertEquals(bytes[base] & 0xff, in.u8(), where);
                    assertEquals(big.getShort(base + 1) & 0xffff, in.be16(), where);
                    assertEquals(Integer.toUnsignedLong(big.getInt(base + 3)), in.be32(), where);
                    assertEquals(Integer.toUnsignedLong(little.getInt(base + 7)), in.le32(), where);
                    assertEquals(big.getLong(base + 11), in.peekBe64(), where);
                    assertEquals(big.getLong(base + 11), in.be64(), where);
                    assertEquals(little.getLong(base + 19), in.le64(), where);
                    assertEquals(bytes[base + 27] & 0xff, in.peekU8(), where);
                    in.skip(2, "padding");
                }
                // a stream is read no further than asked: a live one is never waited on
                assertTrue(channel.handedOut() <= Math.max(3 * 29, first) + chunk, where + ": read " + channel.handedOut());
            }
        }
    }

    /** Random widths over a randomly trickling stream agree with a ByteBuffer, mark or no mark. */
    @Test
    void randomReadsOverATricklingStream() {
        byte[] bytes = Sources.pattern(20_000, 3);
        ByteBuffer big = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        ByteBuffer little = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Random random = new Random(42);
        ByteCursor in = cursor(Kind.TRICKLE, bytes);
        while (in.position() < bytes.length - 8) {
            int p = (int) in.position();
            if (random.nextInt(4) == 0) {
                in.mark();
            }
            switch (random.nextInt(7)) {
                case 0 -> assertEquals(bytes[p] & 0xff, in.u8());
                case 1 -> assertEquals(big.getShort(p) & 0xffff, in.be16());
                case 2 -> assertEquals(Integer.toUnsignedLong(big.getInt(p)), in.be32());
                case 3 -> assertEquals(Integer.toUnsignedLong(little.getInt(p)), in.le32());
                case 4 -> assertEquals(big.getLong(p), in.be64());
                case 5 -> assertEquals(little.getLong(p), in.le64());
                default -> {
                    int length = random.nextInt(8);
                    long start = in.take(length, "bytes");
                    assertArrayEquals(java.util.Arrays.copyOfRange(bytes, p, p + length),
                            in.slice(start, length).toArray(ValueLayout.JAVA_BYTE));
                }
            }
        }
    }

    // ------------------------------------------------------------------ the end of the data

    @ParameterizedTest
    @EnumSource(Kind.class)
    void eachReadPastTheEndNamesWhatAndWhere(Kind kind) {
        byte[] three = {1, 2, 3};
        String end = "the end of the " + kind.end() + " (at byte 3)";
        ByteCursor in = cursor(kind, three);
        in.u8();
        at.startEvent(null); // the event starts at byte 1
        truncated("expected 4 bytes of a 32-bit value, found " + end, 3, 1, in::be32);
        truncated("expected 4 bytes of a 32-bit value, found " + end, 3, 1, in::le32);
        truncated("expected 8 bytes of a 64-bit value, found " + end, 3, 1, in::be64);
        truncated("expected 8 bytes of a 64-bit value, found " + end, 3, 1, in::le64);
        truncated("expected 8 bytes of a 64-bit value, found " + end, 3, 1, in::peekBe64);
        assertEquals(1, in.position(), "a failed read does not move");
        assertEquals(0x0203, in.be16());
        assertEquals(3, in.position());
        truncated("expected 2 bytes of a 16-bit value, found " + end, 3, 1, in::be16);
        truncated("expected a byte, found " + end, 3, 1, in::u8);
        truncated("expected a byte, found " + end, 3, 1, in::peekU8);
        truncated("expected 5 bytes of block name, found " + end, 3, 1, () -> in.take(5, "block name"));
        assertEquals(3, in.take(0, "nothing"), "nothing is there to take at the end");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void emptySource(Kind kind) {
        ByteCursor in = cursor(kind, new byte[0]);
        truncated("expected a byte, found the end of the " + kind.end() + " (at byte 0)", 0, 0, in::u8);
        assertEquals(0, in.lookAhead(16));
    }

    // ------------------------------------------------------------------ take, skip, rewind

    @ParameterizedTest
    @EnumSource(Kind.class)
    void takeHandsOutAView(Kind kind) {
        byte[] bytes = Sources.pattern(32, 1);
        ByteCursor in = cursor(kind, bytes);
        in.u8();
        long start = in.take(10, "name");
        assertEquals(1, start);
        assertEquals(11, in.position());
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 1, 11), in.slice(start, 10).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(bytes[5], in.segment().get(ValueLayout.JAVA_BYTE, in.index(5)), "segment() at index()");
        truncated("expected 30 bytes of page, found the end of the " + kind.end() + " (at byte 32)", 32, 0,
                () -> in.take(30, "page"));
        assertEquals(11, in.position());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void skipAndSkipTo(Kind kind) {
        byte[] bytes = Sources.pattern(64, 2);
        ByteCursor in = cursor(kind, bytes);
        in.skip(10, "gap");
        assertEquals(bytes[10] & 0xff, in.u8());
        in.skipTo(40, "more");
        assertEquals(bytes[40] & 0xff, in.u8());
        in.skip(0, "nothing");
        assertEquals(41, in.position());
        IllegalArgumentException back = assertThrows(IllegalArgumentException.class, () -> in.skipTo(40, "back"));
        assertEquals("cannot go back from 41 to 40", back.getMessage());
        truncated("expected 30 bytes of hash PTEs, found the end of the " + kind.end() + " (at byte 64)", 64, 0,
                () -> in.skip(30, "hash PTEs"));
        assertEquals(41, in.position(), "the skip that failed starts over from where it started");
        in.skip(23, "the rest");
        assertEquals(64, in.position());
        truncated("expected a byte, found the end of the " + kind.end() + " (at byte 64)", 64, 0, in::u8);
    }

    /** A skip past the buffered window reads through it (a stream) or just moves (a file); the bytes after are right. */
    @ParameterizedTest
    @EnumSource(value = Kind.class, names = {"HEAP", "MAPPED", "STREAM", "TRICKLE"})
    void skipFarPastTheWindow(Kind kind) {
        int size = (StreamSource.INITIAL_WINDOW * 5) / 2; // two and a half windows of a stream
        byte[] bytes = Sources.pattern(size, 9);
        ByteCursor in = cursor(kind, bytes);
        in.u8();
        long target = size - 100;
        in.skipTo(target, "far");
        ByteBuffer big = ByteBuffer.wrap(bytes);
        assertEquals(big.getLong((int) target), in.be64());
        in.skip(84, "near the end");
        assertEquals(big.getLong(size - 8), in.be64());
        truncated("expected a byte, found the end of the " + kind.end() + " (at byte " + size + ")", size, 0,
                in::u8);
    }

    /** On a stream the skip reads to the end before it knows; the cursor then stays where it was. */
    @Test
    void skipPastTheEndOfAStreamThatIsLongerThanAChunk() {
        int size = (3 << 20) + 5;
        ByteCursor in = cursor(Kind.STREAM, Sources.pattern(size, 4));
        in.be32();
        truncated("expected " + (size + 10L) + " bytes of storage attributes, found the end of the input (at byte "
                + size + ")", size, 0, () -> in.skip(size + 10L, "storage attributes"));
        assertEquals(4, in.position());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void rewindToStaysBetweenTheMarkAndThePosition(Kind kind) {
        byte[] bytes = Sources.pattern(64, 6);
        ByteCursor in = cursor(kind, bytes);
        in.be32();
        in.mark();
        long first = in.be64();
        long second = in.be64();
        assertEquals(20, in.position());
        in.rewindTo(4);
        assertEquals(first, in.be64(), "the bytes from the mark are read again, from a stream too");
        assertEquals(second, in.be64());
        assertEquals("cannot rewind to 3 outside [4, 20]",
                assertThrows(IllegalArgumentException.class, () -> in.rewindTo(3)).getMessage());
        assertEquals("cannot rewind to 21 outside [4, 20]",
                assertThrows(IllegalArgumentException.class, () -> in.rewindTo(21)).getMessage());
        in.rewindTo(20);
        assertEquals(20, in.position());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void shortStringsAndUtf8(Kind kind) {
        byte[] name = "pc.ram".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[1 + name.length + 4];
        bytes[0] = (byte) name.length;
        System.arraycopy(name, 0, bytes, 1, name.length);
        bytes[7] = 'a';
        bytes[8] = (byte) 0xc3; // a two-byte sequence cut by the next byte
        bytes[9] = 'b';
        bytes[10] = (byte) 0xff;
        ByteCursor in = cursor(kind, bytes);
        assertEquals("pc.ram", in.shortString("name"));
        long start = in.take(4, "text");
        assertEquals("a\ufffdb\ufffd", in.utf8(start, 4), "malformed bytes become U+FFFD");
        ByteCursor cut = cursor(kind, new byte[] {9, 'a', 'b'});
        truncated("expected 9 bytes of name, found the end of the " + kind.end() + " (at byte 3)", 3, 0,
                () -> cut.shortString("name"));
    }

    // ------------------------------------------------------------------ lengths from the stream gone wrong

    @ParameterizedTest
    @EnumSource(Kind.class)
    void negativeLengths(Kind kind) {
        byte[] bytes = Sources.pattern(16, 7);
        ByteCursor in = cursor(kind, bytes);
        in.be32();
        // a file knows its size; a stream not yet read to its end knows only the position
        long known = kind.isStream() ? 4 : 16;
        String problem = "expected XBZRLE data, found the end of the " + kind.end() + " (at byte " + known
                + ") (the length read is negative)";
        truncated(problem, known, 0, () -> in.take(-1, "XBZRLE data"));
        truncated(problem, known, 0, () -> in.skip(-5, "XBZRLE data"));
        truncated(problem, known, 0, () -> in.take(Long.MIN_VALUE, "XBZRLE data"));
        assertEquals(4, in.position());
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void lengthsThatOverflowTheOffset(Kind kind) {
        byte[] bytes = Sources.pattern(16, 7);
        ByteCursor in = cursor(kind, bytes);
        in.be32();
        long length = Long.MAX_VALUE - 2; // 4 + length wraps around
        long known = kind.isStream() ? 4 : 16;
        String problem = "expected " + length + " bytes of attributes, found the end of the " + kind.end()
                + " (at byte " + known + ")";
        truncated(problem, known, 0, () -> in.take(length, "attributes"));
        truncated(problem, known, 0, () -> in.skip(length, "attributes"));
        assertEquals(4, in.position());
    }

    /**
     * A length that does not overflow but is larger than anything a stream can hold in one
     * window is still the stream's end, not a failure to size the window.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void hugeLengthIsTruncatedInput(Kind kind) {
        byte[] bytes = Sources.pattern(16, 7);
        ByteCursor in = cursor(kind, bytes);
        long length = 3L << 30;
        truncated("expected " + length + " bytes of field, found the end of the " + kind.end() + " (at byte 16)", 16, 0,
                () -> in.take(length, "field"));
    }

    // ------------------------------------------------------------------ absolute reads and views

    @ParameterizedTest
    @EnumSource(Kind.class)
    void absoluteReadsDoNotMove(Kind kind) {
        byte[] bytes = Sources.pattern(32, 8);
        ByteBuffer big = ByteBuffer.wrap(bytes);
        ByteCursor in = cursor(kind, bytes);
        assertEquals(32, in.lookAhead(32));
        assertEquals(bytes[5], in.getByte(5));
        assertEquals(big.getShort(6) & 0xffff, in.getBe16(6));
        assertEquals(Integer.toUnsignedLong(big.getInt(9)), in.getBe32(9));
        assertEquals(big.getLong(24), in.getBe64(24));
        assertEquals(0, in.position());
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 28, 32), in.slice(28, 4).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(0, in.slice(32, 0).byteSize(), "an empty view at the end");
    }

    @Test
    void absoluteReadsOutsideTheWindowAreMisuse() {
        byte[] bytes = Sources.pattern(16, 8);
        ByteCursor in = cursor(Kind.HEAP, bytes, 8);
        in.u8();
        assertEquals("bytes 4+1 are not in the window [8, 16)",
                assertThrows(IllegalStateException.class, () -> in.getByte(4)).getMessage());
        assertEquals("bytes 14+4 are not in the window [8, 16)",
                assertThrows(IllegalStateException.class, () -> in.slice(14, 4)).getMessage());
        assertEquals("bytes 12+8 are not in the window [8, 16)",
                assertThrows(IllegalStateException.class, () -> in.getBe64(12)).getMessage());
        assertEquals("bytes 15+2 are not in the window [8, 16)",
                assertThrows(IllegalStateException.class, () -> in.getBe16(15)).getMessage());
        assertEquals("bytes 7+4 are not in the window [8, 16)",
                assertThrows(IllegalStateException.class, () -> in.getBe32(7)).getMessage());
        assertEquals("bytes 9+-1 are not in the window [8, 16)",
                assertThrows(IllegalStateException.class, () -> in.slice(9, -1)).getMessage());
        assertEquals(bytes[15], in.getByte(15));
    }

    /** A stream keeps only what lies from the mark on: a view of bytes before it is refused, not stale. */
    @Test
    void aStreamsWindowStartsAtTheMark() {
        byte[] bytes = Sources.pattern(64, 8);
        ByteCursor in = cursor(Kind.ONE_BYTE, bytes);
        in.skip(20, "before");
        in.mark();
        in.be64(); // refills from the mark
        assertEquals(bytes[20], in.getByte(20));
        assertEquals("bytes 19+1 are not in the window [20, 28)",
                assertThrows(IllegalStateException.class, () -> in.getByte(19)).getMessage());
        assertEquals("bytes 24+8 are not in the window [20, 28)",
                assertThrows(IllegalStateException.class, () -> in.slice(24, 8)).getMessage());
    }

    // ------------------------------------------------------------------ look ahead

    @ParameterizedTest
    @EnumSource(Kind.class)
    void lookAheadMakesBytesViewableWithoutMoving(Kind kind) {
        byte[] bytes = Sources.pattern(40, 12);
        ByteBuffer big = ByteBuffer.wrap(bytes);
        ByteCursor in = cursor(kind, bytes);
        in.be32();
        assertEquals(8, in.lookAhead(8));
        assertEquals(big.getLong(4), in.getBe64(4));
        assertEquals(4, in.position());
        assertEquals(36, in.lookAhead(100), "fewer when the data ends first");
        assertEquals(big.getLong(32), in.getBe64(32));
        in.pushLimit(10, "command payload");
        assertEquals(6, in.lookAhead(100), "fewer when the limit ends first");
        in.skipTo(10, "to the limit");
        assertEquals(0, in.lookAhead(1));
        in.popLimit();
        in.skipTo(40, "to the end");
        assertEquals(0, in.lookAhead(8));
    }

    // ------------------------------------------------------------------ limits

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aLimitNamesItsRegion(Kind kind) {
        byte[] bytes = Sources.pattern(16, 13);
        ByteCursor in = cursor(kind, bytes);
        assertEquals(Long.MAX_VALUE, in.limit());
        in.be16();
        at.startEvent(null);
        in.pushLimit(6, "command payload");
        assertEquals(6, in.limit());
        in.be32();
        truncated("expected a byte, found the end of the command payload (at byte 6)", 6, 2, in::u8);
        truncated("expected 8 bytes of a 64-bit value, found the end of the command payload (at byte 6)", 6, 2,
                in::peekBe64);
        truncated("expected 3 bytes of gap, found the end of the command payload (at byte 6)", 6, 2,
                () -> in.skip(3, "gap"));
        truncated("expected 3 bytes of page, found the end of the command payload (at byte 6)", 6, 2,
                () -> in.take(3, "page"));
        in.popLimit();
        assertEquals(Long.MAX_VALUE, in.limit());
        assertEquals(bytes[6] & 0xff, in.u8(), "reads go on past the popped limit");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theDescriptionRegionIsTheEndOfTheStream(Kind kind) {
        byte[] bytes = Sources.pattern(16, 13);
        ByteCursor in = cursor(kind, bytes);
        in.pushLimit(10, Messages.DESCRIPTION_REGION);
        in.be64();
        truncated("expected 4 bytes of a 32-bit value, found the end of the stream (the JSON VM description starts at"
                + " byte 10)", 10, 0, in::be32);
    }

    /** Data that ends before the limit is the end of the data, not of the region. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void dataEndingBeforeTheLimitIsTheEndOfTheSource(Kind kind) {
        byte[] bytes = Sources.pattern(10, 13);
        ByteCursor in = cursor(kind, bytes);
        in.pushLimit(20, "device stream part");
        in.be32();
        truncated("expected 8 bytes of a 64-bit value, found the end of the " + kind.end() + " (at byte 10)", 10, 0,
                in::be64);
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void nestedLimits(Kind kind) {
        byte[] bytes = Sources.pattern(16, 13);
        ByteCursor in = cursor(kind, bytes);
        in.pushLimit(12, "outer");
        in.pushLimit(8, "inner");
        in.be64();
        truncated("expected a byte, found the end of the inner (at byte 8)", 8, 0, in::u8);
        in.popLimit();
        assertEquals(12, in.limit());
        in.be32();
        truncated("expected a byte, found the end of the outer (at byte 12)", 12, 0, in::u8);
        in.popLimit();
        in.be32();
        truncated("expected a byte, found the end of the " + kind.end() + " (at byte 16)", 16, 0, in::u8);
    }

    /** A region that claims more than its container holds is truncated input: the container ends first. */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void aLimitBeyondTheCurrentOne(Kind kind) {
        byte[] bytes = Sources.pattern(32, 13);
        ByteCursor in = cursor(kind, bytes);
        in.pushLimit(8, "outer");
        in.be16();
        truncated("expected 10 bytes of inner, found the end of the outer (at byte 8)", 8, 0,
                () -> in.pushLimit(12, "inner"));
        assertEquals(8, in.limit(), "the refused limit is not pushed");
        in.pushLimit(8, "inner"); // exactly the container's end is allowed
        in.be32();
        in.be16();
        truncated("expected a byte, found the end of the inner (at byte 8)", 8, 0, in::u8);
    }

    @Test
    void limitsNestSixteenDeep() {
        ByteCursor in = cursor(Kind.HEAP, new byte[32]);
        for (int i = 0; i < 16; i++) {
            in.pushLimit(32 - i, "level " + i);
        }
        assertEquals("limits nested deeper than 16",
                assertThrows(IllegalStateException.class, () -> in.pushLimit(1, "too deep")).getMessage());
        assertEquals(17, in.limit());
        for (int i = 15; i > 0; i--) {
            in.popLimit();
            assertEquals(32 - i + 1, in.limit());
        }
        in.popLimit();
        assertEquals(Long.MAX_VALUE, in.limit());
    }

    // ------------------------------------------------------------------ views and the mark

    @Test
    void viewsOfAStreamSurviveRefillsAfterTheMark() {
        byte[] bytes = Sources.pattern(50_000, 16);
        ByteCursor in = cursor(Kind.TRICKLE, bytes);
        in.skip(7, "start");
        in.mark();
        long start = in.take(4000, "first");
        for (int i = 0; i < 10; i++) {
            in.take(3000, "more"); // refills, the window from the mark on
        }
        MemorySegment first = in.slice(start, 4000);
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 7, 4007), first.toArray(ValueLayout.JAVA_BYTE));
    }
}
