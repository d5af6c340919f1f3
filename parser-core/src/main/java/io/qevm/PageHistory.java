package io.qevm;

import io.qevm.internal.LongLongMap;
import io.qevm.internal.PageSlots;

/**
 * Where the last copy of each RAM page lies, so that an XBZRLE delta can be applied to it: in the
 * file (a raw or mapped page, or a compressed page to inflate again), as a fill byte, or, for a
 * page whose last copy was itself an XBZRLE delta, in a slot of decoded pages kept here. A page
 * never sent is zero.
 *
 * <p>Keys are (block number, page number) packed in a long; 16 bytes a page sent, and a page of
 * memory only for pages whose last copy is an XBZRLE delta.
 */
final class PageHistory {

    private static final long KIND_MASK = 3L << 62;
    static final long FILL = 0L;
    static final long IN_FILE = 1L << 62;
    static final long COMPRESSED = 2L << 62;
    static final long DECODED = 3L << 62;

    private final LongLongMap locations = new LongLongMap();
    private final PageSlots slots;
    private int decodedPages;

    PageHistory(int pageSize) {
        this.slots = new PageSlots(pageSize);
    }

    static long key(int block, long page) {
        return (long) block << 40 | page;
    }

    static long kind(long location) {
        return location & KIND_MASK;
    }

    static long value(long location) {
        return location & ~KIND_MASK;
    }

    /** The page's last location; a page never sent is a fill of 0. */
    long get(long key) {
        return locations.get(key, FILL);
    }

    /** Records the page's newest copy; a decoded slot it had is freed. */
    void put(long key, long location) {
        if (location == FILL && locations.get(key, -1) == -1) {
            return; // zero and never sent: nothing to remember
        }
        long previous = locations.put(key, location, FILL);
        if (kind(previous) == DECODED && kind(location) != DECODED) {
            slots.free((int) value(previous));
            decodedPages--;
        }
    }

    /** The slot holding {@code key}'s decoded page, allocated (and recorded) if it has none. */
    int slotFor(long key) {
        long current = get(key);
        if (kind(current) == DECODED) {
            return (int) value(current);
        }
        int slot = slots.allocate();
        put(key, DECODED | slot);
        decodedPages++;
        return slot;
    }

    /** Whether {@code key}'s last copy is kept decoded here. */
    boolean isDecoded(long key) {
        return kind(get(key)) == DECODED;
    }

    /** How many pages are kept decoded. */
    int decodedPages() {
        return decodedPages;
    }

    byte[] slotArray(int slot) {
        return slots.array(slot);
    }

    int slotOffset(int slot) {
        return slots.offset(slot);
    }
}
