package io.qevm.ram;

import io.qevm.PageStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;

/** A consumer's {@link PageStore} as the history XBZRLE deltas are applied to. */
record StoreHistory(PageStore store) implements PageHistory {

    @Override
    public void copyLastCopy(Block block, long address, byte[] into) {
        try {
            store.readPage(block.name, address, MemorySegment.ofArray(into));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
