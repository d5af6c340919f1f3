package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

/**
 * RamDiff on made-up RAM whose differing pages are known: runs across the place where the two
 * threads split a block, and the second thread stopping at its bound of kept runs.
 */
final class RamDiffTest {

    private static final int PAGE = 1024;

    /** RAM of one block whose page {@code p} holds {@code p} (or {@code p + 1} where {@code changed}), zero where {@code zero}. */
    private record FakeRam(long pages, LongPredicate changed, LongPredicate zero) implements RamDiff.Ram {

        @Override
        public List<RamDiff.Block> blocks() {
            return List.of(new RamDiff.Block("ram", pages * PAGE, PAGE));
        }

        @Override
        public RamDiff.Kind kind(String block, long page) {
            return zero.test(page) ? RamDiff.Kind.ZERO : RamDiff.Kind.DATA;
        }

        @Override
        public void read(String block, long offset, byte[] dst, int dstOffset, int length) {
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

    private static void check(long pages, LongPredicate differs, LongPredicate zeroInA, int maxKeptRuns)
            throws IOException {
        RamDiff.Ram a = new FakeRam(pages, p -> false, zeroInA);
        RamDiff.Ram b = new FakeRam(pages, differs, p -> false);
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
        new RamDiff(a, b, true, maxKeptRuns).run(sink);
        assertEquals(expected, sink.runs);
        assertEquals(count, sink.pages);
        assertEquals(expected.size(), sink.ranges);
    }

    @Test
    void runsAcrossTheSplitAreOne() throws IOException {
        long pages = 40_000; // split at 19968
        check(pages, p -> p >= 19_900 && p < 20_100 || p % 1000 == 7, p -> false, RamDiff.MAX_KEPT_RUNS);
    }

    @Test
    void theSecondThreadStopsAtItsBoundAndTheRestIsCompared() throws IOException {
        long pages = 50_000;
        // every third page differs: about 8000 runs in the second half, more than the 100 kept;
        // a run open where it stops (pages 30000-30150) goes on after it
        check(pages, p -> p % 3 == 0 || p >= 30_000 && p < 30_150, p -> p % 1024 == 5, 100);
        check(pages, p -> p % 3 == 0, p -> false, 1);
    }

    @Test
    void aSmallBlockOnOneThread() throws IOException {
        check(1000, p -> p % 2 == 1 || p == 998, p -> p > 500, RamDiff.MAX_KEPT_RUNS);
    }
}
