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
    /** One page a fill byte, shared by every zero page (never written: readPage copies out): a 4 GiB guest of zero pages fits. */
    private final byte[][] fills = new byte[256][];

    /** Keeps the current RAM_PAGE's or ZERO_PAGE's contents (reading the page, so decoding it). */
    public void keep(MigrationReader reader) {
        byte[] page;
        if (reader.currentEvent() == MigrationEvent.RAM_PAGE) {
            page = new byte[reader.pageSize()];
            reader.copyPage(page, 0);
        } else {
            int fill = reader.fillByte();
            page = fills[fill];
            if (page == null || page.length != reader.pageSize()) {
                page = fills[fill] = new byte[reader.pageSize()];
                java.util.Arrays.fill(page, (byte) fill);
            }
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
