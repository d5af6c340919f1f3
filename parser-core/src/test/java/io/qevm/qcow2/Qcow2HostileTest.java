package io.qevm.qcow2;

import static io.qevm.qcow2.Qcow2ImageTest.put32;
import static io.qevm.qcow2.Qcow2ImageTest.put64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.CleanFailure;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.io.ByteSource;
import io.qevm.qcow2.Qcow2Builder.Kind;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Arrays;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * Hostile images fail as hostile streams do: one {@link MigrationReadException} whose offset is
 * the byte of the file that is wrong, before anything is allocated from a size it gives; never a
 * hang, never memory out of proportion.
 */
final class Qcow2HostileTest {

    private static final int CLUSTER = 4096;

    /** A snapshot of 10 clusters of data, its tables where the test can break them. */
    private static Qcow2Builder.Image image(Kind kind) {
        return new Qcow2Builder().clusterBits(12)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(VmStateSourceTest.compressible(10 * CLUSTER, 1))
                        .kinds(c -> kind))
                .build();
    }

    /** Opens snapshot 1's area and reads all of it; returns the failure. */
    private static MigrationReadException fails(byte[] bytes) {
        return assertThrows(MigrationReadException.class, () -> {
            Qcow2Image qcow2 = Qcow2Image.open(ByteSource.of(bytes, "t.qcow2"));
            try (ByteSource area = qcow2.vmState(qcow2.choose(null))) {
                VmStateSourceTest.readAll(area, 1000);
            }
        });
    }

    private static void assertFailure(MigrationReadException e, Class<?> type, long offset, String text) {
        assertEquals(type, e.getClass(), e.getMessage());
        assertEquals(offset, e.eventOffset(), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }

    @Test
    void snapshotL1TablesOutsideTheFileOrIntoTheHeader() {
        Qcow2Builder.Image image = image(Kind.DATA);
        long entry = image.entryOffsets.getFirst();
        byte[] bytes = image.bytes.clone();
        put64(bytes, entry, image.l1Offsets.getFirst() + 8);
        assertFailure(fails(bytes), MalformedStreamException.class, entry, "L1 table of snapshot 1 's' at a cluster boundary");
        put64(bytes, entry, 0);
        assertFailure(fails(bytes), MalformedStreamException.class, entry, "past the image header's cluster");
        put64(bytes, entry, 1L << 40);
        assertFailure(fails(bytes), TruncatedInputException.class, entry, "inside the file");
        bytes = image.bytes.clone();
        put32(bytes, entry + 8, 0xffff_ffffL);
        assertFailure(fails(bytes), LimitExceededException.class, entry + 8, "at most 4194304 entries");
        put32(bytes, entry + 8, 4_000_000); // within QEMU's limit, not within the file
        assertFailure(fails(bytes), TruncatedInputException.class, entry, "inside the file");
        put32(bytes, entry + 8, 1); // the disk takes entry 0: no entry for the VM state
        assertFailure(fails(bytes), MalformedStreamException.class, entry + 8, "none for its VM-state area");
    }

    @Test
    void absurdSizesOfTheVmStateAndTheDisk() {
        Qcow2Builder.Image image = image(Kind.DATA);
        long entry = image.entryOffsets.getFirst();
        byte[] bytes = image.bytes.clone();
        put64(bytes, entry + 40, -1); // vm_state_size_large 2^64-1
        assertFailure(fails(bytes), MalformedStreamException.class, entry + 40, "larger than what its L1 table maps");
        bytes = image.bytes.clone();
        put64(bytes, entry + 48, -1); // disk_size 2^64-1
        assertFailure(fails(bytes), MalformedStreamException.class, entry + 48, "past what qcow2 maps");
        bytes = image.bytes.clone();
        put64(bytes, entry + 48, 1L << 50);
        assertFailure(fails(bytes), MalformedStreamException.class, entry + 8, "none for its VM-state area");
    }

    @Test
    void l2TablesOutsideTheFileOrIntoTheHeader() {
        Qcow2Builder.Image image = image(Kind.DATA);
        long l1Entry = image.l1Offsets.getFirst() + 8; // the 1 MiB disk takes entry 0 of 512-entry tables
        long table = image.be64(l1Entry);
        // (an L2 offset of 0, the header's cluster, means no table: it cannot point into the header)
        for (long bad : new long[] {table + 512, 1L << 63 | 0x200, 1L << 63 | 0xfff}) {
            byte[] bytes = image.bytes.clone();
            put64(bytes, l1Entry, bad);
            MigrationReadException e = fails(bytes);
            assertEquals(l1Entry, e.eventOffset(), e.getMessage());
            assertTrue(e.getMessage().contains("L2 table"), e.getMessage());
        }
        byte[] bytes = image.bytes.clone();
        put64(bytes, l1Entry, bytes.length - 100L & -512L);
        assertFailure(fails(bytes), MalformedStreamException.class, l1Entry, "at a cluster boundary");
        put64(bytes, l1Entry, (long) bytes.length + CLUSTER & -CLUSTER);
        assertFailure(fails(bytes), TruncatedInputException.class, l1Entry, "inside the file");
    }

    @Test
    void dataClustersUnalignedOrPastTheEnd() {
        Qcow2Builder.Image image = image(Kind.DATA);
        long l2Entry = image.l2Entries.getFirst()[3];
        long cluster = image.be64(l2Entry) & Qcow2Image.OFFSET_MASK;
        byte[] bytes = image.bytes.clone();
        put64(bytes, l2Entry, cluster + 512);
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "data cluster for VM-state offset 12288");
        put64(bytes, l2Entry, 1L << 63 | 0x200); // (offset 0 is an unallocated cluster: never the header's)
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "found offset 0x200");
        put64(bytes, l2Entry, 1L << 40);
        assertFailure(fails(bytes), TruncatedInputException.class, l2Entry, "found the end of the file");
    }

    @Test
    void compressedClusterDescriptorsOutOfRangeOrBroken() {
        Qcow2Builder.Image image = image(Kind.COMPRESSED);
        long l2Entry = image.l2Entries.getFirst()[2];
        long entry = image.be64(l2Entry);
        byte[] bytes = image.bytes.clone();
        put64(bytes, l2Entry, (entry & ~((1L << 54) - 1)) | 100); // into the header
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "past its header cluster");
        put64(bytes, l2Entry, (entry & ~((1L << 54) - 1)) | (1L << 40)); // past the end
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "compressed cluster data inside the file");
        bytes = image.bytes.clone();
        long data = entry & ((1L << 54) - 1);
        Arrays.fill(bytes, (int) data, (int) data + 16, (byte) 0xff);
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "found invalid deflate data");
        bytes = image.bytes.clone();
        put64(bytes, l2Entry, entry & ~(((1L << 4) - 1) << 58)); // one sector of data: too short
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "expected deflate data decompressing");
    }

    @Test
    void brokenZstdClusters() {
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12).compressionType(1)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(VmStateSourceTest.compressible(4 * CLUSTER, 2))
                        .kinds(c -> Kind.COMPRESSED))
                .build();
        long l2Entry = image.l2Entries.getFirst()[1];
        long data = image.be64(l2Entry) & ((1L << 54) - 1);
        byte[] bytes = image.bytes.clone();
        bytes[(int) data] ^= 1; // not a frame's magic
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry, "no zstd frame");
        bytes = image.bytes.clone();
        Arrays.fill(bytes, (int) data + 10, (int) data + 60, (byte) 0x5a);
        MigrationReadException e = fails(bytes);
        assertEquals(l2Entry, e.eventOffset(), e.getMessage());
        assertTrue(e.getMessage().contains("zstd"), e.getMessage());
    }

    @Test
    void decompressionBombsGiveOneClusterAndNoMore() throws IOException {
        // 64 MiB of zeros, deflated to ~64 KiB: a cluster's descriptor holds at most 2 clusters of
        // data; what decompresses past the cluster is never made (QEMU reads the first cluster)
        Qcow2Builder.Image image = image(Kind.COMPRESSED);
        long l2Entry = image.l2Entries.getFirst()[0];
        byte[] bomb = deflate(new byte[64 << 20]);
        byte[] bytes = Arrays.copyOf(image.bytes, image.bytes.length + CLUSTER + bomb.length);
        long at = (long) image.bytes.length + CLUSTER & -CLUSTER;
        System.arraycopy(bomb, 0, bytes, (int) at, Math.min(bomb.length, 2 * CLUSTER));
        long sectors = 2L * CLUSTER / 512 - 1;
        put64(bytes, l2Entry, (1L << 62) | (sectors << (62 - 4)) | at);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            Qcow2Image qcow2 = Qcow2Image.open(ByteSource.of(bytes, "bomb.qcow2"));
            try (ByteSource area = qcow2.vmState(qcow2.choose(null))) {
                byte[] first = area.window(0, CLUSTER).asSlice(0, CLUSTER).toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(new byte[CLUSTER], first);
            }
        });
    }

    @Test
    void zstdFramesThatMakeMoreThanAClusterFail() {
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12).compressionType(1)
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(VmStateSourceTest.compressible(2 * CLUSTER, 2))
                        .kinds(c -> Kind.COMPRESSED))
                .build();
        long l2Entry = image.l2Entries.getFirst()[0];
        byte[] frame = com.github.luben.zstd.Zstd.compress(new byte[16 << 20], 3);
        int n = frame.length;
        assertTrue(n < 2 * CLUSTER, "16 MiB of zeros in " + n + " bytes");
        byte[] bytes = Arrays.copyOf(image.bytes, image.bytes.length + 3 * CLUSTER);
        long at = (long) image.bytes.length + CLUSTER & -CLUSTER;
        System.arraycopy(frame, 0, bytes, (int) at, n);
        put64(bytes, l2Entry, (1L << 62) | (((n - 1L) >>> 9) << (62 - 4)) | at);
        MigrationReadException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> fails(bytes));
        assertEquals(l2Entry, e.eventOffset(), e.getMessage());
    }

    @Test
    void invalidSubclusterBitmaps() {
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(14).extendedL2()
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(VmStateSourceTest.random(4 * 16384, 3))
                        .kinds(c -> Kind.SUBCLUSTERS))
                .build();
        long l2Entry = image.l2Entries.getFirst()[2];
        byte[] bytes = image.bytes.clone();
        put64(bytes, l2Entry + 8, 0x0000_0001_0000_0001L); // allocated and zero
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry + 8, "do not overlap");
        put64(bytes, l2Entry, 0);
        put64(bytes, l2Entry + 8, 0x1L); // allocated without a cluster
        assertFailure(fails(bytes), MalformedStreamException.class, l2Entry + 8, "no allocated bit for an unallocated");
    }

    @Test
    void tablesThatPointAtEachOtherDoNotLoop() {
        // every entry of a 4M-entry L1 table (the largest QEMU allows) points at one L2 table of
        // zeros, and the VM state claims it all: the extent scan reads that table once
        Qcow2Builder.Image image = image(Kind.DATA);
        long entry = image.entryOffsets.getFirst();
        long l1 = image.l1Offsets.getFirst();
        int l1Entries = 1 << 22;
        long emptyTable = (long) image.bytes.length + CLUSTER & -CLUSTER;
        long newL1 = emptyTable + CLUSTER;
        byte[] bytes = Arrays.copyOf(image.bytes, (int) (newL1 + 8L * l1Entries));
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
        for (int i = 2; i < l1Entries; i++) {
            buffer.putLong((int) (newL1 + 8L * i), emptyTable);
        }
        buffer.putLong((int) newL1, image.be64(l1));
        buffer.putLong((int) newL1 + 8, image.be64(l1 + 8)); // the area's own first table, with its data
        put64(bytes, entry, newL1);
        put32(bytes, entry + 8, l1Entries);
        put64(bytes, entry + 40, 1L << 40);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            Qcow2Image qcow2 = Qcow2Image.open(ByteSource.of(bytes, "loop.qcow2"));
            try (ByteSource area = qcow2.vmState(qcow2.choose(null))) {
                assertEquals(1L << 40, area.size());
                assertEquals(0, area.window((1L << 40) - 10, 10).get(ValueLayout.JAVA_BYTE, 5));
                area.release(0, 1L << 40); // a cursor that jumped there: not 2^28 L2 lookups
            }
        });
        // L2 entries that all point at one data cluster: the same bytes again and again
        Qcow2Builder.Image same = image(Kind.DATA);
        long[] entries = same.l2Entries.getFirst();
        byte[] repeated = same.bytes.clone();
        for (long l2Entry : entries) {
            put64(repeated, l2Entry, same.be64(entries[0]));
        }
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            Qcow2Image qcow2 = Qcow2Image.open(ByteSource.of(repeated, "same.qcow2"));
            try (ByteSource area = qcow2.vmState(qcow2.choose(null))) {
                byte[] all = VmStateSourceTest.readAll(area, 5000);
                assertArrayEquals(Arrays.copyOf(same.expected(0, CLUSTER), CLUSTER), Arrays.copyOfRange(all, 9 * CLUSTER,
                        10 * CLUSTER));
            }
        });
    }

    @Test
    void imagesCutShortAtManyOffsetsFailCleanly() {
        // a real stream in a mixed layout, the snapshot table first: a cut lands in the L1 table,
        // an L2 table, data, or compressed data
        byte[] stream = CleanFailure.sample("a-pc-paused");
        Kind[] kinds = {Kind.DATA, Kind.COMPRESSED, Kind.SCATTERED, Kind.DATA, Kind.COMPRESSED, Kind.COMPRESSED};
        Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12).tableFirst()
                .snapshot(new Qcow2Builder.Snapshot("1", "s").vmState(stream).kinds(c -> kinds[c % kinds.length]))
                .build();
        assertEquals(null, CleanFailure.readAll(image.bytes), "the whole image reads");
        int failures = 0;
        int cuts = 0;
        for (int cut = 0; cut < image.bytes.length; cut += cut < 3 * CLUSTER ? 37 : 1511) {
            byte[] bytes = Arrays.copyOf(image.bytes, cut);
            MigrationReadException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> CleanFailure.readAll(bytes));
            cuts++;
            if (e != null) {
                failures++;
                CleanFailure.assertWellFormed(e, Math.max(bytes.length, stream.length));
            }
        }
        assertTrue(failures > cuts * 9 / 10, failures + " of " + cuts + " cuts failed");
    }

    private static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(data);
        deflater.finish();
        byte[] out = new byte[data.length / 100 + 1024];
        int n = deflater.deflate(out);
        deflater.end();
        return Arrays.copyOf(out, n);
    }
}
