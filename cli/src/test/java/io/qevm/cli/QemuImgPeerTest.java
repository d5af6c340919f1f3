package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.CleanFailure;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.Snapshot;
import io.qevm.consume.DescriptionWriter;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Against QEMU's own tools (Debian's qemu-utils; skipped without them): images that qemu-img
 * makes (v2 and v3 headers, extended L2, zstd, cluster sizes from 512 bytes to 2 MiB), a real
 * stream written into their VM-state area by qemu-io ({@code write -b}: as savevm writes it, or
 * {@code write -c}: compressed clusters made by QEMU) and snapshots taken by
 * {@code qemu-img snapshot -c}. Those are disk-only, so the test sets their vm_state_size (and,
 * for the compressed area, the disk size the area follows) in the snapshot table, the only bytes
 * it changes. Then: the snapshot table as {@code qemu-img info --output=json} reads it, the
 * listing as {@code qemu-img snapshot -l} prints it, and the VM state read as the stream itself.
 */
final class QemuImgPeerTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final byte[] STREAM = CleanFailure.sample("a-pc-paused");
    private static byte[] want;

    @TempDir
    Path work;

    @BeforeAll
    static void tools() throws IOException {
        assumeTrue(onPath("qemu-img") && onPath("qemu-io"), "qemu-img and qemu-io (apt-get install qemu-utils)");
        want = output(MigrationReader.open(STREAM, ReadOptions.DEFAULT));
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + ": still running after " + TIMEOUT);
        }
        String text = new String(out, UTF_8);
        assertEquals(0, process.exitValue(), String.join(" ", command) + ": " + text);
        return text;
    }

    private static byte[] output(MigrationReader reader) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (reader; StateWriter state = new StateWriter()) {
            MigrationConsumer.drive(reader, state);
            DescriptionWriter.write(reader, out, true);
            state.writeTo(out, true);
        }
        return out.toByteArray();
    }

    /** The stream, padded with zeros to a multiple of {@code unit} (qemu-io writes whole sectors). */
    private Path padded(int unit) throws IOException {
        byte[] bytes = java.util.Arrays.copyOf(STREAM, (STREAM.length + unit - 1) / unit * unit);
        return Files.write(work.resolve("stream-" + unit + ".bin"), bytes);
    }

    /**
     * Sets vm_state_size (the u32 and the u64 of the extra data) and, if {@code diskSize} is not
     * -1, the disk size of snapshot entry {@code index}.
     */
    private static void patchEntry(Path image, int index, long vmStateSize, long diskSize) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.seek(64);
            long at = file.readLong();
            for (int i = 0; ; i++) {
                at = (at + 7) & ~7L;
                file.seek(at + 12);
                int idSize = file.readUnsignedShort();
                int nameSize = file.readUnsignedShort();
                file.seek(at + 36);
                long extra = file.readInt() & 0xffff_ffffL;
                if (i == index) {
                    file.seek(at + 32);
                    file.writeInt((int) vmStateSize);
                    if (extra >= 8) {
                        file.seek(at + 40);
                        file.writeLong(vmStateSize);
                    }
                    if (diskSize != -1) {
                        assertEquals(true, extra >= 16, "a disk size in the extra data");
                        file.seek(at + 48);
                        file.writeLong(diskSize);
                    }
                    return;
                }
                at += 40 + extra + idSize + nameSize;
            }
        }
    }

    @ParameterizedTest(name = "qemu-img create -o {0}")
    @ValueSource(strings = {"compat=0.10", "compat=1.1", "cluster_size=512", "cluster_size=2M",
        "extended_l2=on,cluster_size=128k", "compression_type=zstd,extended_l2=on"})
    void vmStateWrittenByQemuIo(String options) throws Exception {
        Path image = work.resolve("vm.qcow2");
        Path stream = padded(512);
        long size = Files.size(stream);
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", options, image.toString(), "64M");
        run("qemu-io", "-c", "write -b -s " + stream + " 0 " + size, image.toString());
        run("qemu-img", "snapshot", "-c", "first", image.toString());
        // a second state over the first: copy on write gives the second snapshot other clusters
        run("qemu-io", "-c", "write -b -P 0x5a 4096 65536", image.toString());
        run("qemu-img", "snapshot", "-c", "second", image.toString());
        run("qemu-img", "snapshot", "-c", "disk-only", image.toString());
        patchEntry(image, 0, STREAM.length, -1);
        patchEntry(image, 1, STREAM.length, -1);
        assertSameTable(image);
        assertArrayEquals(want, output(MigrationReader.open(image, ReadOptions.builder().snapshot("first").build())));
        assertListedAsQemuImgDoes(image);
    }

    @ParameterizedTest(name = "compression_type={0}")
    @ValueSource(strings = {"zlib", "zstd"})
    void compressedClustersWrittenByQemu(String compression) throws Exception {
        // the stream written compressed at guest offset 512 MiB of a 1 GiB disk (L1 entry 1 of
        // 64 KiB clusters), then the snapshot's disk size set to 512 MiB: its VM-state area
        // starts there, in clusters QEMU compressed
        Path image = work.resolve("c.qcow2");
        Path stream = padded(65536);
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compression_type=" + compression, image.toString(), "1G");
        run("qemu-io", "-c", "write -c -s " + stream + " 512M " + Files.size(stream), image.toString());
        run("qemu-img", "snapshot", "-c", "packed", image.toString());
        patchEntry(image, 0, STREAM.length, 512L << 20);
        List<Snapshot> snapshots = MigrationReader.snapshots(image);
        assertEquals(512L << 20, snapshots.getFirst().diskSize());
        assertArrayEquals(want, output(MigrationReader.open(image)));
        assertSameTable(image);
    }

    /** MigrationReader.snapshots as qemu-img info --output=json gives the table. */
    private void assertSameTable(Path image) throws Exception {
        String json = run("qemu-img", "info", "--output=json", image.toString());
        List<String> theirs = new ArrayList<>();
        Matcher snapshot = Pattern.compile("\\{([^{}]*\"vm-state-size\"[^{}]*)}").matcher(json);
        while (snapshot.find()) {
            String body = snapshot.group(1);
            String icount = field(body, "icount");
            theirs.add(string(body, "id") + " " + string(body, "name") + " " + field(body, "vm-state-size") + " "
                    + field(body, "date-sec") + "." + field(body, "date-nsec") + " "
                    + (Long.parseLong(field(body, "vm-clock-sec")) * 1_000_000_000L + Long.parseLong(field(body, "vm-clock-nsec")))
                    + " " + (icount == null ? "-1" : icount));
        }
        List<String> ours = MigrationReader.snapshots(image).stream()
                .map(s -> s.id() + " " + s.name() + " " + s.vmStateSize() + " " + s.date().getEpochSecond() + "."
                        + s.date().getNano() + " " + s.vmClock().toNanos() + " " + s.icount())
                .toList();
        assertEquals(theirs, ours);
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":\\s*(-?\\d+)").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    private static String string(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\":\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    /**
     * qevm --list-snapshots as qemu-img snapshot -l, in one time zone for both. QEMU 9 renamed two
     * headings, widened VM CLOCK and shows an absent icount as "--": against such a qemu-img the
     * columns' values are compared, not the spacing.
     */
    private void assertListedAsQemuImgDoes(Path image) throws Exception {
        // both in the zone of this process's environment (TZ, else the system's)
        String theirs = run("qemu-img", "snapshot", "-l", image.toString());
        CliRun ours = CliRun.inProcess(work, TIMEOUT, "-f", image.toString(), "--list-snapshots");
        assertEquals(0, ours.exit(), ours.err());
        if (theirs.contains("VM CLOCK")) {
            assertEquals(theirs, ours.outText());
        } else {
            assertEquals(normalized(theirs), normalized(ours.outText()));
        }
    }

    /** The rows' values: the hours of VM CLOCK without leading zeros, "--" as no icount. */
    private static List<String> normalized(String listing) {
        return listing.lines().skip(2).map(line -> line.strip().replaceAll("\\s+", " ")
                .replaceAll(" 0*(\\d+):(\\d\\d):(\\d\\d\\.\\d\\d\\d)", " $1:$2:$3").replaceAll(" --$", "")).toList();
    }
}
