package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

/**
 * RamDiff on made-up RAM whose differing pages are known: runs across the chunks the two threads
 * take in turn, a thread waiting when far ahead of the runs told, and a failure of either thread.
 */
final class RamDiffTest {

    private static final int PAGE = 1024;

    /** RAM of one block whose page {@code p} holds {@code p} (or {@code p + 1} where {@code changed}), zero where {@code zero}. */
    private record FakeRam(long pages, LongPredicate changed, LongPredicate zero, long failAt, int declaredPageSize)
            implements RamDiff.Ram {

        FakeRam(long pages, LongPredicate changed, LongPredicate zero) {
            this(pages, changed, zero, -1, PAGE);
        }

        /** The block's page size as it declares it: the bytes are the same, in pages of PAGE. */
        @Override
        public List<RamDiff.Block> blocks() {
            return List.of(new RamDiff.Block("ram", pages * PAGE, declaredPageSize));
        }

        @Override
        public RamDiff.Pages pages(String block) {
            byte[] page = new byte[PAGE];
            return number -> {
                read(block, number * PAGE, page, 0, PAGE);
                return MemorySegment.ofArray(page);
            };
        }

        @Override
        public RamDiff.Kind kind(String block, long page) {
            return zero.test(page) ? RamDiff.Kind.ZERO : RamDiff.Kind.DATA;
        }

        @Override
        public void read(String block, long offset, byte[] dst, int dstOffset, int length) throws IOException {
            if (failAt >= offset / PAGE && failAt < (offset + length) / PAGE) {
                throw new IOException("cannot read page " + failAt);
            }
            for (long page = offset / PAGE; page < (offset + length) / PAGE; page++) {
                int at = dstOffset + (int) (page * PAGE - offset);
                long value = zero.test(page) ? 0 : page + (changed.test(page) ? 1 : 0);
                Arrays.fill(dst, at, at + PAGE, (byte) 0);
                for (int i = 0; i < 8; i++) {
                    dst[at + 100 + i] = (byte) (value >>> 8 * i);
                }
            }
        }

        @Override
        public void close() {
        }
    }

    private static final class Collected implements RamDiff.Sink {
        final List<List<Long>> runs = new ArrayList<>();
        long pages = -1;
        long ranges = -1;

        @Override
        public void onlyIn(RamDiff.Block block, boolean inA) {
            throw new AssertionError();
        }

        @Override
        public void blockStart(RamDiff.Block a, RamDiff.Block b, int pageSize) {
            assertEquals(PAGE, pageSize);
        }

        @Override
        public void range(long first, long last) {
            runs.add(List.of(first, last));
        }

        @Override
        public void blockEnd(long pages, long ranges) {
            this.pages = pages;
            this.ranges = ranges;
        }
    }

    private static void check(long pages, LongPredicate differs, LongPredicate zeroInA, int chunkPages, int ahead)
            throws IOException {
        check(pages, differs, zeroInA, chunkPages, ahead, PAGE);
    }

    /** B declaring pages of {@code pageSizeB}: compared in pages of PAGE by their bytes, read into buffers. */
    private static void check(long pages, LongPredicate differs, LongPredicate zeroInA, int chunkPages, int ahead,
            int pageSizeB) throws IOException {
        RamDiff.Ram a = new FakeRam(pages, p -> false, zeroInA);
        RamDiff.Ram b = new FakeRam(pages, differs, p -> false, -1, pageSizeB);
        // expected: pages whose values differ (a zero page of A against B's value p, never 0 but for page 0)
        List<List<Long>> expected = new ArrayList<>();
        long count = 0;
        long start = -1;
        for (long p = 0; p <= pages; p++) {
            boolean d = p < pages && (differs.test(p) || (zeroInA.test(p) && p != 0));
            count += d ? 1 : 0;
            if (d && start < 0) {
                start = p;
            } else if (!d && start >= 0) {
                expected.add(List.of(start, p - 1));
                start = -1;
            }
        }
        Collected sink = new Collected();
        new RamDiff(a, b, true, chunkPages, ahead).run(sink);
        assertEquals(expected, sink.runs);
        assertEquals(count, sink.pages);
        assertEquals(expected.size(), sink.ranges);
    }

    @Test
    void runsAcrossChunksAreOne() throws IOException {
        long pages = 40_000; // 10 chunks: a run over pages 12200-12400 spans chunks 2 and 3
        check(pages, p -> p >= 12_200 && p < 12_400 || p % 1000 == 7, p -> false, RamDiff.CHUNK_PAGES,
                RamDiff.AHEAD_CHUNKS);
    }

    @Test
    void runsComeInOrderWhateverThreadComparedTheirChunk() throws IOException {
        long pages = 50_000;
        // every third page differs, chunks of 100 pages (not a multiple of the 64-page batch), at
        // most 2 or 1 chunks ahead of the runs told: the threads wait for each other all along
        check(pages, p -> p % 3 == 0 || p >= 30_000 && p < 30_150, p -> p % 1024 == 5, 100, 2);
        check(pages, p -> p % 3 == 0, p -> false, 100, 1);
        // chunks with nothing to read (zero both sides) next to chunks with every page read
        check(pages, p -> p % 7 == 0, p -> p % 20_000 < 10_000, 64, 3);
    }

    @Test
    void blocksOfOtherPageSizesAreComparedByTheirBytes() throws IOException {
        check(40_000, p -> p % 9 == 0 || p > 39_000, p -> p % 1024 < 3, 256, 4, 2 * PAGE);
    }

    @Test
    void aSmallBlockOnOneThread() throws IOException {
        check(1000, p -> p % 2 == 1 || p == 998, p -> p > 500, RamDiff.CHUNK_PAGES, RamDiff.AHEAD_CHUNKS);
    }

    @Test
    void aFailureOfEitherThreadEndsTheCompare() {
        for (long failAt : new long[] {10, 25_000, 49_990}) {
            RamDiff.Ram a = new FakeRam(50_000, p -> false, p -> false);
            RamDiff.Ram b = new FakeRam(50_000, p -> p % 5 == 0, p -> false, failAt, PAGE);
            IOException e = assertThrows(IOException.class,
                    () -> new RamDiff(a, b, true, 128, 2).run(new Collected()));
            assertEquals("cannot read page " + failAt, e.getMessage());
        }
    }
}
