package io.qevm;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One operation is a whole walk of the stream with {@link MigrationReader#next()} up to EOF:
 * open the source, construct the reader (which finds and parses the JSON description), walk,
 * close. Walks/s is the primary score; {@link WalkCounters} adds records/s and bytes/s.
 *
 * <ul>
 *   <li>{@link #skipPages}: pages are not looked at (the cost of the cursor alone);</li>
 *   <li>{@link #touchPages}: every long of every data page is read through the zero-allocation
 *       accessors {@code pageData()/pageDataOffset()/pageSize()} and the sum blackholed.</li>
 * </ul>
 * {@code sourceKind}, each with {@link ReadOptions#DEFAULT}:
 * <ul>
 *   <li>{@code mapped}: {@link MigrationReader#open(java.nio.file.Path, ReadOptions)}, which maps
 *       the file, on every walk;</li>
 *   <li>{@code heap}: {@link MigrationReader#open(byte[], ReadOptions)} over the array held in
 *       memory;</li>
 *   <li>{@code stream}: {@link MigrationReader#open(java.io.InputStream, ReadOptions)} over a
 *       {@code ByteArrayInputStream} of the same array: the stream source's window (4 MiB of
 *       native memory allocated per walk), read once, forward, with no system calls in the way.
 *       The JSON description is found only at the device state after RAM, and that tail is held
 *       in memory until it is read. Not quite {@code qevm -f -}: a {@code FileInputStream} (standard
 *       input) is read through its own channel straight into the window, any other stream
 *       through {@code Channels.newChannel}, which copies through an 8 KiB array; the
 *       end-to-end script times the real pipe.</li>
 * </ul>
 * Compare with {@link NaiveDataInputStreamBench} run in the same JMH invocation.
 */
public class MigrationReaderPagesBench extends StreamState {

    /** Where the reader's bytes come from. */
    @Param({"mapped", "heap", "stream"})
    public String sourceKind;

    private MigrationReader open() throws IOException {
        return switch (sourceKind) {
            case "mapped" -> MigrationReader.open(file, ReadOptions.DEFAULT);
            case "heap" -> MigrationReader.open(bytes, ReadOptions.DEFAULT);
            case "stream" -> MigrationReader.open(new ByteArrayInputStream(bytes), ReadOptions.DEFAULT);
            default -> throw new IllegalArgumentException("unknown sourceKind " + sourceKind + " (mapped, heap, stream)");
        };
    }

    /**
     * One walk from this source must find the records and the page sum that the heap walk at
     * setup found ({@link StreamState}): otherwise sources would be compared on different work.
     */
    @Override
    protected void afterSetUp() throws IOException {
        long records = 0;
        long sum = 0;
        try (MigrationReader reader = open()) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE) {
                    records++;
                    sum += sumLongs(reader.pageData(), reader.pageDataOffset(), reader.pageSize());
                } else if (e == MigrationEvent.ZERO_PAGE) {
                    records++;
                }
            }
        }
        if (records != expectedRecords || sum != expectedSum) {
            throw new IllegalStateException("the " + sourceKind + " walk found " + records + " records (sum " + sum
                    + "), the heap walk " + expectedRecords + " (sum " + expectedSum + ")");
        }
    }

    @Benchmark
    public long skipPages(WalkCounters counters) throws IOException {
        long records = 0;
        try (MigrationReader reader = open()) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                    records++;
                }
            }
        }
        counters.records += records;
        counters.bytes += bytes.length;
        return records;
    }

    @Benchmark
    public void touchPages(WalkCounters counters, Blackhole bh) throws IOException {
        long records = 0;
        long sum = 0;
        try (MigrationReader reader = open()) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE) {
                    records++;
                    sum += sumLongs(reader.pageData(), reader.pageDataOffset(), reader.pageSize());
                } else if (e == MigrationEvent.ZERO_PAGE) {
                    records++;
                }
            }
        }
        bh.consume(sum);
        counters.records += records;
        counters.bytes += bytes.length;
    }
}
