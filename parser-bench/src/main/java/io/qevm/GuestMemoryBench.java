package io.qevm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A 4 KiB read from {@link GuestMemory} after its index is built: a page-aligned read of a page
 * with data, chosen at random among {@code pc.ram}'s data pages (raw pages of a mapped file: a
 * copy out of the mapping; zlib pages of h-compress: a copy out of the mapped spool), and an
 * unaligned one across two pages. {@code sample} is a sample's name or a dump's path
 * ({@code -p sample=/work/big/l-large-4G.mig}). Time per read, in ns. The offsets are drawn before:
 * {@code pages} of them, read round and round.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GuestMemoryBench extends BenchmarkDefaults {

    @Param({"c-pc-loader-data", "h-compress"})
    public String sample;

    /**
     * How many distinct pages the reads go round (a power of two), each drawn at random among
     * all of {@code pc.ram}'s data pages (on l-large-4G: over the whole 3 GiB of data): 1024
     * (64 MiB of mapping at most, with the kernel's 64 KiB fault-around: within GuestMemory's
     * 64 MiB release budget, stays mapped), 4096 (up to 256 MiB of fault-around windows: over
     * the budget, so pages are handed back and fault in again) or 262144 (a quarter of the data
     * pages: every read, practically, a page fault).
     */
    @Param({"1024", "4096", "262144"})
    public int pages;

    /**
     * What reads may keep mapped ({@link GuestMemory#keepMapped}): {@code default} (128 MiB, the
     * rest positional reads) or {@code all} (every 2 MiB granule read stays mapped: resident
     * memory grows to what the reads cover, up to the dump's size; printed at the end of a trial).
     */
    @Param({"default", "all"})
    public String mapped;

    private GuestMemory memory;
    private long[] offsets;
    private int next;
    private final byte[] into = new byte[4096];

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path file = sample.contains("/") ? Path.of(sample) : StreamState.sample(sample);
        memory = GuestMemory.open(file, ReadOptions.DEFAULT);
        if (mapped.equals("all")) {
            memory.keepMapped(Long.MAX_VALUE);
        }
        GuestMemory.Block ram = memory.block("pc.ram");
        long[] data = new long[(int) Math.min(ram.pages(), Integer.MAX_VALUE - 8)];
        int count = 0;
        for (long page = 0; page < ram.pages(); page++) {
            if (memory.pageKind("pc.ram", page) == GuestMemory.PageKind.DATA) {
                data[count++] = page * ram.pageSize();
            }
        }
        SplittableRandom random = new SplittableRandom(12);
        offsets = new long[pages];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = data[random.nextInt(count)];
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        // what the trial left resident (the fork's, JVM included): the price of keeping it mapped
        Path status = Path.of("/proc/self/status"); // Linux
        for (String line : java.nio.file.Files.exists(status) ? java.nio.file.Files.readAllLines(status) : List.<String>of()) {
            if (line.startsWith("VmRSS") || line.startsWith("VmHWM") || line.startsWith("RssFile")) {
                System.out.println("# " + sample + " pages=" + pages + " mapped=" + mapped + ": " + line);
            }
        }
        memory.close();
    }

    @Benchmark
    public byte[] readDataPage() throws IOException {
        long offset = offsets[next++ & (pages - 1)];
        memory.read("pc.ram", offset, into, 0, into.length);
        return into;
    }

    @Benchmark
    public byte[] readAcrossTwoPages() throws IOException {
        long offset = offsets[next++ & (pages - 1)];
        memory.read("pc.ram", Math.max(offset - 2048, 0), into, 0, into.length);
        return into;
    }
}
