package io.qevm.memory;

/**
 * Where the last copy of each page of one RAM block lies, as one long a page, in chunks of
 * {@link #CHUNK_PAGES} allocated when a page in them is first sent (a block declared large but
 * sent sparsely costs little), with a saturating count of the times each page was sent.
 *
 * <p>A location packs its kind in the top two bits: 0 never sent (so that a new chunk means
 * "never sent"), {@link #FILL} (low 8 bits: the byte), {@link #SOURCE} (an offset in the reader's
 * random-access source), {@link #SPOOL} (an offset in the spool file).
 */
public final class PageTable {

    public static final int CHUNK_BITS = 9;
    public static final int CHUNK_PAGES = 1 << CHUNK_BITS;
    private static final int CHUNK_MASK = CHUNK_PAGES - 1;
    /** What one chunk costs on the heap, roughly (the locations and the counts). */
    public static final long CHUNK_BYTES = CHUNK_PAGES * 9L + 64;

    public static final long NEVER = 0;
    public static final long FILL = 1L << 62;
    public static final long SOURCE = 2L << 62;
    public static final long SPOOL = 3L << 62;
    public static final long KIND_MASK = 3L << 62;
    public static final long VALUE_MASK = ~KIND_MASK;

    private final long pages;
    private final long[][] locations;
    private final byte[][] counts;

    /** A table for {@code pages} pages: the caller bounds it (the directory is allocated now). */
    public PageTable(long pages) {
        this.pages = pages;
        int chunks = (int) ((pages + CHUNK_MASK) >>> CHUNK_BITS);
        this.locations = new long[chunks][];
        this.counts = new byte[chunks][];
    }

    public long pages() {
        return pages;
    }

    public long get(long page) {
        long[] chunk = locations[(int) (page >>> CHUNK_BITS)];
        return chunk == null ? NEVER : chunk[(int) (page & CHUNK_MASK)];
    }

    public int timesSent(long page) {
        byte[] chunk = counts[(int) (page >>> CHUNK_BITS)];
        return chunk == null ? 0 : chunk[(int) (page & CHUNK_MASK)] & 0xff;
    }

    /** Whether setting {@code page} needs a new chunk (for the caller's memory budget). */
    public boolean needsChunk(long page) {
        return locations[(int) (page >>> CHUNK_BITS)] == null;
    }

    /** Records a copy of {@code page} at {@code location}; returns the location it replaces. */
    public long set(long page, long location) {
        int c = (int) (page >>> CHUNK_BITS);
        int i = (int) (page & CHUNK_MASK);
        long[] chunk = locations[c];
        if (chunk == null) {
            chunk = locations[c] = new long[CHUNK_PAGES];
            counts[c] = new byte[CHUNK_PAGES];
        }
        long previous = chunk[i];
        chunk[i] = location;
        byte[] count = counts[c];
        if (count[i] != (byte) 0xff) {
            count[i]++;
        }
        return previous;
    }
}
