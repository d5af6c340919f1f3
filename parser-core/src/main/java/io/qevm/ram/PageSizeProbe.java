package io.qevm.ram;

import io.qevm.io.ByteCursor;

/**
 * Tells the target page size from the RAM records themselves, for a stream that does not say it
 * before its pages: x86, ppc64 and s390x machines never send target-page-bits (their page size
 * is fixed), 32-bit ARM boards not when it is the smallest (1 KiB), and on a pipe the JSON
 * description, which has {@code page_size}, comes last.
 *
 * <p>Each candidate size, from 1 KiB to 64 KiB, reads the records ahead (up to the end of the
 * part or {@link #LOOK_AHEAD} bytes, or on a live source as many as have arrived): the flags
 * must be QEMU's, the addresses aligned to it and inside their block, the blocks named those of
 * the MEM_SIZE list, the lengths of XBZRLE and compressed pages within a page. A page of data read with a wrong size puts the next record in
 * the middle of data; an address of an odd page rules out every larger size. Of the sizes that
 * read everything, the largest is the page size: smaller ones survive only records that do not
 * depend on it (zero pages at addresses they divide), so where the records hold only such pages
 * 4 KiB is taken when it reads. The description, when it comes, checks it. Not part of the API.
 */
final class PageSizeProbe {

    static final int MIN_PAGE_BITS = 10;
    static final int MAX_PAGE_BITS = 16;
    /** How far ahead the records are read: many thousands of them, whatever the size. */
    static final long LOOK_AHEAD = 1 << 20;
    /**
     * Every record of the look ahead (each is 8 bytes at least): a RAM scan starts with runs of
     * zero pages, 9 bytes a record, which every size up to the page size reads; the first page of
     * data tells the sizes apart, and may come only some 100,000 records in (j-suppress-vmdesc:
     * 2 KiB, given, read 16,384 zero-page records and failed later on the first data page).
     */
    private static final int MAX_RECORDS = (int) (LOOK_AHEAD / 8);
    /** The flags QEMU defines, all below the smallest target page (migration/ram.c). */
    private static final int FLAG_BITS = 0x3ff;
    private static final int CONTINUE = 0x020;
    private static final int EOS = 0x010;
    private static final int MEM_SIZE = 0x004;
    private static final int MULTIFD_FLUSH = 0x200;
    /** The target page size of x86, ppc64, s390x, riscv and most ARM machines. */
    private static final long COMMON_PAGE_SIZE = 4096;

    private PageSizeProbe() {
    }

    /**
     * The page size that reads the records from {@code recordStart} (a page record's header,
     * in the cursor's window) on, or -1 when none does; {@code last} is the block of the page
     * record before it, for CONTINUE. {@code given} (or -1): a size the user gave, taken when it
     * reads the records as well as any, as a dump's own page size would be.
     */
    static long probe(ByteCursor in, long recordStart, BlockTable blocks, Block last, int maxCompressedBytes,
                      long given) {
        Reading reading = new Reading(in, recordStart, blocks, last, maxCompressedBytes);
        long wanted = LOOK_AHEAD - (in.position() - recordStart);
        long available = in.lookAheadAvailable(wanted);
        while (available < wanted && in.source().size() < 0) {
            // a live source that has sent less than the look ahead, and may send no more until
            // the destination answers (QEMU with a return path, at its end): what has arrived
            // decides when a size reads up to the end of the part; when every size that reads
            // runs into the end of what has arrived instead, the part goes on (QEMU writes a
            // part whole, never waiting for the destination inside one) and its bytes will come
            reading.end = in.position() + available;
            long size = largestThatReadsToTheEndOfAPart(reading, given);
            if (size != 0) {
                return size;
            }
            available = in.lookAhead(available + 1); // waits for a byte more, or the end
            available = Math.max(available, in.lookAheadAvailable(wanted));
        }
        reading.end = in.position() + available;
        // strictly first: where the data itself ends (not the look ahead), a record must end too
        if (available < wanted) {
            long size = largestThatReads(reading, true, given);
            if (size > 0) {
                return size;
            }
            // the data ends inside a record (a stream cut short): the size whose records read
            // furthest before it, so that the truncation is found in the record the data ends in,
            // not in the first record read with pages too large for it
            long best = -1;
            long furthest = -1;
            for (int bits = MAX_PAGE_BITS; bits >= MIN_PAGE_BITS; bits--) {
                long reached = reading.reach(false, 1L << bits);
                if (reached > furthest) {
                    furthest = reached;
                    best = 1L << bits;
                }
            }
            return best;
        }
        // leniently, the look ahead ending anywhere in a record
        return largestThatReads(reading, false, given);
    }

    /**
     * Whether the records from {@code recordStart} on (as {@link #probe} reads them) hold a page
     * of data read as a page of {@code pageSize}: evidence for the size, where zero pages only
     * show that it is not ruled out (every size up to the page size reads them).
     */
    static boolean readsDataPages(ByteCursor in, long recordStart, BlockTable blocks, Block last,
                                  int maxCompressedBytes, long pageSize) {
        Reading reading = new Reading(in, recordStart, blocks, last, maxCompressedBytes);
        reading.end = in.position() + in.lookAheadAvailable(LOOK_AHEAD - (in.position() - recordStart));
        return reading.reach(false, pageSize) >= 0 && reading.sizedPages;
    }

    /**
     * Of the sizes whose records read, the one {@link #largestThatReads} would take, counting only
     * those that read up to the end of the part (or as many records as it takes to tell), not
     * into the end of the data: -1 when no size reads, 0 when every size that reads runs into
     * the end of the data (more is needed to tell).
     */
    private static long largestThatReadsToTheEndOfAPart(Reading reading, long given) {
        if (given > 0 && reading.reach(false, given) >= 0 && !reading.cut) {
            return given;
        }
        boolean reads = false;
        for (int bits = MAX_PAGE_BITS; bits >= MIN_PAGE_BITS; bits--) {
            long size = 1L << bits;
            if (reading.reach(false, size) < 0) {
                continue;
            }
            reads = true;
            if (reading.cut) {
                continue;
            }
            if (!reading.sizedPages && size > COMMON_PAGE_SIZE && reading.reach(false, COMMON_PAGE_SIZE) >= 0
                    && !reading.cut) {
                return COMMON_PAGE_SIZE;
            }
            return size;
        }
        return reads ? 0 : -1;
    }

    /**
     * The size given when the records do not contradict it (read as its pages up to where the
     * data ends, if cut); else the largest size whose records read, but where they hold no page
     * whose length is the page size (only zero pages, whose addresses every smaller size divides
     * too), 4 KiB (nearly every machine's) when that reads as well.
     */
    private static long largestThatReads(Reading reading, boolean strict, long given) {
        if (given > 0 && reading.reach(false, given) >= 0) {
            return given;
        }
        for (int bits = MAX_PAGE_BITS; bits >= MIN_PAGE_BITS; bits--) {
            long size = 1L << bits;
            if (reading.reach(strict, size) >= 0) {
                if (!reading.sizedPages && size > COMMON_PAGE_SIZE && reading.reach(strict, COMMON_PAGE_SIZE) >= 0) {
                    return COMMON_PAGE_SIZE;
                }
                return size;
            }
        }
        return -1;
    }

    /** The records ahead, read as pages of one size after another. */
    private static final class Reading {
        final ByteCursor in;
        final long start;
        final BlockTable blocks;
        final Block last;
        final int maxCompressedBytes;
        long end;
        /** Whether the last {@link #reach} read a page whose length is the page size (a data page). */
        boolean sizedPages;
        /** Whether the last {@link #reach} stopped at the end of the data, rather than at the end of a part. */
        boolean cut;

        Reading(ByteCursor in, long start, BlockTable blocks, Block last, int maxCompressedBytes) {
            this.in = in;
            this.start = start;
            this.blocks = blocks;
            this.last = last;
            this.maxCompressedBytes = maxCompressedBytes;
        }

        long reach(boolean strict, long pageSize) {
            sizedPages = false;
            cut = true; // unless it ends as a part ends, or with as many records as it takes
            return PageSizeProbe.reach(this, in, start, end, strict, pageSize, blocks, last, maxCompressedBytes);
        }
    }

    /**
     * How far the records from {@code at} read as pages of {@code pageSize}: the start of the
     * record where reading stopped (one that runs past {@code end}, or {@code end}), or -1 when
     * they do not read as such pages; {@code strict}: the data ends at {@code end}, so a record
     * must not run past it (-1 if one does).
     */
    private static long reach(Reading reading, ByteCursor in, long at, long end, boolean strict, long pageSize,
                              BlockTable blocks, Block last, int maxCompressedBytes) {
        Block block = last;
        long record = at;
        for (int records = 0; records < MAX_RECORDS; records++) {
            if (at > end) {
                return strict ? -1 : record; // the last record's page ran past the end
            }
            if (at + 8 > end) {
                return !strict || at == end ? at : -1; // all read that there is to read
            }
            record = at;
            long header = in.getBe64(at);
            long flags = header & (pageSize - 1);
            long address = header & -pageSize;
            int kind = (int) flags & ~CONTINUE;
            if ((flags & ~FLAG_BITS) != 0) {
                return -1; // bits between the flags and the page: not a flag, and not aligned
            }
            at += 8;
            switch (kind) {
                case EOS, MEM_SIZE -> {
                    reading.cut = false;
                    return at; // the part ends (or a new block list starts): nothing more to check
                }
                case MULTIFD_FLUSH -> {
                    continue;
                }
                case ZeroPageDecoder.FLAG, RawPageDecoder.FLAG, XbzrlePageDecoder.FLAG, ZlibPageDecoder.FLAG -> {
                }
                default -> {
                    return -1;
                }
            }
            if ((flags & CONTINUE) == 0) {
                if (at + 1 > end) {
                    return strict ? -1 : record;
                }
                int length = in.getByte(at) & 0xff;
                if (at + 1 + length > end) {
                    return strict ? -1 : record;
                }
                block = blocks.find(in, at + 1, length);
                at += 1 + length;
            }
            if (block == null || address > block.length - pageSize) {
                return -1;
            }
            switch (kind) {
                case ZeroPageDecoder.FLAG -> at += 1;
                case RawPageDecoder.FLAG -> {
                    at += pageSize; // past the end: the next turn tells
                    reading.sizedPages = true;
                }
                case XbzrlePageDecoder.FLAG -> {
                    if (at + 3 > end) {
                        return strict ? -1 : record;
                    }
                    int length = in.getBe16(at + 1);
                    if (in.getByte(at) != 1 || length > pageSize) {
                        return -1;
                    }
                    at += 3 + length;
                }
                default -> {
                    if (at + 4 > end) {
                        return strict ? -1 : record;
                    }
                    long length = in.getBe32(at);
                    if (length > maxCompressedBytes) {
                        return -1;
                    }
                    at += 4 + length;
                }
            }
        }
        reading.cut = at > end;
        return at <= end ? at : strict ? -1 : record; // as many records as it takes to tell
    }
}
