package io.qevm.ram;

import io.qevm.PageEncoding;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import java.util.Arrays;

/**
 * mapped-ram (QEMU 9.0+, {@code file:} migration with the mapped-ram capability): after each
 * block's entry in the MEM_SIZE list a MappedRamHeader (u32 version, u64 page_size, u64
 * bitmap_offset, u64 pages_offset; migration/ram.c {@code mapped_ram_setup_ramblock}); the
 * block's pages lie at fixed offsets of the file from pages_offset, those present marked in a
 * bitmap of host {@code unsigned long}s (little-endian 64-bit words on x86-64 hosts). The stream
 * resumes at pages_offset + used_length.
 *
 * <p>QEMU lays out header, bitmap and pages in that order, so one forward pass reads them: the
 * bitmap is kept (one bit a page) and the cursor skips from page to page. A pipe reads a
 * mapped-ram stream as a file does. Not part of the API.
 */
final class MappedRamDecoder {

    static final int HEADER_VERSION = 1;

    private final ReadLocation at;
    private Block block;
    private long pagesOffset;
    private long pageCount;
    private long nextPage;
    private long[] bitmap = new long[0];

    MappedRamDecoder(ReadLocation at) {
        this.at = at;
    }

    /**
     * Reads the MappedRamHeader after {@code entry}'s length and the block's bitmap; returns
     * whether pages follow (false for a block QEMU did not write: bitmap and pages offsets 0).
     */
    boolean readHeader(ByteCursor in, Block entry, long ramPageSize) {
        long headerAt = in.position();
        long version = in.be32();
        long pageSize = in.be64();
        long bitmapOffset = in.be64();
        long pages = in.be64();
        long pagesAt = pages;
        if (version != HEADER_VERSION) {
            throw at.malformed(Messages.mappedRamVersion(version));
        }
        if (pageSize != ramPageSize) {
            throw at.malformed(Messages.mappedRamPageSize(pageSize, ramPageSize));
        }
        if (bitmapOffset == 0 && pagesAt == 0) {
            return false; // a shared block that was not written (x-ignore-shared): the stream goes on
        }
        long count = entry.length / ramPageSize;
        long bitmapBytes = (count + 63) / 64 * 8;
        if (bitmapOffset < in.position() || pagesAt < bitmapOffset + bitmapBytes) {
            // header, bitmap, pages, in that order: anything else would send the cursor back
            throw at.malformed(Messages.mappedRamLayout(entry.name, in.position(), bitmapOffset, bitmapBytes, pagesAt));
        }
        long size = in.source().size();
        if (size >= 0 && (bitmapOffset > size - bitmapBytes || pagesAt > size - entry.length)) {
            at.eventAt(headerAt); // the header that points outside
            throw new TruncatedInputException(Messages.mappedRamOutsideFile(entry.name, bitmapOffset, pagesAt, size),
                    at.at(size));
        }
        if (bitmapBytes / 8 > Integer.MAX_VALUE - 8) {
            throw at.overLimit("words in the mapped-ram bitmap of block '" + entry.name + "'", bitmapBytes / 8,
                    Integer.MAX_VALUE - 8);
        }
        in.skipTo(bitmapOffset, "the space before the mapped-ram bitmap");
        readBitmap(in, (int) (bitmapBytes / 8));
        in.skipTo(pagesAt, "the space before the mapped-ram pages");
        block = entry;
        pagesOffset = pagesAt;
        pageCount = count;
        nextPage = 0;
        return true;
    }

    /** Words are kept as they arrive: a bitmap claimed by a short stream allocates no more than it holds. */
    private void readBitmap(ByteCursor in, int words) {
        if (bitmap.length < Math.min(words, 1 << 16)) {
            bitmap = new long[Math.min(words, 1 << 16)];
        }
        for (int i = 0; i < words; i++) {
            if (i == bitmap.length) {
                bitmap = Arrays.copyOf(bitmap, (int) Math.min(words, 2L * bitmap.length));
            }
            bitmap[i] = in.le64();
        }
    }

    /**
     * Moves to the block's next page whose bit is set and fills {@code page}; false when none is
     * left, the cursor then after the block's pages region.
     */
    boolean nextPage(ByteCursor in, RamPage page) {
        while (nextPage < pageCount) {
            int wordIndex = (int) (nextPage >>> 6);
            long word = bitmap[wordIndex] >>> (nextPage & 63);
            if (word == 0) {
                nextPage = (long) (wordIndex + 1) << 6;
                continue;
            }
            long number = nextPage + Long.numberOfTrailingZeros(word);
            if (number >= pageCount) {
                break;
            }
            nextPage = number + 1;
            page.block = block;
            page.address = number * page.size;
            in.skipTo(pagesOffset + page.address, "mapped-ram pages");
            at.startEvent(io.qevm.MigrationEvent.RAM_PAGE);
            long data = in.take(page.size, "page");
            page.inStream(in, data, PageEncoding.MAPPED);
            return true;
        }
        in.skipTo(pagesOffset + block.length, "mapped-ram pages");
        return false;
    }
}
