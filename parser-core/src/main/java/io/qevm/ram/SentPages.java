package io.qevm.ram;

import io.qevm.internal.LongLongMap;
import java.util.ArrayList;
import java.util.List;

/**
 * One bit for each page a stream has sent, in chunks allocated as pages arrive (never sized
 * from a length the stream claims): whether a page record is the page's first copy. Not part of
 * the API.
 */
public final class SentPages {

    private static final int PAGES_PER_CHUNK = 1 << 15;

    private final LongLongMap chunkIndex = new LongLongMap();
    private final List<long[]> chunks = new ArrayList<>();

    /** Marks page {@code page} of block {@code block}; true when it had been marked before. */
    public boolean mark(int block, long page) {
        long key = (long) block << 40 | page / PAGES_PER_CHUNK;
        long index = chunkIndex.get(key, -1);
        if (index < 0) {
            index = chunks.size();
            chunks.add(new long[PAGES_PER_CHUNK / 64]);
            chunkIndex.put(key, index, -1);
        }
        long[] chunk = chunks.get((int) index);
        int bit = (int) (page % PAGES_PER_CHUNK);
        boolean before = (chunk[bit >>> 6] & (1L << bit)) != 0;
        chunk[bit >>> 6] |= 1L << bit;
        return before;
    }
}
