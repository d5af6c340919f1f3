package io.qevm;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The naive baseline: the same walk as {@link MigrationReaderPagesBench}, written the obvious
 * way with {@code DataInputStream(BufferedInputStream(FileInputStream))}: {@code readLong} for
 * each RAM record header, the flags tested, {@code readFully} of each data page into one reused
 * {@code byte[]} (in both modes: a stream cannot skip without reading), and in
 * {@link #touchPages} the same sum of longs. Run both classes in one JMH invocation and divide.
 *
 * <p>It decodes the RAM section only. Device sections (SECTION_FULL) and CONFIGURATION cannot be
 * walked without the JSON description, so it skips them by lengths the real reader measured once
 * at setup: they are a few KiB of the realSample stream and none of the synthetic ones.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NaiveDataInputStreamBench extends StreamState {

    private static final int PAGE_SIZE = 4096;
    private static final int FLAG_MASK = PAGE_SIZE - 1;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

    /** Offset of each non-RAM record's type byte -> offset just past its body. */
    private final Map<Long, Long> skips = new HashMap<>();
    private final byte[] page = new byte[PAGE_SIZE];
    private final byte[] name = new byte[256];
    private long sum;

    @Override
    protected void afterSetUp() throws IOException {
        skips.putAll(recordEnds(bytes));
        // the baseline must walk what the reader walks, or the ratio means nothing
        long records = walk(true);
        if (records != expectedRecords || sum != expectedSum) {
            throw new IllegalStateException("naive walk found " + records + " records (sum " + sum + "), the reader "
                    + expectedRecords + " (sum " + expectedSum + ")");
        }
    }

    /**
     * Where each record the baseline cannot walk ends, as the real reader finds it: offset of the
     * type byte of each CONFIGURATION and SECTION_FULL record -> offset just past its body.
     */
    public static Map<Long, Long> recordEnds(byte[] stream) throws IOException {
        Map<Long, Long> ends = new HashMap<>();
        try (MigrationReader reader = MigrationReader.of(MigrationSource.of(stream), ReadLimits.DEFAULT, true)) {
            long start = -1;
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                switch (e) {
                    case CONFIGURATION -> ends.put(reader.eventOffset(), reader.position());
                    case SECTION_START -> start = reader.recordType() == RecordType.FULL ? reader.eventOffset() : -1;
                    case RECORD_END -> {
                        if (start >= 0) {
                            ends.put(start, reader.position());
                        }
                    }
                    default -> {
                    }
                }
            }
        }
        return ends;
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
        bh.consume(sum);
        counters.records += records;
        counters.bytes += bytes.length;
    }

    /** Walks the file; returns the RAM page records and leaves the data pages' sum in {@link #sum}. */
    private long walk(boolean touch) throws IOException {
        long records = 0;
        sum = 0;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file.toFile()), 65536))) {
            if (in.readInt() != 0x5145564d || in.readInt() != 3) {
                throw new IOException("not a QEMU migration stream");
            }
            long pos = 8;
            while (true) {
                long at = pos;
                int type = in.readUnsignedByte();
                pos++;
                switch (type) {
                    case 0x00 -> { // QEMU_VM_EOF
                        return records;
                    }
                    case 0x01, 0x04 -> { // SECTION_START, SECTION_FULL
                        in.readInt();
                        int length = in.readUnsignedByte();
                        in.readFully(name, 0, length);
                        in.readInt();
                        in.readInt();
                        pos += 4 + 1 + length + 8;
                        if (type == 0x01 && length == 3 && name[0] == 'r' && name[1] == 'a' && name[2] == 'm') {
                            long[] walked = ramPart(in, touch);
                            pos += walked[0];
                            records += walked[1];
                        } else {
                            pos = skipTo(in, at, pos);
                        }
                    }
                    case 0x02, 0x03 -> { // SECTION_PART, SECTION_END: only RAM is iterative here
                        in.readInt();
                        pos += 4;
                        long[] walked = ramPart(in, touch);
                        pos += walked[0];
                        records += walked[1];
                    }
                    case 0x7e -> { // footer
                        in.readInt();
                        pos += 4;
                    }
                    case 0x07 -> pos = skipTo(in, at, pos); // CONFIGURATION
                    case 0x08 -> { // COMMAND
                        in.readUnsignedShort();
                        int length = in.readUnsignedShort();
                        in.skipNBytes(length);
                        pos += 4 + length;
                    }
                    default -> throw new IOException("record type " + type + " at " + at);
                }
            }
        }
    }

    /** One part of the RAM section up to EOS; returns {bytes read, page records}. */
    private long[] ramPart(DataInputStream in, boolean touch) throws IOException {
        long read = 0;
        long records = 0;
        while (true) {
            long header = in.readLong();
            read += 8;
            int flags = (int) (header & FLAG_MASK);
            if ((flags & 0x010) != 0) { // EOS
                return new long[] {read, records};
            }
            if ((flags & 0x004) != 0) { // MEM_SIZE: the block list
                for (long total = header & ~FLAG_MASK; total > 0; ) {
                    int length = in.readUnsignedByte();
                    in.readFully(name, 0, length);
                    total -= in.readLong();
                    read += 1 + length + 8;
                }
                continue;
            }
            if ((flags & 0x020) == 0) { // not CONTINUE: the block's name follows
                int length = in.readUnsignedByte();
                in.readFully(name, 0, length);
                read += 1 + length;
            }
            if ((flags & 0x008) != 0) { // PAGE
                in.readFully(page);
                read += PAGE_SIZE;
                if (touch) {
                    long s = 0;
                    for (int i = 0; i < PAGE_SIZE; i += 8) {
                        s += (long) LONGS.get(page, i);
                    }
                    sum += s;
                }
            } else if ((flags & 0x002) != 0) { // ZERO
                in.readByte();
                read++;
            } else {
                throw new IOException("RAM flags 0x" + Integer.toHexString(flags) + " not handled by the baseline");
            }
            records++;
        }
    }

    private long skipTo(DataInputStream in, long at, long pos) throws IOException {
        Long end = skips.get(at);
        if (end == null) {
            throw new EOFException("no known length for the record at " + at);
        }
        in.skipNBytes(end - pos);
        return end;
    }
}
