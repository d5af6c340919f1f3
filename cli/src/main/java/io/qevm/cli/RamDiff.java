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
    private final boolean parallel;
    private final int maxKeptRuns;
    /** Pages that differ, over all blocks. */
    long pagesDiffering;
    /** Blocks in one dump only, or of different lengths. */
    long blocksDiffering;

    /**
     * {@code parallel}: whether big blocks may be compared by two threads, which only reads of
     * both dumps from two threads at once allow (plain files: not the VM state of a qcow2 image,
     * whose clusters are read through one buffer).
     */
    RamDiff(Ram a, Ram b, boolean parallel) {
        this(a, b, parallel, MAX_KEPT_RUNS);
    }

    /** With a bound on the second thread's runs other than {@link #MAX_KEPT_RUNS} (for tests). */
    RamDiff(Ram a, Ram b, boolean parallel, int maxKeptRuns) {
        this.a = a;
        this.b = b;
        this.parallel = parallel;
        this.maxKeptRuns = maxKeptRuns;
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
        sink.blockStart(blockA, blockB, pageSize);
        long common = Math.min(blockA.length(), blockB.length());
        long pages = Math.ceilDiv(common, pageSize);
        Runs runs = new Runs(sink);
        if (!parallel || pages < PARALLEL_PAGES) {
            scanner(blockA.name(), pageSize, samePages, common).scan(0, pages, runs);
        } else {
            // the second half on a thread of its own, its runs kept (up to a bound: past it, it
            // stops and the rest is compared here) until the first half's are told
            long half = pages / 2 / 64 * 64;
            Scanner second = scanner(blockA.name(), pageSize, samePages, common);
            Kept kept = new Kept(maxKeptRuns);
            Thread worker = Thread.ofPlatform().name("qevm-diff-ram").start(() -> second.scanKept(half, pages, kept));
            try {
                scanner(blockA.name(), pageSize, samePages, common).scan(0, half, runs);
            } finally {
                joinUninterruptibly(worker); // never left reading a dump that is about to be closed
            }
            switch (kept.failure) {
                case null -> {
                }
                case IOException io -> throw io;
                case RuntimeException r -> throw r;
                case Error e -> throw e;
                default -> throw new IllegalStateException(kept.failure); // scanKept catches nothing else
            }
            for (int i = 0; i < kept.size; i += 2) {
                runs.add(kept.runs[i], kept.runs[i + 1]);
            }
            if (kept.stoppedAt < pages) {
                second.scan(kept.stoppedAt, pages, runs);
            }
        }
        runs.flush();
        pagesDiffering += runs.pages;
        sink.blockEnd(runs.pages, runs.count);
    }

    /** Blocks of at least this many pages are compared by two threads, a half each. */
    static final long PARALLEL_PAGES = 16384;
    /** The most runs the second thread keeps (16 MiB) before it stops and leaves the rest. */
    static final int MAX_KEPT_RUNS = 1 << 20;

    private Scanner scanner(String block, int pageSize, boolean samePages, long common) {
        return new Scanner(block, pageSize, samePages, common);
    }

    /** Where a scan puts the runs of differing pages it finds. */
    private interface RunTarget {

        void add(long first, long last) throws IOException;

        /** Whether the scan should stop (at the start of its next batch). */
        boolean full();
    }

    /** Runs of differing pages told to a sink in order, adjacent ones joined into one. */
    private static final class Runs implements RunTarget {
        private final Sink sink;
        private long first = -1;
        private long last = -1;
        long pages;
        long count;

        Runs(Sink sink) {
            this.sink = sink;
        }

        @Override
        public boolean full() {
            return false;
        }

        @Override
        public void add(long from, long to) throws IOException {
            pages += to - from + 1;
            if (first >= 0 && last + 1 == from) {
                last = to;
                return;
            }
            flush();
            first = from;
            last = to;
        }

        void flush() throws IOException {
            if (first >= 0) {
                sink.range(first, last);
                count++;
                first = -1;
            }
        }
    }

    /** What the second thread found: runs as (first, last) pairs, up to a bound, and where it stopped. */
    private static final class Kept implements RunTarget {
        private final int maxRuns;
        long[] runs = new long[64];
        int size;
        long stoppedAt = Long.MAX_VALUE;
        Throwable failure;

        Kept(int maxRuns) {
            this.maxRuns = maxRuns;
        }

        @Override
        public boolean full() {
            return size >= 2L * maxRuns;
        }

        @Override
        public void add(long first, long last) {
            if (size + 2 > runs.length) {
                runs = Arrays.copyOf(runs, runs.length * 2);
            }
            runs[size++] = first;
            runs[size++] = last;
        }
    }

    /** Compares the pages of one block, with buffers of its own. */
    private final class Scanner {
        private final String block;
        private final int pageSize;
        private final boolean samePages;
        private final long common;
        private final int batch;
        private final byte[] bufferA;
        private final byte[] bufferB;

        Scanner(String block, int pageSize, boolean samePages, long common) {
            this.block = block;
            this.pageSize = pageSize;
            this.samePages = samePages;
            this.common = common;
            this.batch = Math.clamp(BATCH_BYTES / pageSize, 1, 64); // a bit each in a long
            this.bufferA = new byte[batch * pageSize];
            this.bufferB = new byte[batch * pageSize];
        }

        /**
         * Pages [from, to): their runs to {@code runs}, a run open at the end closed there;
         * stops early, at the start of a batch, once {@code runs} is full. Returns where it stopped.
         */
        long scan(long from, long to, RunTarget runs) throws IOException {
            long runStart = -1;
            for (long first = from; first < to; first += batch) {
                if (runs.full()) {
                    if (runStart >= 0) {
                        runs.add(runStart, first - 1);
                    }
                    return first;
                }
                long differ = differing(first, (int) Math.min(batch, to - first));
                for (int i = 0; i < batch && first + i < to; i++) {
                    long page = first + i;
                    if ((differ & 1L << i) != 0) {
                        if (runStart < 0) {
                            runStart = page;
                        }
                    } else if (runStart >= 0) {
                        runs.add(runStart, page - 1);
                        runStart = -1;
                    }
                }
            }
            if (runStart >= 0) {
                runs.add(runStart, to - 1);
            }
            return to;
        }

        /** As {@link #scan}, on the second thread: runs kept, up to {@code maxKeptRuns}. */
        void scanKept(long from, long to, Kept kept) {
            try {
                kept.stoppedAt = scan(from, to, kept);
            } catch (IOException | RuntimeException | Error e) {
                kept.failure = e;
            }
        }

        /** Which of the {@code n} pages from {@code first} differ: a bit each. */
        private long differing(long first, int n) throws IOException {
            // pages both zero (or never sent) are equal unread; a batch of nothing else is skipped
            long zero = 0;
            if (samePages) {
                for (int i = 0; i < n; i++) {
                    if (a.kind(block, first + i) == Kind.ZERO && b.kind(block, first + i) == Kind.ZERO) {
                        zero |= 1L << i;
                    }
                }
            }
            long all = n == 64 ? -1L : (1L << n) - 1;
            if (zero == all) {
                return 0;
            }
            long offset = first * pageSize;
            int length = (int) Math.min((long) n * pageSize, common - offset);
            // one read of the batch from each dump: fewer calls than a page at a time
            a.read(block, offset, bufferA, 0, length);
            b.read(block, offset, bufferB, 0, length);
            long differ = 0;
            for (int i = 0; i < n; i++) {
                int from = i * pageSize;
                int to = Math.min(length, from + pageSize);
                if ((zero & 1L << i) == 0 && Arrays.mismatch(bufferA, from, to, bufferB, from, to) >= 0) {
                    differ |= 1L << i;
                }
            }
            return differ;
        }
    }

    /** Waits for {@code thread} to end, however often interrupted (the interrupt kept). */
    static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
