package io.qevm;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
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
 * {@code sourceKind}: {@code mapped} maps the file per walk ({@link MigrationSource#mapped}),
 * {@code heap} reads the array held in memory ({@link MigrationSource#of(byte[])}).
 * Compare with {@link NaiveDataInputStreamBench} run in the same JMH invocation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MigrationReaderPagesBench extends StreamState {

    /** Where the reader's bytes come from. */
    @Param({"mapped", "heap"})
    public String sourceKind;

    private MigrationReader open() throws IOException {
        MigrationSource source = switch (sourceKind) {
            case "mapped" -> MigrationSource.mapped(file);
            case "heap" -> MigrationSource.of(bytes);
            default -> throw new IllegalArgumentException("unknown sourceKind " + sourceKind + " (mapped, heap)");
        };
        return MigrationReader.of(source, ReadLimits.DEFAULT, true);
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
