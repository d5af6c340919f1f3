package io.qevm;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The naive baseline: the same walk as {@link MigrationReaderPagesBench}, written the obvious
 * way with {@code DataInputStream(BufferedInputStream(FileInputStream))} ({@link NaiveStreamWalker}):
 * {@code readLong} for each RAM record header, the flags tested, {@code readFully} of each data
 * page into one reused {@code byte[]} (in both modes: a stream cannot skip without reading), and
 * in {@link #touchPages} the same sum of longs. Run both classes in one JMH invocation and divide.
 *
 * <p>It decodes the RAM section only. Device sections (SECTION_FULL) and CONFIGURATION cannot be
 * walked without the JSON description, so it skips them by lengths the real reader measured once
 * at setup: they are a few KiB of the realSample stream and none of the synthetic ones.
 */
public class NaiveDataInputStreamBench extends StreamState {

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private SumWalker walker;

    @Override
    protected void afterSetUp() throws IOException {
        walker = new SumWalker(NaiveStreamWalker.recordEnds(bytes));
        // the baseline must walk what the reader walks, or the ratio means nothing
        long records = walk(true);
        if (records != expectedRecords || walker.sum != expectedSum) {
            throw new IllegalStateException("naive walk found " + records + " records (sum " + walker.sum
                    + "), the reader " + expectedRecords + " (sum " + expectedSum + ")");
        }
    }

    @Benchmark
    public long skipPages(WalkCounters counters) throws IOException {
        long records = walk(false);
        counters.records += records;
        counters.bytes += bytes.length;
        return records;
    }

    @Benchmark
    public void touchPages(WalkCounters counters, Blackhole bh) throws IOException {
        long records = walk(true);
        bh.consume(walker.sum);
        counters.records += records;
        counters.bytes += bytes.length;
    }

    /** Walks the file; returns the RAM page records and leaves the data pages' sum in the walker. */
    private long walk(boolean touch) throws IOException {
        walker.touch = touch;
        walker.sum = 0;
        return walker.walk(file);
    }

    /** Reads every page; if {@link #touch}, sums the data pages' longs into {@link #sum}. */
    private static final class SumWalker extends NaiveStreamWalker<Void> {

        boolean touch;
        long sum;

        SumWalker(Map<Long, Long> skips) {
            super(skips);
        }

        @Override
        protected Void block(String name, long usedLength) {
            return null;
        }

        @Override
        protected void page(Void block, long address, byte[] page) {
            if (touch) {
                long s = 0;
                for (int i = 0; i < PAGE_SIZE; i += 8) {
                    s += (long) LONGS.get(page, i);
                }
                sum += s;
            }
        }

        @Override
        protected void zeroPage(Void block, long address, int fill) {
        }
    }
}
