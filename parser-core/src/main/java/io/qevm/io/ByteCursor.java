package io.qevm.io;

import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The reader's position in its {@link ByteSource}: relative reads ({@code u8()}, {@code be32()},
 * ...) move it, absolute ones ({@code getBe64(offset)}) do not, as in Netty's ByteBuf. All
 * offsets are stream offsets, counted from the source's first byte; nothing outside this class
 * turns them into indexes of a segment.
 *
 * <p>Every relative read makes one bounds check against {@link #end}, the lower of the window's
 * end and the innermost limit; only when it fails does the slow path ask the source for more or
 * throw {@link TruncatedInputException} naming where the data ends. Length-delimited regions are
 * {@link #pushLimit pushed} and {@link #popLimit popped} as in protobuf's
 * {@code CodedInputStream}; the outermost limit is where the device stream must end (the JSON
 * description's record).
 *
 * <p>Views ({@link #slice}, and {@link #segment()} with {@link #index}) stay valid until the
 * reader moves to its next event: a sequential source keeps the bytes from the last
 * {@link #mark()} on, a random-access one keeps everything. Not part of the API; not thread-safe.
 */
public final class ByteCursor {

    private static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /**
     * Bytes further behind the cursor than this are handed back to the source at a refill: far
     * enough that handing back costs a walk of a small stream nothing, near enough that reading
     * a file of many GB keeps a small resident set.
     */
    private static final long RELEASE_LAG = 64L << 20;
    /** How far a skip through a sequential source reads at a time. */
    private static final long SKIP_CHUNK = 1 << 20;
    private static final int MAX_LIMITS = 16;

    private final ByteSource source;
    private final ErrorSite site;
    /** Holds stream offsets [base, windowEnd). */
    private MemorySegment window;
    private long base;
    private long windowEnd;
    /** The lower of {@link #windowEnd} and {@link #limit}: reads stop here. */
    private long end;
    private long pos;
    /** The first byte the current event may still hand out a view of. */
    private long mark;
    /** Bytes before this were handed back to the source ({@link ByteSource#release}). */
    private long releasedUpTo;

    private long limit = Long.MAX_VALUE;
    private String limitRegion;
    private final long[] outerLimits = new long[MAX_LIMITS];
    private final String[] outerRegions = new String[MAX_LIMITS];
    private int depth;

    /** A cursor at {@code position} of {@code source}; errors are located through {@code site}. */
    public ByteCursor(ByteSource source, ErrorSite site, long position) {
        this.source = source;
        this.site = site;
        this.pos = position;
        this.mark = position;
        this.releasedUpTo = position;
        // an empty window of the source's own kind: the reads see one segment class only
        refill(position);
    }

    public ByteSource source() {
        return source;
    }

    /** Offset of the next byte to read. */
    public long position() {
        return pos;
    }

    /** Marks the start of an event: views of bytes from here on stay valid until the next mark. */
    public void mark() {
        mark = pos;
    }

    /** Where the last {@link #mark()} was. */
    public long markPosition() {
        return mark;
    }

    // ------------------------------------------------------------------ relative reads

    public int u8() {
        if (pos + 1 > end) {
            require(1, "a byte");
        }
        return window.get(ValueLayout.JAVA_BYTE, pos++ - base) & 0xff;
    }

    public int peekU8() {
        if (pos + 1 > end) {
            require(1, "a byte");
        }
        return window.get(ValueLayout.JAVA_BYTE, pos - base) & 0xff;
    }

    public int be16() {
        if (pos + 2 > end) {
            require(2, "a 16-bit value");
        }
        int value = window.get(BE16, pos - base) & 0xffff;
        pos += 2;
        return value;
    }

    /** An unsigned big-endian 32-bit value. */
    public long be32() {
        if (pos + 4 > end) {
            require(4, "a 32-bit value");
        }
        long value = Integer.toUnsignedLong(window.get(BE32, pos - base));
        pos += 4;
        return value;
    }

    /** An unsigned little-endian 32-bit value (libvirt's header, in an x86 host's order). */
    public long le32() {
        if (pos + 4 > end) {
            require(4, "a 32-bit value");
        }
        long value = Integer.toUnsignedLong(window.get(LE32, pos - base));
        pos += 4;
        return value;
    }

    public long be64() {
        if (pos + 8 > end) {
            require(8, "a 64-bit value");
        }
        long value = window.get(BE64, pos - base);
        pos += 8;
        return value;
    }

    public long le64() {
        if (pos + 8 > end) {
            require(8, "a 64-bit value");
        }
        long value = window.get(LE64, pos - base);
        pos += 8;
        return value;
    }

    public long peekBe64() {
        if (pos + 8 > end) {
            require(8, "a 64-bit value");
        }
        return window.get(BE64, pos - base);
    }

    /**
     * Moves past {@code length} bytes that must be present and stay viewable until the next
     * event; returns the offset they start at. {@code what} names them in the error, and is
     * spelled out only then.
     */
    public long take(long length, String what) {
        if (length < 0 || pos + length > end || pos + length < pos) {
            require(length, what);
        }
        long at = pos;
        pos += length;
        return at;
    }

    /**
     * Moves past {@code length} bytes that must be present but need not be viewed: a sequential
     * source reads through them without holding them (and earlier views of the current event
     * may then be gone).
     */
    public void skip(long length, String what) {
        if (length >= 0 && pos + length <= end && pos + length >= pos) {
            pos += length;
            return;
        }
        if (length < 0 || pos + length < pos || pos + length > limit) {
            throw truncated(what, length, endBefore(length));
        }
        long known = source.size();
        if (known >= 0) {
            if (pos + length > known) {
                throw truncated(what, length, known);
            }
            pos += length; // the next read asks for a window there
            return;
        }
        long target = pos + length;
        while (target > end) {
            pos = end;
            mark = pos;
            refill(Math.min(target, pos + SKIP_CHUNK));
            if (end == pos) {
                long endOfData = pos;
                pos = target - length; // for the message: where the skip started
                throw truncated(what, length, endOfData);
            }
        }
        pos = target;
    }

    /**
     * Moves back to {@code offset}, which must lie between the last {@link #mark()} and the
     * position: a record is read again once the reader knows how (its page size, say).
     */
    public void rewindTo(long offset) {
        if (offset < mark || offset > pos) {
            throw new IllegalArgumentException("cannot rewind to " + offset + " outside [" + mark + ", " + pos + "]");
        }
        pos = offset;
    }

    /** Skips forward to {@code offset} (at or past the position). */
    public void skipTo(long offset, String what) {
        if (offset < pos) {
            throw new IllegalArgumentException("cannot go back from " + pos + " to " + offset);
        }
        skip(offset - pos, what);
    }

    /** u8 length + that many bytes, as a String: QEMU's idstrs and names. */
    public String shortString(String what) {
        int length = u8();
        long at = take(length, what);
        return utf8(at, length);
    }

    // ------------------------------------------------------------------ absolute reads and views

    /** The segment holding the window; byte {@code offset} of the stream is at {@link #index}. */
    public MemorySegment segment() {
        return window;
    }

    /** Where stream offset {@code offset} (in the window) lies in {@link #segment()}. */
    public long index(long offset) {
        return offset - base;
    }

    /** A view of {@code length} bytes at {@code offset}, which must be in the window. */
    public MemorySegment slice(long offset, long length) {
        checkInWindow(offset, length);
        return window.asSlice(offset - base, length);
    }

    public byte getByte(long offset) {
        checkInWindow(offset, 1);
        return window.get(ValueLayout.JAVA_BYTE, offset - base);
    }

    public int getBe16(long offset) {
        checkInWindow(offset, 2);
        return window.get(BE16, offset - base) & 0xffff;
    }

    /** An unsigned big-endian 32-bit value. */
    public long getBe32(long offset) {
        checkInWindow(offset, 4);
        return Integer.toUnsignedLong(window.get(BE32, offset - base));
    }

    public long getBe64(long offset) {
        checkInWindow(offset, 8);
        return window.get(BE64, offset - base);
    }

    /** Bytes at {@code offset} (in the window) as UTF-8; malformed bytes become U+FFFD. */
    public String utf8(long offset, int length) {
        return new String(slice(offset, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** Whether [offset, offset + length) lies in the window. */
    public boolean inWindow(long offset, long length) {
        return offset >= base && length >= 0 && offset + length <= windowEnd;
    }

    private void checkInWindow(long offset, long length) {
        if (!inWindow(offset, length)) {
            throw new IllegalStateException("bytes " + offset + "+" + length + " are not in the window ["
                    + base + ", " + windowEnd + ")");
        }
    }

    /**
     * Makes up to {@code length} bytes from the position viewable without moving (a look ahead);
     * returns how many are, fewer when the data or the limit ends first.
     */
    public long lookAhead(long length) {
        if (pos + length > end && end < limit) {
            refill(Math.min(limit, pos + length));
        }
        return Math.max(0, Math.min(end, pos + length) - pos);
    }

    /**
     * As {@link #lookAhead}, reading from a stream only what it has to give now ({@link
     * ByteSource#windowAvailable}): fewer bytes than asked for also when the rest has not
     * arrived yet, which {@code source().size() < 0} then tells from the end of the data.
     */
    public long lookAheadAvailable(long length) {
        if (pos + length > end && end < limit) {
            long from = Math.min(mark, pos);
            try {
                setWindow(from, source.windowAvailable(from, Math.min(limit, pos + length) - from));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return Math.max(0, Math.min(end, pos + length) - pos);
    }

    // ------------------------------------------------------------------ limits

    /**
     * Reads stop at {@code offset} until {@link #popLimit()}: the end of a region of
     * {@code region} (a name for messages) whose length the stream gave. A limit beyond the
     * current one is truncated input: the region claims more than its container holds.
     */
    public void pushLimit(long offset, String region) {
        if (depth == MAX_LIMITS) {
            throw new IllegalStateException("limits nested deeper than " + MAX_LIMITS);
        }
        if (offset > limit) {
            throw truncated(region, offset - pos, limit);
        }
        outerLimits[depth] = limit;
        outerRegions[depth] = limitRegion;
        depth++;
        limit = offset;
        limitRegion = region;
        end = Math.min(windowEnd, limit);
    }

    public void popLimit() {
        depth--;
        limit = outerLimits[depth];
        limitRegion = outerRegions[depth];
        outerRegions[depth] = null;
        end = Math.min(windowEnd, limit);
    }

    /** Where reads stop: the innermost limit, else {@link Long#MAX_VALUE}. */
    public long limit() {
        return limit;
    }

    // ------------------------------------------------------------------ the slow path

    /** Makes [pos, pos + length) readable, or throws: the data or the limit ends first. */
    private void require(long length, String what) {
        if (length < 0 || pos + length < pos || pos + length > limit) {
            throw truncated(what, length, endBefore(length));
        }
        refill(pos + length);
        if (pos + length > end) {
            throw truncated(what, length, end);
        }
    }

    /**
     * Where the data ends for a read of {@code length} bytes that cannot fit: the limit, or the
     * source's end when it comes first; for a negative length (a corrupt one), what is known.
     */
    private long endBefore(long length) {
        long size = source.size();
        if (size >= 0) {
            return Math.min(limit, size);
        }
        return length >= 0 && pos + length >= pos ? limit : pos;
    }

    /** A new window from the mark (or the position, if lower) to at least {@code upTo}. */
    private void refill(long upTo) {
        long from = Math.min(mark, pos);
        long releasable = from - RELEASE_LAG;
        if (releasable > releasedUpTo) {
            source.release(releasedUpTo, releasable);
            releasedUpTo = releasable;
        }
        try {
            setWindow(from, source.window(from, upTo - from));
            source.readingNext(from, windowEnd);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void setWindow(long from, MemorySegment segment) {
        window = segment;
        base = from;
        windowEnd = from + window.byteSize();
        end = Math.min(windowEnd, limit);
    }

    /**
     * The data ends at {@code endOfData} before {@code length} bytes of {@code what}: where it
     * ends says whether that is the end of the file or of a region.
     */
    private TruncatedInputException truncated(String what, long length, long endOfData) {
        String theEnd = endOfData >= limit && limitRegion != null
                ? Messages.endOfRegion(limitRegion, limit)
                : Messages.endOfSource(source.kind(), endOfData);
        return new TruncatedInputException(Messages.truncated(what, length, theEnd), site.at(endOfData));
    }
}
