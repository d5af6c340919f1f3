package io.qevm.cli;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RAM half of {@code qevm diff}: for each RAM block of two dumps, the runs of pages whose
 * contents (the last copy of each page, as QEMU's destination would hold it) differ. Pages both
 * zero (or never sent) are equal without a read; the others are compared page by page, where
 * they lie (a plain file's pages in its reader's buffer: no copy) when both dumps have the same
 * page size, else read up to 64 pages at a time from each dump into two reused buffers.
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

        /** {@return a reader of {@code block}'s pages (of the block's own page size), for one thread} */
        Pages pages(String block);

        @Override
        void close();
    }

    /** A block's pages, read in turn. */
    interface Pages {

        /** {@return the bytes of page {@code page}, valid until the next call} */
        MemorySegment page(long page) throws IOException;
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
    private final int chunkPages;
    private final int aheadChunks;
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
        this(a, b, parallel, CHUNK_PAGES, AHEAD_CHUNKS);
    }

    /** With chunks other than {@link #CHUNK_PAGES} and {@link #AHEAD_CHUNKS} (for tests). */
    RamDiff(Ram a, Ram b, boolean parallel, int chunkPages, int aheadChunks) {
        this.a = a;
        this.b = b;
        this.parallel = parallel;
        this.chunkPages = chunkPages;
        this.aheadChunks = aheadChunks;
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
            // a scanner (its buffers) a thread
            new Chunks(pages, runs).compare(scanner(blockA.name(), pageSize, samePages, common),
                    scanner(blockA.name(), pageSize, samePages, common));
        }
        runs.flush();
        pagesDiffering += runs.pages;
        sink.blockEnd(runs.pages, runs.count);
    }

    /** Blocks of at least this many pages are compared by two threads. */
    static final long PARALLEL_PAGES = 16384;
    /**
     * ... in chunks of this many pages (16 MiB of 4 KiB pages, some 10 ms of work), which the
     * threads take in turn: the threads share the work as it comes, where halves of a block
     * differ in how much of them must be read (data pages against zero pages both sides).
     */
    static final int CHUNK_PAGES = 4096;
    /**
     * The most chunks compared but not yet told (their runs kept, at most half a chunk's pages
     * each): a thread waits rather than take a chunk further ahead of the first one untold.
     */
    static final int AHEAD_CHUNKS = 16;

    private Scanner scanner(String block, int pageSize, boolean samePages, long common) {
        return new Scanner(block, pageSize, samePages, common);
    }

    /**
     * The chunks of one block, taken in turn by this thread and a second one. Only this thread
     * tells the sink: after each chunk of its own, the runs of every chunk done before the first
     * one still being compared.
     */
    private final class Chunks {
        private final long pages;
        private final Runs runs;
        private final int count;
        /** The runs of chunks done but not told, by chunk number modulo its length. */
        private final Kept[] done;
        /** The next chunk to take, and the first one not told. */
        private int next;
        private int told;
        private Throwable failure;

        Chunks(long pages, Runs runs) {
            this.pages = pages;
            this.runs = runs;
            this.count = Math.toIntExact(Math.ceilDiv(pages, chunkPages));
            this.done = new Kept[aheadChunks];
        }

        void compare(Scanner first, Scanner second) throws IOException {
            Thread worker = Thread.ofPlatform().name("qevm-diff-ram").start(() -> {
                try {
                    while (work(second, false)) {
                        // the next chunk
                    }
                } catch (IOException | RuntimeException | Error e) {
                    fail(e);
                }
            });
            try {
                while (work(first, true)) {
                    // the next chunk
                }
            } catch (IOException | RuntimeException | Error e) {
                fail(e);
            } finally {
                joinUninterruptibly(worker); // never left reading a dump that is about to be closed
            }
            switch (failure) {
                case null -> tell();
                case IOException io -> throw io;
                case RuntimeException r -> throw r;
                case Error e -> throw e;
                default -> throw new IllegalStateException(failure); // nothing else is caught
            }
        }

        /**
         * Compares the next chunk; false when none is left (or the other thread failed). The
         * telling thread tells what is done first; a thread too far ahead of the first chunk
         * untold waits for it to be done (and, the teller, tells it).
         */
        private boolean work(Scanner scanner, boolean teller) throws IOException {
            int chunk = -1;
            boolean interrupted = false;
            while (chunk < 0) {
                if (teller) {
                    tell();
                }
                synchronized (this) {
                    if (failure != null || next >= count) {
                        break;
                    }
                    if (next - told < aheadChunks) {
                        chunk = next++;
                    } else if (!teller || done[told % aheadChunks] == null) {
                        try {
                            wait(); // for the other thread's chunk, or the teller's tell(): soon
                        } catch (InterruptedException e) {
                            interrupted = true; // kept for whoever asks next
                        }
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (chunk < 0) {
                return false;
            }
            long from = (long) chunk * chunkPages;
            Kept kept = new Kept();
            scanner.scan(from, Math.min(from + chunkPages, pages), kept);
            synchronized (this) {
                done[chunk % aheadChunks] = kept;
                notifyAll();
            }
            return true;
        }

        /** Tells the runs of the chunks done, in order, up to the first one not done. */
        private void tell() throws IOException {
            while (true) {
                Kept kept;
                synchronized (this) {
                    int slot = told % aheadChunks;
                    kept = told < count ? done[slot] : null;
                    if (kept == null) {
                        return;
                    }
                    done[slot] = null;
                }
                for (int i = 0; i < kept.size; i += 2) {
                    runs.add(kept.runs[i], kept.runs[i + 1]);
                }
                synchronized (this) {
                    told++;
                    notifyAll();
                }
            }
        }

        private synchronized void fail(Throwable e) {
            if (failure == null) {
                failure = e;
            }
            notifyAll();
        }
    }

    /** Where a scan puts the runs of differing pages it finds. */
    private interface RunTarget {

        void add(long first, long last) throws IOException;
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

    /** The runs of one chunk, as (first, last) pairs, until told. */
    private static final class Kept implements RunTarget {
        long[] runs = new long[16];
        int size;

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
        /** Pages compared where they lie (same page sizes), or read into the buffers (not). */
        private final Pages pagesA;
        private final Pages pagesB;
        private final byte[] bufferA;
        private final byte[] bufferB;

        Scanner(String block, int pageSize, boolean samePages, long common) {
            this.block = block;
            this.pageSize = pageSize;
            this.samePages = samePages;
            this.common = common;
            this.batch = Math.clamp(BATCH_BYTES / pageSize, 1, 64); // a bit each in a long
            this.pagesA = samePages ? a.pages(block) : null;
            this.pagesB = samePages ? b.pages(block) : null;
            this.bufferA = samePages ? null : new byte[batch * pageSize];
            this.bufferB = samePages ? null : new byte[batch * pageSize];
        }

        /** Pages [from, to): their runs to {@code runs}, a run open at the end closed there. */
        void scan(long from, long to, RunTarget runs) throws IOException {
            long runStart = -1;
            for (long first = from; first < to; first += batch) {
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
            long differ = 0;
            if (samePages) {
                for (int i = 0; i < n; i++) {
                    if ((zero & 1L << i) == 0) {
                        long page = first + i;
                        int length = (int) Math.min(pageSize, common - page * pageSize);
                        MemorySegment x = pagesA.page(page);
                        MemorySegment y = pagesB.page(page);
                        if (MemorySegment.mismatch(x, 0, length, y, 0, length) >= 0) {
                            differ |= 1L << i;
                        }
                    }
                }
                return differ;
            }
            long offset = first * pageSize;
            int length = (int) Math.min((long) n * pageSize, common - offset);
            // one read of the batch from each dump: fewer calls than a page at a time
            a.read(block, offset, bufferA, 0, length);
            b.read(block, offset, bufferB, 0, length);
            for (int i = 0; i < n; i++) {
                int from = i * pageSize;
                int to = Math.min(length, from + pageSize);
                if (Arrays.mismatch(bufferA, from, to, bufferB, from, to) >= 0) {
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
