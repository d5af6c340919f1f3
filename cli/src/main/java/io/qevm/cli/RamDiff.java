package io.qevm.cli;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RAM half of {@code qevm diff}: for each RAM block of two dumps, the runs of pages whose
 * contents (the last copy of each page, as QEMU's destination would hold it) differ. Pages both
 * zero (or never sent) are equal without a read; the others are read, up to 64 pages at a time
 * from each dump into two reused buffers, and compared page by page.
 */
final class RamDiff {

    /** The guest RAM of one dump, as far as diff needs it. */
    interface Ram extends AutoCloseable {

        /** {@return the RAM blocks, in stream order} */
        List<Block> blocks();

        /** {@return what page {@code page} of {@code block} is, by its last copy} */
        Kind kind(String block, long page);

        /** Reads {@code length} bytes of {@code block} from {@code offset}. */
        void read(String block, long offset, byte[] dst, int dstOffset, int length) throws IOException;

        @Override
        void close();
    }

    /** A RAM block: name, length in bytes, page size. */
    record Block(String name, long length, int pageSize) {
    }

    /** What a page's last copy is. */
    enum Kind {
        /** All zero: a zero page, or never sent (zero on QEMU's destination). */
        ZERO,
        /** Anything else (data, a page filled with another byte): the bytes must be read. */
        DATA
    }

    /** What diff reports as it goes. */
    interface Sink {

        /** A block of one dump only; {@code inA} says which. */
        void onlyIn(Block block, boolean inA) throws IOException;

        /** A block in both, before its ranges. */
        void blockStart(Block a, Block b, int pageSize) throws IOException;

        /** Pages {@code first} to {@code last} (inclusive, of {@code pageSize}) differ. */
        void range(long first, long last) throws IOException;

        /** The end of a block in both: {@code pages} pages in {@code ranges} ranges differed. */
        void blockEnd(long pages, long ranges) throws IOException;
    }

    /** The largest page compared as one; bigger pages are compared in pages of 4 KiB. */
    static final int MAX_PAGE = 64 << 10;
    /** Bytes read at a time from each dump: up to 64 pages. */
    static final int BATCH_BYTES = 256 << 10;

    private final Ram a;
    private final Ram b;
    private byte[] bufferA = new byte[0];
    private byte[] bufferB = new byte[0];
    /** Pages that differ, over all blocks. */
    long pagesDiffering;
    /** Blocks in one dump only, or of different lengths. */
    long blocksDiffering;

    RamDiff(Ram a, Ram b) {
        this.a = a;
        this.b = b;
    }

    /** Compares every block, telling {@code sink}; returns whether anything differs. */
    boolean run(Sink sink) throws IOException {
        Map<String, Block> inB = new LinkedHashMap<>();
        for (Block block : b.blocks()) {
            inB.put(block.name(), block);
        }
        Map<String, Block> inA = new LinkedHashMap<>();
        for (Block block : a.blocks()) {
            inA.put(block.name(), block);
        }
        for (Block block : inA.values()) {
            Block other = inB.get(block.name());
            if (other == null) {
                blocksDiffering++;
                sink.onlyIn(block, true);
            } else {
                compare(block, other, sink);
            }
        }
        for (Block block : inB.values()) {
            if (!inA.containsKey(block.name())) {
                blocksDiffering++;
                sink.onlyIn(block, false);
            }
        }
        return blocksDiffering > 0 || pagesDiffering > 0;
    }

    private void compare(Block blockA, Block blockB, Sink sink) throws IOException {
        // the same block of two dumps normally has one page size; if not, pages of the smaller
        // one, compared by their bytes alone (a page kind is per page of the dump's own size)
        boolean samePages = blockA.pageSize() == blockB.pageSize();
        int pageSize = Math.min(blockA.pageSize(), blockB.pageSize());
        if (pageSize <= 0 || pageSize > MAX_PAGE) {
            pageSize = 4096;
            samePages = false;
        }
        if (blockA.length() != blockB.length()) {
            blocksDiffering++;
        }
        int batch = Math.clamp(BATCH_BYTES / pageSize, 1, 64); // a bit each in a long
        if (bufferA.length < batch * pageSize) {
            bufferA = new byte[batch * pageSize];
            bufferB = new byte[batch * pageSize];
        }
        sink.blockStart(blockA, blockB, pageSize);
        String name = blockA.name();
        long common = Math.min(blockA.length(), blockB.length());
        long pages = Math.ceilDiv(common, pageSize);
        long runStart = -1;
        long differing = 0;
        long ranges = 0;
        for (long first = 0; first < pages; first += batch) {
            int n = (int) Math.min(batch, pages - first);
            // pages both zero (or never sent) are equal unread; a batch of nothing else is skipped
            long zero = 0;
            for (int i = 0; i < n; i++) {
                if (samePages && a.kind(name, first + i) == Kind.ZERO && b.kind(name, first + i) == Kind.ZERO) {
                    zero |= 1L << i;
                }
            }
            long offset = first * pageSize;
            int length = (int) Math.min((long) n * pageSize, common - offset);
            if (zero != (n == 64 ? -1L : (1L << n) - 1)) {
                // one read of the batch each: fewer calls than a page at a time
                a.read(name, offset, bufferA, 0, length);
                b.read(name, offset, bufferB, 0, length);
            }
            for (int i = 0; i < n; i++) {
                boolean same = (zero & 1L << i) != 0;
                if (!same) {
                    int from = i * pageSize;
                    int to = Math.min(length, from + pageSize);
                    same = Arrays.mismatch(bufferA, from, to, bufferB, from, to) < 0;
                }
                long page = first + i;
                if (!same) {
                    differing++;
                    if (runStart < 0) {
                        runStart = page;
                    }
                } else if (runStart >= 0) {
                    sink.range(runStart, page - 1);
                    ranges++;
                    runStart = -1;
                }
            }
        }
        if (runStart >= 0) {
            sink.range(runStart, pages - 1);
            ranges++;
        }
        pagesDiffering += differing;
        sink.blockEnd(differing, ranges);
    }

}
