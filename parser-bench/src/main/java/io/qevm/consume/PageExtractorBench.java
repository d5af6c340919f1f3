package io.qevm.consume;

import io.qevm.BenchmarkDefaults;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.NaiveDataInputStreamBench;
import io.qevm.NaiveStreamWalker;
import io.qevm.ReadOptions;
import io.qevm.StreamState;
import io.qevm.SyntheticRamStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@code qevm -x} without the CLI, beside a naive baseline in the same run. One operation is one
 * whole extraction of the stream into an empty output directory:
 * <ul>
 *   <li>{@link #extract}: {@link MigrationReader#open} (the file mapped, as the CLI does),
 *       {@link MigrationConsumer#drive} with a {@link PageExtractor}, {@link PageExtractor#commit()};</li>
 *   <li>{@link #extractNaive}: the walk of {@link NaiveDataInputStreamBench}, a {@link NaiveStreamWalker}
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
 * JMH settings: {@link BenchmarkDefaults}.
 */
public class PageExtractorBench extends BenchmarkDefaults {

    /** Which stream to extract. */
    @Param({"dataHeavy", "realSample"})
    public String streamKind;

    private Path file;
    private boolean deleteFile;
    private long streamBytes;
    /** Bytes of data pages one extraction writes. */
    private long dataBytes;
    private Path scratch;
    private Path out;

    private FileWalker naive;

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
        naive = new FileWalker(NaiveStreamWalker.recordEnds(bytes));
        long pages = 0;
        try (MigrationReader reader = MigrationReader.open(file, ReadOptions.DEFAULT)) {
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
        try (MigrationReader reader = MigrationReader.open(file, ReadOptions.DEFAULT);
             PageExtractor extractor = new PageExtractor(directory, block -> { })) {
            MigrationConsumer.drive(reader, extractor);
            extractor.commit();
        }
    }

    /** The naive extraction into {@code directory}. */
    private void naiveInto(Path directory) throws IOException {
        Files.createDirectories(directory);
        naive.directory = directory;
        try {
            naive.walk(file);
        } finally {
            naive.closeFiles();
        }
    }

    /**
     * Writes each block's pages into one {@code RandomAccessFile}, opened at the MEM_SIZE list and
     * sized to the block's length: {@code seek} + {@code write} of each data page; zero pages left
     * as holes, unless the fill byte is not 0.
     */
    private static final class FileWalker extends NaiveStreamWalker<RandomAccessFile> {

        private final Map<String, RandomAccessFile> files = new HashMap<>();
        Path directory;

        FileWalker(Map<Long, Long> skips) {
            super(skips);
        }

        @Override
        protected RandomAccessFile block(String name, long usedLength) throws IOException {
            RandomAccessFile f = files.get(name);
            if (f == null) {
                Path path = directory.resolve(name.replaceFirst("^/+", ""));
                Files.createDirectories(path.getParent());
                f = new RandomAccessFile(path.toFile(), "rw");
                files.put(name, f);
            }
            f.setLength(usedLength);
            return f;
        }

        @Override
        protected void page(RandomAccessFile block, long address, byte[] page) throws IOException {
            block.seek(address);
            block.write(page);
        }

        @Override
        protected void zeroPage(RandomAccessFile block, long address, int fill) throws IOException {
            if (fill != 0) {
                byte[] filled = new byte[PAGE_SIZE];
                Arrays.fill(filled, (byte) fill);
                block.seek(address);
                block.write(filled);
            }
        }

        void closeFiles() throws IOException {
            for (RandomAccessFile f : files.values()) {
                f.close();
            }
            files.clear();
        }
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
