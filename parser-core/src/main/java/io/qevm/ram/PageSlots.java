package io.qevm.ram;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Page-sized slots of heap memory, allocated in chunks and recycled through a free list: copies
 * of decoded pages that exist nowhere in the file. Not part of the API.
 */
final class PageSlots {

    private static final int PAGES_PER_CHUNK = 64;

    private final int pageSize;
    private final List<byte[]> chunks = new ArrayList<>();
    private int[] free = new int[16];
    private int freeCount;
    private int allocated;

    PageSlots(int pageSize) {
        this.pageSize = pageSize;
    }

    /** A slot, recycled if one was freed. */
    int allocate() {
        if (freeCount > 0) {
            return free[--freeCount];
        }
        int slot = allocated++;
        if (slot / PAGES_PER_CHUNK == chunks.size()) {
            chunks.add(new byte[PAGES_PER_CHUNK * pageSize]);
        }
        return slot;
    }

    void free(int slot) {
        if (freeCount == free.length) {
            free = Arrays.copyOf(free, freeCount * 2);
        }
        free[freeCount++] = slot;
    }

    /** The array holding {@code slot}, at {@link #offset(int)}. */
    byte[] array(int slot) {
        return chunks.get(slot / PAGES_PER_CHUNK);
    }

    int offset(int slot) {
        return slot % PAGES_PER_CHUNK * pageSize;
    }
}
