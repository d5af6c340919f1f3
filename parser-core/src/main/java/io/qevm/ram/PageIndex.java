package io.qevm.ram;

import io.qevm.ReadLimits;
import io.qevm.internal.LongLongMap;
import io.qevm.io.ByteSource;
import io.qevm.io.ReadLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Where the last copy of each RAM page lies in a seekable source, so that an XBZRLE delta can be
 * applied to it: in the stream (a raw or mapped page, or a compressed page to inflate again), as
 * a fill byte, or, for a page whose last copy was itself an XBZRLE delta, decoded in a slot of
 * memory kept here. A page never sent is zero.
 *
 * <p>Made only when a stream's first XBZRLE page is decoded, by reading the stream again up to
 * that page (the record scanner's {@code replay}): other streams pay nothing. Keys are (block
 * number, page number) packed in a long: 16 bytes a page sent, and a page of memory only for
 * pages whose last copy is an XBZRLE delta, bounded by {@link ReadLimits#maxDecodedPages()}.
 * Not part of the API.
 */
final class PageIndex implements PageHistory {

    /** Page numbers take 40 bits of a key (4 PiB of 4 KiB pages a block). */
    static final long MAX_PAGES_PER_BLOCK = 1L << 40;

    private enum Kind { FILL, IN_STREAM, COMPRESSED, DECODED }

    private static final Kind[] KINDS = Kind.values();
    private static final long VALUE_MASK = (1L << 62) - 1;

    private final ByteSource source;
    private final ReadLimits limits;
    private final ReadLocation at;
    private final ZlibPageDecoder zlib;
    private final LongLongMap locations = new LongLongMap();
    private final PageSlots slots;
    private int decodedPages;

    PageIndex(ByteSource source, int pageSize, ReadLimits limits, ReadLocation at) {
        this.source = source;
        this.limits = limits;
        this.at = at;
        this.zlib = new ZlibPageDecoder(limits, at);
        this.slots = new PageSlots(pageSize);
    }

    private static long key(Block block, long pageNumber) {
        return (long) block.number << 40 | pageNumber;
    }

    private static long location(Kind kind, long value) {
        return (long) kind.ordinal() << 62 | value;
    }

    private static Kind kind(long location) {
        return KINDS[(int) (location >>> 62)];
    }

    @Override
    public boolean decodesEagerly() {
        return true;
    }

    @Override
    public void record(RamPage page) {
        long key = key(page.block, page.number());
        switch (page.encoding) {
            case null -> put(key, location(Kind.FILL, page.fill));
            case RAW, MAPPED -> put(key, location(Kind.IN_STREAM, page.sourceOffset));
            case COMPRESSED -> put(key, location(Kind.COMPRESSED, page.payloadOffset));
            case XBZRLE -> {
                long current = locations.get(key, -1);
                int slot;
                if (current != -1 && kind(current) == Kind.DECODED) {
                    slot = (int) (current & VALUE_MASK);
                } else {
                    limits.validateDecodedPages(decodedPages + 1L, at);
                    slot = slots.allocate();
                    decodedPages++;
                    locations.put(key, location(Kind.DECODED, slot), -1);
                }
                MemorySegment.copy(page.data, ValueLayout.JAVA_BYTE, page.dataIndex, slots.array(slot),
                        slots.offset(slot), page.size);
            }
        }
    }

    /** Records the page's newest copy; a decoded slot it had is freed. */
    private void put(long key, long location) {
        if (location == location(Kind.FILL, 0) && locations.get(key, -1) == -1) {
            return; // zero and never sent: nothing to remember
        }
        long previous = locations.put(key, location, -1);
        if (previous != -1 && kind(previous) == Kind.DECODED) {
            slots.free((int) (previous & VALUE_MASK));
            decodedPages--;
        }
    }

    @Override
    public void copyLastCopy(Block block, long address, byte[] into) {
        long location = locations.get(key(block, address / into.length), location(Kind.FILL, 0));
        long value = location & VALUE_MASK;
        switch (kind(location)) {
            case FILL -> Arrays.fill(into, (byte) value);
            case IN_STREAM -> MemorySegment.copy(bytesAt(value, into.length), ValueLayout.JAVA_BYTE, 0, into, 0,
                    into.length);
            case COMPRESSED -> {
                MemorySegment lengthBytes = bytesAt(value, 4);
                int length = lengthBytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0);
                zlib.inflate(bytesAt(value + 4, length), 0, length, into);
            }
            case DECODED -> System.arraycopy(slots.array((int) value), slots.offset((int) value), into, 0, into.length);
        }
    }

    private MemorySegment bytesAt(long offset, long length) {
        try {
            return source.window(offset, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
