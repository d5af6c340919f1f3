package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.NaiveDataInputStreamBench;
import io.qevm.StreamState;
import io.qevm.SyntheticRamStream;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code qevm -x} without the CLI, beside a naive baseline in the same run. One operation is one
 * whole extraction of the stream into an empty output directory:
 * <ul>
 *   <li>{@link #extract}: {@link MigrationReader#open} (the file mapped, as the CLI does),
 *       {@link MigrationConsumer#drive} with a {@link PageExtractor}, {@link PageExtractor#commit()};</li>
 *   <li>{@link #extractNaive}: the walk of {@link NaiveDataInputStreamBench}
 *       ({@code DataInputStream(BufferedInputStream(FileInputStream))}, {@code readFully} of each
 *       page into one {@code byte[]}), one {@code RandomAccessFile} per RAM block sized to its
 *       length from the MEM_SIZE list, {@code seek} + {@code write} of each data page; zero pages
 *       left as holes (a non-zero fill byte written). It writes the final names directly (no
 *       partial files, no renames).</li>
 * </ul>
 * The outputs are deleted after each operation by a {@code Level.Invocation} teardown, which JMH
 * keeps out of the measured time (each operation is timed on its own; operations take
 * milliseconds, so the timer's cost is noise). Setup checks that both write the same files.
 *
 * <p>Outputs go under {@code java.io.tmpdir} ({@code -Dqevm.bench.outDir=DIR} to change): on a
 * disk file system, and deleted before writeback, so this measures writing into the page cache,
 * not the disk. {@link ExtractCounters#dataBytes} gives guest data bytes written per second.
 *
 * <p>Streams ({@code -p streamKind=}): {@code dataHeavy} (the synthetic 64 MiB guest, 100% data
 * pages, see {@link StreamState}) and {@code realSample} ({@code c-pc-loader-data.mig}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PageExtractorBench {

    private static final int PAGE_SIZE = 4096;
    private static final int FLAG_MASK = PAGE_SIZE - 1;

    /** Which stream to extract. */
    @Param({"dataHeavy", "realSample"})
    public String streamKind;

    private Path file;
    private boolean deleteFile;
    private long streamBytes;
    /** Bytes of data pages one extraction writes. */
    private long dataBytes;
    private Map<Long, Long> skips;
    private Path scratch;
    private Path out;

    // the naive baseline's working state
    private final byte[] page = new byte[PAGE_SIZE];
    private final byte[] name = new byte[256];
    private final Map<String, RandomAccessFile> naiveFiles = new HashMap<>();
    private RandomAccessFile current;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        byte[] bytes;
        switch (streamKind) {
            case "dataHeavy" -> {
                long mib = Long.getLong("qevm.bench.dataHeavy.mib", 64);
                double ratio = Double.parseDouble(System.getProperty("qevm.bench.dataHeavy.ratio", "1.0"));
                bytes = SyntheticRamStream.build(mib << 20, ratio);
                file = Files.createTempFile("qevm-bench-dataHeavy-", ".mig");
                deleteFile = true;
                Files.write(file, bytes);
            }
            case "realSample" -> {
                file = StreamState.sample("c-pc-loader-data");
                bytes = Files.readAllBytes(file);
            }
            default -> throw new IllegalArgumentException("unknown streamKind " + streamKind + " (dataHeavy, realSample)");
        }
        streamBytes = bytes.length;
        skips = NaiveDataInputStreamBench.recordEnds(bytes);
        long pages = 0;
        try (MigrationReader reader = MigrationReader.open(file)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE) {
                    pages++;
                    dataBytes += reader.pageSize();
                }
            }
        }
        String dir = System.getProperty("qevm.bench.outDir");
        scratch = dir == null ? Files.createTempDirectory("qevm-bench-extract-")
                : Files.createTempDirectory(Files.createDirectories(Path.of(dir)), "qevm-bench-extract-");
        out = scratch.resolve("out");

        // both must write the same files, or the ratio means nothing
        Path expected = scratch.resolve("check-qevm");
        Path naive = scratch.resolve("check-naive");
        extractInto(expected);
        naiveInto(naive);
        List<String> mismatches = compareTrees(expected, naive);
        System.out.printf("%n# extract %s: %s, %,d bytes, %,d data pages (%,d bytes of guest data), %d files%n",
                streamKind, file, streamBytes, pages, dataBytes, listFiles(expected).size());
        deleteTree(expected);
        deleteTree(naive);
        if (!mismatches.isEmpty()) {
            throw new IllegalStateException("the naive extraction differs from PageExtractor's: " + mismatches);
        }
    }

    @TearDown(Level.Invocation)
    public void deleteOutputs() throws IOException {
        deleteTree(out);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        deleteTree(scratch);
        if (deleteFile) {
            Files.deleteIfExists(file);
        }
    }

    @Benchmark
    public void extract(ExtractCounters counters) throws IOException {
        extractInto(out);
        counters.dataBytes += dataBytes;
        counters.streamBytes += streamBytes;
    }

    @Benchmark
    public void extractNaive(ExtractCounters counters) throws IOException {
        naiveInto(out);
        counters.dataBytes += dataBytes;
        counters.streamBytes += streamBytes;
    }

    private void extractInto(Path directory) throws IOException {
        try (MigrationReader reader = MigrationReader.open(file);
             PageExtractor extractor = new PageExtractor(directory, block -> { })) {
            MigrationConsumer.drive(reader, extractor);
            extractor.commit();
        }
    }

    /** The naive extraction into {@code directory}. */
    private void naiveInto(Path directory) throws IOException {
        Files.createDirectories(directory);
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
                        return;
                    }
                    case 0x01, 0x04 -> { // SECTION_START, SECTION_FULL
                        in.readInt();
                        int length = in.readUnsignedByte();
                        in.readFully(name, 0, length);
                        in.readInt();
                        in.readInt();
                        pos += 4 + 1 + length + 8;
                        if (type == 0x01 && length == 3 && name[0] == 'r' && name[1] == 'a' && name[2] == 'm') {
                            pos += ramPart(in, directory);
                        } else {
                            pos = skipTo(in, at, pos);
                        }
                    }
                    case 0x02, 0x03 -> { // SECTION_PART, SECTION_END: only RAM is iterative here
                        in.readInt();
                        pos += 4;
                        pos += ramPart(in, directory);
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
        } finally {
            for (RandomAccessFile f : naiveFiles.values()) {
                f.close();
            }
            naiveFiles.clear();
            current = null;
        }
    }

    /** One part of the RAM section up to EOS, written out; returns the bytes read. */
    private long ramPart(DataInputStream in, Path directory) throws IOException {
        long read = 0;
        while (true) {
            long header = in.readLong();
            read += 8;
            int flags = (int) (header & FLAG_MASK);
            if ((flags & 0x010) != 0) { // EOS
                return read;
            }
            if ((flags & 0x004) != 0) { // MEM_SIZE: the block list; one file per block, sized to it
                for (long total = header & ~FLAG_MASK; total > 0; ) {
                    int length = in.readUnsignedByte();
                    in.readFully(name, 0, length);
                    long used = in.readLong();
                    total -= used;
                    read += 1 + length + 8;
                    String block = new String(name, 0, length, StandardCharsets.ISO_8859_1);
                    RandomAccessFile f = naiveFiles.get(block);
                    if (f == null) {
                        Path path = directory.resolve(block.replaceFirst("^/+", ""));
                        Files.createDirectories(path.getParent());
                        f = new RandomAccessFile(path.toFile(), "rw");
                        naiveFiles.put(block, f);
                    }
                    f.setLength(used);
                }
                continue;
            }
            if ((flags & 0x020) == 0) { // not CONTINUE: the block's name follows
                int length = in.readUnsignedByte();
                in.readFully(name, 0, length);
                read += 1 + length;
                current = naiveFiles.get(new String(name, 0, length, StandardCharsets.ISO_8859_1));
            }
            long address = header & ~FLAG_MASK;
            if ((flags & 0x008) != 0) { // PAGE
                in.readFully(page);
                read += PAGE_SIZE;
                current.seek(address);
                current.write(page);
            } else if ((flags & 0x002) != 0) { // ZERO: a hole, unless the fill byte is not 0
                int fill = in.readUnsignedByte();
                read++;
                if (fill != 0) {
                    byte[] filled = new byte[PAGE_SIZE];
                    Arrays.fill(filled, (byte) fill);
                    current.seek(address);
                    current.write(filled);
                }
            } else {
                throw new IOException("RAM flags 0x" + Integer.toHexString(flags) + " not handled by the baseline");
            }
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

    /** Relative paths of the regular files under {@code root}, sorted. */
    private static List<String> listFiles(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    /** What differs between the two trees: files present in one only, or with other contents. */
    private static List<String> compareTrees(Path a, Path b) throws IOException {
        List<String> inA = listFiles(a);
        List<String> inB = listFiles(b);
        List<String> differ = new ArrayList<>();
        if (!inA.equals(inB)) {
            differ.add("files " + inA + " vs " + inB);
            return differ;
        }
        for (String f : inA) {
            if (Files.mismatch(a.resolve(f), b.resolve(f)) != -1) {
                differ.add(f);
            }
        }
        return differ;
    }

    private static void deleteTree(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
