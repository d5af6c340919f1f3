package io.qevm.cli;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RAM half of {@code qevm diff}: for each RAM block of two dumps, the runs of pages whose
 * contents (the last copy of each page, as QEMU's destination would hold it) differ. Pages both
 * zero (or never sent) are equal without a read, as are pages filled with the same byte; any
 * other pair is read into two reused buffers and compared.
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
        /** Filled with one byte (which {@link Ram#read} gives). */
        FILL,
        /** Anything else: the bytes must be read. */
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

    /** Pages read at a time when compared. */
    static final int MAX_PAGE = 64 << 10;

    private final Ram a;
    private final Ram b;
    private byte[] bufferA = new byte[4096];
    private byte[] bufferB = new byte[4096];
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
        if (bufferA.length < pageSize) {
            bufferA = new byte[pageSize];
            bufferB = new byte[pageSize];
        }
        sink.blockStart(blockA, blockB, pageSize);
        String name = blockA.name();
        long common = Math.min(blockA.length(), blockB.length());
        long pages = Math.ceilDiv(common, pageSize);
        long runStart = -1;
        long differing = 0;
        long ranges = 0;
        for (long page = 0; page < pages; page++) {
            boolean same = samePages ? samePage(name, page, pageSize, common) : sameBytes(name, page, pageSize, common);
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
        if (runStart >= 0) {
            sink.range(runStart, pages - 1);
            ranges++;
        }
        pagesDiffering += differing;
        sink.blockEnd(differing, ranges);
    }

    private boolean samePage(String block, long page, int pageSize, long common) throws IOException {
        Kind kindA = a.kind(block, page);
        Kind kindB = b.kind(block, page);
        if (kindA == Kind.ZERO && kindB == Kind.ZERO) {
            return true;
        }
        long offset = page * pageSize;
        int length = (int) Math.min(pageSize, common - offset);
        if (kindA == Kind.FILL && kindB == Kind.FILL) {
            a.read(block, offset, bufferA, 0, 1);
            b.read(block, offset, bufferB, 0, 1);
            return bufferA[0] == bufferB[0];
        }
        if (kindA == Kind.ZERO) {
            b.read(block, offset, bufferB, 0, length);
            return isZero(bufferB, length);
        }
        if (kindB == Kind.ZERO) {
            a.read(block, offset, bufferA, 0, length);
            return isZero(bufferA, length);
        }
        a.read(block, offset, bufferA, 0, length);
        b.read(block, offset, bufferB, 0, length);
        return Arrays.mismatch(bufferA, 0, length, bufferB, 0, length) < 0;
    }

    private boolean sameBytes(String block, long page, int pageSize, long common) throws IOException {
        long offset = page * pageSize;
        int length = (int) Math.min(pageSize, common - offset);
        a.read(block, offset, bufferA, 0, length);
        b.read(block, offset, bufferB, 0, length);
        return Arrays.mismatch(bufferA, 0, length, bufferB, 0, length) < 0;
    }

    private static final byte[] ZEROS = new byte[MAX_PAGE];

    private static boolean isZero(byte[] buffer, int length) {
        return Arrays.mismatch(buffer, 0, length, ZEROS, 0, length) < 0;
    }
}
