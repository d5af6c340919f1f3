package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.CleanFailure;
import io.qevm.Samples;
import io.qevm.qcow2.Qcow2Builder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TimeZone;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * qcow2 images on the command line: --list-snapshots, --snapshot, and the one-line errors for
 * what cannot be read (exit 1) or asked (exit 2).
 */
final class Qcow2CliTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final byte[] STREAM = CleanFailure.sample("a-pc-paused");

    @TempDir
    Path work;

    private CliRun run(String... args) {
        return CliRun.inProcess(work, TIMEOUT, args);
    }

    private Path image(String name, Qcow2Builder builder) throws IOException {
        return Files.write(work.resolve(name), builder.build().bytes);
    }

    /** Exit {@code code}, one line on stderr that matches {@code regex}, nothing on stdout. */
    private static void assertError(CliRun result, int code, String regex) {
        List<String> lines = result.err().lines().toList();
        assertEquals(1, lines.size(), result.err());
        assertTrue(Pattern.compile(regex).matcher(lines.getFirst()).find(), lines.getFirst() + " !~ " + regex);
        assertEquals(code, result.exit(), result.err());
        assertEquals(0, result.out().length);
    }

    @Test
    void listSnapshotsAsQemuImg() {
        TimeZone zone = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("UTC")); // qemu-img prints local time
        try {
            CliRun result = run("-f", Samples.dump("s-savevm-pc-first").toString(), "--list-snapshots");
            assertEquals(0, result.exit(), result.err());
            assertEquals("""
                    Snapshot list:
                    ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT
                    1         boot             4.51 MiB 2026-11-30 08:55:03 00:00:00.000\s\s\s\s\s\s\s\s\s\s\s
                    2         later            6.82 MiB 2026-11-30 08:55:06 00:00:01.962\s\s\s\s\s\s\s\s\s\s\s
                    """, result.outText());
            assertEquals("", result.err());
            // a prefix, as argparse allows; an image without snapshots lists nothing, as qemu-img
            CliRun none = run("--list", "-f", image("none.qcow2", new Qcow2Builder()).toString());
            assertEquals(0, none.exit(), none.err());
            assertEquals("", none.outText());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            TimeZone.setDefault(zone);
        }
    }

    @Test
    void aSnapshotByIdOrNameReadsItsVmState() throws IOException {
        Path image = image("vm.qcow2", new Qcow2Builder()
                .snapshot(new Qcow2Builder.Snapshot("1", "one").vmState(STREAM).date(100, 0))
                .snapshot(new Qcow2Builder.Snapshot("2", "disk").date(200, 0)));
        Path plain = Files.write(work.resolve("plain.mig"), STREAM);
        byte[] want = run("-f", plain.toString(), "-d", "desc").out();
        assertTrue(want.length > 1000);
        for (List<String> choice : List.of(List.<String>of(), List.of("--snapshot", "1"), List.of("--snapshot=one"),
                List.of("--snap", "one"))) {
            String[] args = Stream.concat(Stream.of("-f", image.toString(), "-d", "desc"), choice.stream())
                    .toArray(String[]::new);
            CliRun result = run(args);
            assertEquals(0, result.exit(), result.err());
            assertEquals(new String(want, java.nio.charset.StandardCharsets.UTF_8), result.outText(), choice.toString());
        }
        CliRun x = run("-f", image.toString(), "--snapshot", "1", "-x", "-o", "out");
        assertEquals(0, x.exit(), x.err());
        assertTrue(Files.isRegularFile(work.resolve("out/pc.ram")));
    }

    @Test
    void whatCannotBeReadSaysWhyInOneLine() throws IOException {
        Path none = image("none.qcow2", new Qcow2Builder());
        assertError(run("-f", none.toString()), 1, "none.qcow2: at byte 0x3c \\(60\\) of the image file: qcow2 image without internal snapshots");
        Path diskOnly = image("disk.qcow2", new Qcow2Builder().snapshot(new Qcow2Builder.Snapshot("1", "d")));
        assertError(run("-f", diskOnly.toString(), "-d", "desc"), 1, "none of the 1 internal snapshot of this qcow2 image");
        assertError(run("-f", diskOnly.toString(), "--snapshot", "d"), 1, "snapshot 1 'd' is a disk-only snapshot");
        Path two = image("two.qcow2", new Qcow2Builder()
                .snapshot(new Qcow2Builder.Snapshot("1", "a").vmState(STREAM))
                .snapshot(new Qcow2Builder.Snapshot("2", "b").vmState(STREAM)));
        assertError(run("-f", two.toString(), "-x", "--snapshot", "c"), 1,
                "expected a snapshot whose ID or name is 'c', found none; the image has 1 'a', 2 'b'$");
        assertTrue(Files.notExists(work.resolve("pc.ram")));
        Path encrypted = image("enc.qcow2", new Qcow2Builder().cryptMethod(2)
                .snapshot(new Qcow2Builder.Snapshot("1", "a").vmState(STREAM)));
        assertError(run("-f", encrypted.toString(), "-m"), 1, "at byte 0x20 \\(32\\) of the image file: encrypted qcow2 image \\(LUKS\\)");
        Path dataFile = image("data.qcow2", new Qcow2Builder().incompatible(1 << 2)
                .snapshot(new Qcow2Builder.Snapshot("1", "a").vmState(STREAM)));
        assertError(run("-f", dataFile.toString()), 1, "qcow2 image with an external data file");
        Path plain = Files.write(work.resolve("plain.mig"), STREAM);
        assertError(run("-f", plain.toString(), "--snapshot", "1"), 1, "plain.mig: at byte 0x0 \\(0\\): a snapshot was asked"
                + " for \\(--snapshot\\), but this is not a qcow2 image");
        assertError(run("-f", plain.toString(), "--list-snapshots"), 1, "expected the qcow2 magic");
    }

    @Test
    void aQcow2ImageOnAPipeIsRefused() throws IOException {
        Path image = image("vm.qcow2", new Qcow2Builder().snapshot(new Qcow2Builder.Snapshot("1", "a").vmState(STREAM)));
        CliRun result = CliRun.throughFifo(work, work.resolve("fifo"), image, TIMEOUT, List.of("-d", "state"));
        assertError(result, 1, "a qcow2 image is read by random access .*: pass the file itself");
        CliRun list = CliRun.throughFifo(work, work.resolve("fifo2"), image, TIMEOUT, List.of("--list-snapshots"));
        assertError(list, 1, "pass the file itself");
    }

    @Test
    void errorsInTheStreamNameTheSnapshot() throws IOException {
        byte[] broken = STREAM.clone();
        broken[CleanFailure.descriptionRecordOffset(STREAM) - 1] = (byte) 0x99; // QEMU_VM_EOF: no record type
        Path image = image("broken.qcow2", new Qcow2Builder()
                .snapshot(new Qcow2Builder.Snapshot("3", "late").vmState(broken)));
        CliRun result = run("-f", image.toString());
        List<String> lines = result.err().lines().toList();
        assertEquals(1, result.exit(), result.err());
        assertEquals(1, lines.size(), result.err());
        assertTrue(lines.getFirst().startsWith("qevm: " + image + ": at byte ")
                && lines.getFirst().contains(" of the VM state of snapshot 3 'late': "), lines.getFirst());
    }

    @Test
    void errorsInTheImageItselfGiveFileOffsets() throws IOException {
        // the L2 entry of cluster 60 of 149 (4 KiB clusters) points past the end of the file: found
        // while reading, after open; of cluster 0: found at open
        for (int cluster : new int[] {60, 0}) {
            Qcow2Builder.Image built = new Qcow2Builder().clusterBits(12)
                    .snapshot(new Qcow2Builder.Snapshot("3", "late").vmState(STREAM)).build();
            long entry = built.l2Entries.getFirst()[cluster];
            built.putBe64(entry, 1L << 63 | 1L << 40);
            Path image = Files.write(work.resolve("broken" + cluster + ".qcow2"), built.bytes);
            CliRun result = run("-f", image.toString(), "-d", "state");
            assertError(result, 1, "^qevm: " + Pattern.quote(image.toString()) + ": at byte 0x" + Long.toHexString(entry)
                    + " \\(" + entry + "\\) of the image file: expected 4096 bytes of the data cluster at offset 0x10000000000 \\(VM-state area"
                    + " offset " + cluster * 4096 + "\\), found the end of the file \\(at byte " + built.bytes.length + "\\)$");
        }
    }

    @Test
    void usageErrors() throws IOException {
        Path image = image("vm.qcow2", new Qcow2Builder());
        assertError(run("-f", image.toString(), "--list-snapshots", "-x"), 2, "--list-snapshots: not allowed with -x");
        assertError(run("-f", image.toString(), "--list-snapshots", "-d", "desc"), 2, "not allowed with -d");
        assertError(run("-f", image.toString(), "--list-snapshots", "--snapshot", "1"), 2, "not allowed with --snapshot");
        assertError(run("-f", image.toString(), "--snapshot", ""), 2, "--snapshot: empty snapshot ID or name");
        assertError(run("-f", image.toString(), "--snapshot"), 2, "--snapshot: expected one argument");
    }
}
