package io.qevm;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link PageStore} for tests: the last copy of every page handed to it, in a map. (The
 * product's stores keep pages in files; a test's streams are small.) A consumer of the reader:
 * {@link #keep} after each page event.
 */
public final class KeptPages implements PageStore {

    private final Map<String, byte[]> pages = new HashMap<>();

    /** Keeps the current RAM_PAGE's or ZERO_PAGE's contents (reading the page, so decoding it). */
    public void keep(MigrationReader reader) {
        byte[] page = new byte[reader.pageSize()];
        if (reader.currentEvent() == MigrationEvent.RAM_PAGE) {
            reader.copyPage(page, 0);
        } else {
            java.util.Arrays.fill(page, (byte) reader.fillByte());
        }
        pages.put(reader.blockName() + "@" + reader.pageOffset(), page);
    }

    @Override
    public void readPage(String block, long offset, MemorySegment into) {
        byte[] page = pages.get(block + "@" + offset);
        if (page == null) {
            into.fill((byte) 0);
        } else {
            into.copyFrom(MemorySegment.ofArray(page));
        }
    }
}
