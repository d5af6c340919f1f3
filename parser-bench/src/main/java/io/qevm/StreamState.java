package io.qevm;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The shared base state of the page-walk benchmarks: the stream under test, made once per fork,
 * both as a file (for the mapped source and the naive baseline) and as a {@code byte[]} (for the
 * heap and stream sources), with what one whole walk of it must find. The JMH settings come from
 * {@link BenchmarkDefaults}.
 *
 * <p>Stream kinds ({@code -p streamKind=...}):
 * <ul>
 *   <li>{@code zeroHeavy}: {@link SyntheticRamStream}, 1 GiB of guest RAM, 1% data pages
 *       (override with {@code -Dqevm.bench.zeroHeavy.mib=} and {@code -Dqevm.bench.zeroHeavy.ratio=});</li>
 *   <li>{@code dataHeavy}: 64 MiB of guest RAM, 100% data pages ({@code qevm.bench.dataHeavy.*});</li>
 *   <li>{@code realSample}: the QEMU 7.2 dump {@code c-pc-loader-data.mig} from the samples
 *       directory ({@code -Dqevm.samples=DIR}, default {@code src-samples} found from the working
 *       directory upwards). When it is absent the trial fails at setup with a message saying so,
 *       and JMH goes on with the other parameters.</li>
 * </ul>
 */
public abstract class StreamState extends BenchmarkDefaults {

    /** Which stream to walk. */
    @Param({"zeroHeavy", "dataHeavy", "realSample"})
    public String streamKind;

    /** The stream as a file: a temp file for synthetic kinds, the sample itself for realSample. */
    public Path file;
    /** The stream's bytes, for {@link MigrationReader#open(byte[], ReadOptions)} and the stream source. */
    public byte[] bytes;
    /** RAM page records (RAM_PAGE and ZERO_PAGE events) one walk finds. */
    public long expectedRecords;
    /** Data pages (RAM_PAGE events) one walk finds. */
    public long expectedDataPages;
    /** The sum of every long (native order) of every data page: what a touching walk computes. */
    public long expectedSum;

    private boolean deleteOnTearDown;

    @Setup(Level.Trial)
    public void setUpStream() throws IOException {
        switch (streamKind) {
            case "zeroHeavy" -> synthetic("zeroHeavy", 1024, 0.01);
            case "dataHeavy" -> synthetic("dataHeavy", 64, 1.0);
            case "realSample" -> {
                file = sample("c-pc-loader-data");
                bytes = Files.readAllBytes(file);
            }
            default -> throw new IllegalArgumentException("unknown streamKind " + streamKind
                    + " (zeroHeavy, dataHeavy, realSample)");
        }
        try (MigrationReader reader = MigrationReader.open(bytes, ReadOptions.DEFAULT)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                switch (e) {
                    case RAM_PAGE -> {
                        expectedRecords++;
                        expectedDataPages++;
                        expectedSum += sumLongs(reader.page(), 0, reader.pageSize());
                    }
                    case ZERO_PAGE -> expectedRecords++;
                    default -> {
                    }
                }
            }
        }
        System.out.printf("%n# stream %s: %s, %,d bytes, %,d page records, %,d data pages%n",
                streamKind, file, bytes.length, expectedRecords, expectedDataPages);
        afterSetUp();
    }

    /** Further setup of a subclass, run once the stream is made (JMH's setup order is not defined). */
    protected void afterSetUp() throws IOException {
    }

    /** The sum of the longs (native byte order) of {@code data[offset, offset + size)}. */
    public static long sumLongs(MemorySegment data, long offset, int size) {
        long sum = 0;
        for (long i = offset, end = offset + size; i < end; i += 8) {
            sum += data.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return sum;
    }

    @TearDown(Level.Trial)
    public void tearDownStream() throws IOException {
        if (deleteOnTearDown) {
            Files.deleteIfExists(file);
        }
    }

    private void synthetic(String kind, long defaultMiB, double defaultRatio) throws IOException {
        long mib = Long.getLong("qevm.bench." + kind + ".mib", defaultMiB);
        double ratio = Double.parseDouble(System.getProperty("qevm.bench." + kind + ".ratio", Double.toString(defaultRatio)));
        bytes = SyntheticRamStream.build(mib << 20, ratio);
        file = Files.createTempFile("qevm-bench-" + kind + "-", ".mig");
        deleteOnTearDown = true;
        Files.write(file, bytes);
    }

    /**
     * The sample {@code name}'s {@code .mig} file under the samples directory.
     *
     * @throws IllegalStateException with a message saying where it was looked for, when absent
     */
    public static Path sample(String name) {
        Path dir = samplesDir();
        Path mig = dir == null ? null : dir.resolve(name).resolve(name + ".mig");
        if (mig == null || !Files.isRegularFile(mig)) {
            throw new IllegalStateException("SKIPPED: sample " + name + ".mig not found (looked in "
                    + (dir == null ? "src-samples from " + Path.of("").toAbsolutePath() + " upwards" : dir)
                    + "); run from the repository root or pass -jvmArgsAppend -Dqevm.samples=DIR");
        }
        return mig;
    }

    private static Path samplesDir() {
        String configured = System.getProperty("qevm.samples");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
            if (Files.isDirectory(at.resolve("src-samples"))) {
                return at.resolve("src-samples");
            }
        }
        return null;
    }
}
