package io.qevm;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Where a reader finds the earlier copy of a RAM page. An XBZRLE page is a delta against the
 * page's previous content: a reader over a file reads that content again from the file, but a
 * reader over a pipe or a socket has passed it. A consumer that keeps every page it is handed
 * (an extractor's output files, a spool) can lend them: {@link MigrationReader#setPageStore}.
 *
 * <p>The reader asks only for pages of blocks it has listed, before the consumer sees the new
 * copy. A store must have been handed every page the reader passed before (it must read each
 * RAM_PAGE's {@link MigrationReader#pageData()} and each ZERO_PAGE), or the decoded page is
 * wrong.
 */
@FunctionalInterface
public interface PageStore {

    /**
     * Copies the latest copy of the page at {@code offset} of block {@code block} into
     * {@code into} (one page): zeros when the page was never sent.
     *
     * @param block  the RAM block's idstr
     * @param offset the page's offset in the block
     * @param into   where the page's bytes go: exactly one page
     * @throws IOException if the store cannot be read
     */
    void readPage(String block, long offset, MemorySegment into) throws IOException;
}
