package io.qevm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.consume.DescriptionWriter;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.PageExtractor;
import io.qevm.consume.StateWriter;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.qcow2.Qcow2Builder;
import io.qevm.qcow2.Qcow2Builder.Kind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reader over a qcow2 snapshot's VM state: a real stream stored in images of every layout
 * (built cluster by cluster) reads exactly as the stream itself does; the container is reported;
 * what cannot be read says why.
 */
final class Qcow2ReaderTest {

    @TempDir
    Path dir;

    private static final byte[] STREAM = CleanFailure.sample("a-pc-paused");

    /** -d desc and -d state -m of a reader, as the CLI prints them. */
    private static byte[] output(MigrationReader reader) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (reader; StateWriter state = new StateWriter(true)) {
            MigrationConsumer.drive(reader, state);
            DescriptionWriter.write(reader, out, true);
            state.writeTo(out, true);
        }
        return out.toByteArray();
    }

    private static final byte[] WANT;

    static {
        try {
            WANT = output(MigrationReader.open(STREAM, ReadOptions.DEFAULT));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Stream<Arguments> layouts() {
        Kind[] mixed = {Kind.DATA, Kind.COMPRESSED, Kind.SCATTERED, Kind.COMPRESSED, Kind.DATA, Kind.DATA};
        IntFunction<Kind> mix = c -> mixed[c % mixed.length];
        Function<Qcow2Builder, Qcow2Builder> same = b -> b;
        return Stream.of(
                Arguments.of("v2, 64 KiB clusters, no extra data", (Function<Qcow2Builder, Qcow2Builder>) b -> b.version(2),
                        (IntFunction<Kind>) c -> Kind.DATA, 0),
                Arguments.of("v3, zlib clusters mixed", same, mix, 24),
                Arguments.of("v3, zstd clusters mixed", (Function<Qcow2Builder, Qcow2Builder>) b -> b.compressionType(1), mix, 24),
                Arguments.of("512-byte clusters, scattered", (Function<Qcow2Builder, Qcow2Builder>) b -> b.clusterBits(9),
                        (IntFunction<Kind>) c -> c % 2 == 0 ? Kind.SCATTERED : Kind.DATA, 16),
                Arguments.of("2 MiB clusters, compressed", (Function<Qcow2Builder, Qcow2Builder>) b -> b.clusterBits(21),
                        (IntFunction<Kind>) c -> Kind.COMPRESSED, 24),
                Arguments.of("extended L2, zstd", (Function<Qcow2Builder, Qcow2Builder>) b -> b.clusterBits(14).extendedL2()
                        .compressionType(1), (IntFunction<Kind>) c -> c % 3 == 0 ? Kind.SUBCLUSTERS : mixed[c % 6], 24));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void aStreamInAnyLayoutReadsAsTheStreamItself(String name, Function<Qcow2Builder, Qcow2Builder> layout,
                                                  IntFunction<Kind> kinds, int extraData) throws IOException {
        Qcow2Builder.Image image = layout.apply(new Qcow2Builder())
                .snapshot(new Qcow2Builder.Snapshot("1", "vm").vmState(STREAM).kinds(kinds).extraDataSize(extraData)
                        .subclusters(0xffff_ffffL, 0))
                .build();
        Path file = dir.resolve("vm.qcow2");
        Files.write(file, image.bytes);
        MigrationReader reader = MigrationReader.open(file);
        assertEquals(file.toString(), reader.sourceName());
        assertEquals(STREAM.length, reader.sourceSize());
        Container.Qcow2Snapshot container = (Container.Qcow2Snapshot) reader.containers().getFirst();
        assertEquals("vm", container.snapshot().name());
        assertArrayEquals(WANT, output(reader));
        assertArrayEquals(WANT, output(MigrationReader.open(image.bytes, ReadOptions.DEFAULT)), "from an array too");
    }

    @Test
    void theSnapshotChosenByIdOrNameOrTheLatest() throws IOException {
        byte[] other = CleanFailure.sample("n-pc-paused");
        Qcow2Builder.Image image = new Qcow2Builder()
                .snapshot(new Qcow2Builder.Snapshot("1", "first").vmState(other).date(100, 0))
                .snapshot(new Qcow2Builder.Snapshot("2", "second").vmState(STREAM).date(200, 0))
                .snapshot(new Qcow2Builder.Snapshot("3", "disk").date(300, 0))
                .build();
        Path file = dir.resolve("two.qcow2");
        Files.write(file, image.bytes);
        byte[] wantOther = output(MigrationReader.open(other, ReadOptions.DEFAULT));
        assertArrayEquals(WANT, output(MigrationReader.open(file)));
        assertArrayEquals(wantOther, output(MigrationReader.open(file, ReadOptions.builder().snapshot("1").build())));
        assertArrayEquals(wantOther, output(MigrationReader.open(file, ReadOptions.builder().snapshot("first").build())));
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> MigrationReader.open(file, ReadOptions.builder().snapshot("disk").build()));
        assertTrue(e.getMessage().contains("snapshot 3 'disk' is a disk-only snapshot"), e.getMessage());
        List<Snapshot> listed = MigrationReader.snapshots(file);
        assertEquals(List.of("first", "second", "disk"), listed.stream().map(Snapshot::name).toList());
        assertEquals(List.of((long) other.length, (long) STREAM.length, 0L),
                listed.stream().map(Snapshot::vmStateSize).toList());
    }

    @Test
    void aStreamErrorAtOpenNamesTheSnapshot() throws IOException {
        byte[] broken = STREAM.clone();
        broken[3] ^= 1; // the magic
        Qcow2Builder.Image image = new Qcow2Builder()
                .snapshot(new Qcow2Builder.Snapshot("4", "bad").vmState(broken)).build();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> MigrationReader.open(image.bytes, ReadOptions.DEFAULT));
        assertEquals(0, e.eventOffset());
        assertEquals("VM state of snapshot 4 'bad'", e.stream());
        assertTrue(e.getMessage().startsWith("at byte 0x0 (0) of the VM state of snapshot 4 'bad': ")
                && e.getMessage().contains("expected the QEMU migration magic"), e.getMessage());
    }

    @Test
    void aQcow2ImageOnAStreamOrASnapshotOfAStream() throws IOException {
        byte[] image = new Qcow2Builder().snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(STREAM)).build().bytes;
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> MigrationReader.open(new ByteArrayInputStream(image), ReadOptions.DEFAULT));
        assertTrue(e.getMessage().contains("read by random access"), e.getMessage());
        e = assertThrows(MalformedStreamException.class,
                () -> MigrationReader.open(STREAM, ReadOptions.builder().snapshot("1").build()));
        assertTrue(e.getMessage().contains("not a qcow2 image"), e.getMessage());
        Path plain = dir.resolve("plain.mig");
        Files.write(plain, STREAM);
        MigrationReadException notQcow2 = assertThrows(MigrationReadException.class, () -> MigrationReader.snapshots(plain));
        assertTrue(notQcow2.getMessage().contains("expected the qcow2 magic 'QFI\\xfb' (0x514649fb), found 0x5145564d"),
                notQcow2.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReadOptions.builder().snapshot(""));
        try (MigrationReader bare = MigrationReader.open(STREAM, ReadOptions.DEFAULT)) {
            assertEquals(List.of(), bare.containers());
        }
    }

    /**
     * QEMU 10.2's mapped-ram savevm (samples-next/s-savevm-mapped-ram-qemu10): RAM at offsets of
     * the VM-state area far past vm_state_size, pages never written read as zeros. Its RAM
     * extracts as the reference's. (Its JSON description is followed by the zeros of its last
     * cluster: the description is found once the reader accepts bytes after it, issue 10's
     * "trailing bytes" part.)
     */
    @Test
    void mappedRamSavevmRamReadByOffsets() throws IOException {
        Path image = Samples.dump("s-savevm-mapped-ram-qemu10");
        ReadOptions ramOnly = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        Path out = dir.resolve("x");
        try (MigrationReader reader = MigrationReader.open(image, ramOnly);
             PageExtractor extractor = new PageExtractor(out, name -> { })) {
            assertEquals(107_085_824L, reader.sourceSize(), "to the end of the area's last cluster");
            MigrationConsumer.drive(reader, extractor);
            extractor.commit();
        }
        Map<String, String> want = new TreeMap<>();
        for (String line : Files.readAllLines(Samples.folder("s-savevm-mapped-ram-qemu10").resolve("expected/extract.sha256"))) {
            String[] parts = line.split("  ", 3);
            if (!parts[2].endsWith(".json")) {
                want.put(parts[2], parts[0]);
            }
        }
        Map<String, String> got = new TreeMap<>();
        try (Stream<Path> files = Files.walk(out)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                got.put(out.relativize(f).toString(), sha256(f));
            }
        }
        assertEquals(want, got);
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
