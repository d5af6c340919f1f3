package io.qevm.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.io.ByteSource;
import io.qevm.qcow2.Qcow2Builder.Kind;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The VM-state area read through a snapshot's L1/L2 tables, on images built cluster by cluster:
 * each kind of cluster reads back as written, windows over contiguous clusters are slices of the
 * file, others are assembled, and every window stays valid whatever is read after it.
 */
final class VmStateSourceTest {

    static byte[] random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** Compressible but not trivial: text-like bytes. */
    static byte[] compressible(int length, long seed) {
        byte[] bytes = new byte[length];
        Random random = new Random(seed);
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) ('a' + (i / 7 + random.nextInt(3)) % 26);
        }
        return bytes;
    }

    static ByteSource open(Qcow2Builder.Image image, int snapshot) throws IOException {
        Qcow2Image qcow2 = Qcow2Image.open(ByteSource.of(image.bytes, "test.qcow2"));
        return qcow2.vmState(qcow2.snapshots().get(snapshot));
    }

    /** The whole area, read in windows of {@code step} bytes asked at every step-th offset. */
    static byte[] readAll(ByteSource source, int step) throws IOException {
        byte[] out = new byte[(int) source.size()];
        for (int at = 0; at < out.length; at += step) {
            int n = Math.min(step, out.length - at);
            MemorySegment window = source.window(at, n);
            assertTrue(window.byteSize() >= n, "window at " + at + " of " + window.byteSize() + " bytes, asked " + n);
            MemorySegment.copy(window, ValueLayout.JAVA_BYTE, 0, out, at, n);
        }
        return out;
    }

    private static void assertReadsBack(Qcow2Builder builder, byte[] state, IntFunction<Kind> kinds) throws IOException {
        Qcow2Builder.Image image = builder.snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state).kinds(kinds)).build();
        try (ByteSource source = open(image, 0)) {
            assertEquals(state.length, source.size());
            byte[] want = image.expected(0, source.size());
            for (int step : new int[] {1 << 20, 4096, 1000, 7}) {
                assertArrayEquals(want, readAll(source, step), "read in windows of " + step);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 12, 16, 21})
    void contiguousClustersAreOneSliceOfTheFile(int clusterBits) throws IOException {
        byte[] state = random(3 * (1 << clusterBits) + 123, clusterBits);
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(clusterBits)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state)).build();
        try (ByteSource source = open(image, 0)) {
            MemorySegment window = source.window(0, state.length);
            assertEquals(state.length, window.byteSize(), "one window up to the end");
            // a slice of the image's own array: nothing copied
            assertSame(image.bytes, window.heapBase().orElseThrow());
            assertArrayEquals(state, window.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(state, readAll(source, 999));
        }
    }

    @Test
    void scatteredClustersAreAssembledInFreshSegments() throws IOException {
        byte[] state = random(5 * 4096 + 17, 1);
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state).kinds(c -> Kind.SCATTERED)).build();
        try (ByteSource source = open(image, 0)) {
            MemorySegment first = source.window(4000, 200); // across the boundary of clusters 0 and 1
            assertNotSame(image.bytes, first.heapBase().orElse(null));
            byte[] firstBytes = first.asSlice(0, 200).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(java.util.Arrays.copyOfRange(state, 4000, 4200), firstBytes);
            // within one cluster: still a slice
            assertSame(image.bytes, source.window(4096, 100).heapBase().orElseThrow());
            assertArrayEquals(state, readAll(source, 333));
            // the first window is still what it was: windows stay valid until close
            assertArrayEquals(firstBytes, first.asSlice(0, 200).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void compressedClustersDecompressIntoOneClusterEach(int compressionType) throws IOException {
        byte[] state = compressible(7 * 4096 + 100, compressionType);
        assertReadsBack(new Qcow2Builder().clusterBits(12).compressionType(compressionType), state, c -> Kind.COMPRESSED);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void everyKindOfClusterMixed(int compressionType) throws IOException {
        byte[] state = compressible(24 * 4096 + 5, 7);
        Kind[] kinds = {Kind.DATA, Kind.DATA, Kind.COMPRESSED, Kind.ZERO, Kind.SCATTERED, Kind.COMPRESSED,
                Kind.COMPRESSED, Kind.UNALLOCATED, Kind.ZERO_ALLOCATED, Kind.DATA};
        assertReadsBack(new Qcow2Builder().clusterBits(12).compressionType(compressionType), state,
                c -> kinds[c % kinds.length]);
    }

    @Test
    void version2ImagesWithoutExtraData() throws IOException {
        byte[] state = random(10_000, 3);
        Qcow2Builder.Image image = new Qcow2Builder().version(2).clusterBits(12).diskSize(3 << 20)
                .snapshot(new Qcow2Builder.Snapshot("1", "old").vmState(state).extraDataSize(0)).build();
        try (ByteSource source = open(image, 0)) {
            assertArrayEquals(state, readAll(source, 4096));
        }
    }

    @Test
    void extendedL2SubclustersReadAsAllocatedZeroOrUnallocated() throws IOException {
        byte[] state = random(9 * 16384 + 300, 4);
        Kind[] kinds = {Kind.DATA, Kind.SUBCLUSTERS, Kind.COMPRESSED, Kind.ZERO, Kind.ZERO_ALLOCATED, Kind.SUBCLUSTERS,
                Kind.UNALLOCATED, Kind.DATA, Kind.DATA, Kind.SUBCLUSTERS};
        for (int type : new int[] {0, 1}) {
            assertReadsBack(new Qcow2Builder().clusterBits(14).extendedL2().compressionType(type), state,
                    c -> kinds[c]);
        }
    }

    @Test
    void extendedL2AllocatedSubclustersOfContiguousClustersAreSlices() throws IOException {
        byte[] state = random(3 * 16384, 5);
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(14).extendedL2()
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state)).build();
        try (ByteSource source = open(image, 0)) {
            MemorySegment window = source.window(0, state.length);
            assertSame(image.bytes, window.heapBase().orElseThrow());
            assertArrayEquals(state, window.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void theAreaStartsAfterTheDiskTheSnapshotHad() throws IOException {
        // 64 KiB clusters map 512 MiB per L1 entry: a 700 MiB disk puts the area at entry 2
        byte[] state = random(70_000, 6);
        Qcow2Builder.Image image = new Qcow2Builder().diskSize(100L << 20)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state).diskSize(700L << 20)).build();
        // L1 entry 1, where the image's own 100 MiB disk would put it, maps nothing
        assertEquals(0, image.be64(image.l1Offsets.getFirst() + 8));
        try (ByteSource source = open(image, 0)) {
            assertArrayEquals(state, readAll(source, 8192));
        }
    }

    @Test
    void sizeIsTheVmStateUnlessClustersAreWrittenPastIt() throws IOException {
        byte[] state = random(5000, 8);
        byte[] pages = random(3 * 4096, 9);
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12)
                .snapshot(new Qcow2Builder.Snapshot("1", "plain").vmState(state))
                .snapshot(new Qcow2Builder.Snapshot("2", "mapped").vmState(state).beyond(40 * 4096 + 10, pages))
                .build();
        try (ByteSource plain = open(image, 0); ByteSource mapped = open(image, 1)) {
            assertEquals(5000, plain.size(), "the last cluster's zeros past vm_state_size are not part of it");
            // mapped-ram: read by offsets up to the end of the last cluster written
            assertEquals(44 * 4096, mapped.size());
            byte[] all = readAll(mapped, 4096);
            assertArrayEquals(image.expected(1, mapped.size()), all);
            assertEquals(0, all[20 * 4096], "clusters never written read as zeros");
        }
    }

    @Test
    void windowsPastTheEndAreEmptyAndTheLastOneEndsThere() throws IOException {
        byte[] state = random(10_000, 10);
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state).kinds(c -> Kind.SCATTERED)).build();
        try (ByteSource source = open(image, 0)) {
            assertEquals(0, source.window(10_000, 10).byteSize());
            assertEquals(0, source.window(1 << 30, 10).byteSize());
            assertEquals(100, source.window(9_900, 4096).byteSize());
            assertEquals("VM-state area", source.kind());
            assertEquals("test.qcow2", source.name());
            assertTrue(source.isRandomAccess());
        }
    }

    @Test
    void twoReadersInterleaved() throws IOException {
        byte[] state = compressible(20 * 4096, 11);
        Kind[] kinds = {Kind.COMPRESSED, Kind.SCATTERED, Kind.DATA};
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(state).kinds(c -> kinds[c % 3])).build();
        try (ByteSource source = open(image, 0)) {
            Random random = new Random(12);
            MemorySegment[] kept = new MemorySegment[50];
            int[] at = new int[50];
            for (int i = 0; i < kept.length; i++) {
                at[i] = random.nextInt(state.length - 5000);
                kept[i] = source.window(at[i], 5000);
            }
            for (int i = 0; i < kept.length; i++) {
                assertArrayEquals(java.util.Arrays.copyOfRange(state, at[i], at[i] + 5000),
                        kept[i].asSlice(0, 5000).toArray(ValueLayout.JAVA_BYTE), "window " + i);
            }
        }
    }
}
