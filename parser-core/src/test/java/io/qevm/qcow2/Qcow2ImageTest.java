package io.qevm.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Snapshot;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.io.ByteSource;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The header and the snapshot table: what is read, what QEMU refuses, which snapshot is chosen. */
final class Qcow2ImageTest {

    private static Qcow2Image open(byte[] bytes) throws IOException {
        return Qcow2Image.open(ByteSource.of(bytes, "test.qcow2"));
    }

    private static Qcow2Builder.Snapshot snapshot(String id, String name) {
        return new Qcow2Builder.Snapshot(id, name).vmState(VmStateSourceTest.random(1000, id.hashCode()));
    }

    private static <T extends MigrationReadException> T fails(Class<T> type, byte[] bytes, long offset, String text) {
        T e = assertThrows(type, () -> open(bytes).choose(null));
        assertEquals(offset, e.eventOffset(), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
        return e;
    }

    @Test
    void magic() {
        assertTrue(Qcow2Image.isQcow2(MemorySegment.ofArray("QFI\u00fbrest".getBytes(StandardCharsets.ISO_8859_1))));
        assertFalse(Qcow2Image.isQcow2(MemorySegment.ofArray("QEVM".getBytes(StandardCharsets.ISO_8859_1))));
        assertFalse(Qcow2Image.isQcow2(MemorySegment.ofArray(new byte[] {'Q', 'F', 'I'})));
    }

    @Test
    void snapshotTableAsWritten() throws IOException {
        Qcow2Builder.Image image = new Qcow2Builder().diskSize(5 << 20)
                .snapshot(snapshot("1", "boot").date(1_796_028_903L, 684_772_000L).vmClock(0))
                .snapshot(snapshot("2", "later").date(1_796_028_906L, 33_879_000L).vmClock(1_962_791_203L).icount(12345))
                .snapshot(new Qcow2Builder.Snapshot("7", "disk only").date(1_796_028_910L, 0))
                .build();
        List<SnapshotEntry> entries = open(image.bytes).snapshots();
        assertEquals(3, entries.size());
        Snapshot later = entries.get(1).snapshot();
        assertEquals(new Snapshot("2", "later", Instant.ofEpochSecond(1_796_028_906L, 33_879_000L),
                Duration.ofNanos(1_962_791_203L), 1000, 5 << 20, 12345), later);
        assertEquals(-1, entries.get(0).icount());
        assertFalse(entries.get(2).hasVmState());
        assertEquals(image.entryOffsets, entries.stream().map(SnapshotEntry::entryOffset).toList());
        assertEquals(image.l1Offsets.get(1), entries.get(1).l1TableOffset());
    }

    @Test
    void extraDataOfEverySize() throws IOException {
        // no extra data: the 32-bit size, the image's disk size, no icount; 8 bytes: the 64-bit
        // size; 16: and the disk size; 24: and icount; more: unknown fields, skipped
        long big = 5_000_000_000L;
        Qcow2Builder.Image image = new Qcow2Builder().diskSize(3 << 20)
                .snapshot(snapshot("a", "0").extraDataSize(0).diskSize(9 << 20))
                .snapshot(snapshot("b", "8").extraDataSize(8).vmStateSize(big))
                .snapshot(snapshot("c", "16").extraDataSize(16).diskSize(9 << 20))
                .snapshot(snapshot("d", "24").extraDataSize(24).icount(77))
                .snapshot(snapshot("e", "1000").extraDataSize(1000).icount(78))
                .build();
        List<SnapshotEntry> s = open(image.bytes).snapshots();
        assertEquals(List.of(1000L, big, 1000L, 1000L, 1000L), s.stream().map(SnapshotEntry::vmStateSize).toList());
        assertEquals(List.of(3L << 20, 3L << 20, 9L << 20, 3L << 20, 3L << 20),
                s.stream().map(SnapshotEntry::diskSize).toList());
        assertEquals(List.of(-1L, -1L, -1L, 77L, 78L), s.stream().map(SnapshotEntry::icount).toList());
        assertEquals(List.of("0", "8", "16", "24", "1000"), s.stream().map(SnapshotEntry::name).toList());
    }

    @Test
    void namesEndAtANulAsQemuComparesThem() throws IOException {
        Qcow2Builder.Image image = new Qcow2Builder().snapshot(snapshot("1\0x", "na\0me")).build();
        SnapshotEntry entry = open(image.bytes).snapshots().getFirst();
        assertEquals("1", entry.id());
        assertEquals("na", entry.name());
    }

    @Test
    void chosenByIdThenByNameAsQemuFindsThem() throws IOException {
        Qcow2Builder.Image image = new Qcow2Builder()
                .snapshot(snapshot("1", "2"))
                .snapshot(snapshot("2", "x"))
                .snapshot(snapshot("3", "x"))
                .build();
        Qcow2Image qcow2 = open(image.bytes);
        assertEquals(1, qcow2.choose("2").index(), "an ID before a name");
        assertEquals(1, qcow2.choose("x").index(), "the first of two names");
        assertEquals(2, qcow2.choose("3").index());
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> qcow2.choose("nope"));
        assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains("1 '2', 2 'x', 3 'x'"), e.getMessage());
        assertEquals(image.snapshotTableOffset, e.eventOffset());
    }

    @Test
    void theDefaultIsTheNewestWithVmStateTheLastAmongEqualDates() throws IOException {
        Qcow2Builder.Image image = new Qcow2Builder()
                .snapshot(snapshot("1", "a").date(100, 5))
                .snapshot(snapshot("2", "b").date(300, 1))
                .snapshot(snapshot("3", "c").date(200, 0))
                .snapshot(snapshot("4", "d").date(300, 1))
                .snapshot(new Qcow2Builder.Snapshot("5", "disk").date(400, 0))
                .build();
        assertEquals("4", open(image.bytes).choose(null).id());
        Qcow2Builder.Image nanos = new Qcow2Builder()
                .snapshot(snapshot("1", "a").date(300, 2))
                .snapshot(snapshot("2", "b").date(300, 1))
                .build();
        assertEquals("1", open(nanos.bytes).choose(null).id());
    }

    @Test
    void noSnapshotsNoVmStateDiskOnly() throws IOException {
        fails(MalformedStreamException.class, new Qcow2Builder().build().bytes, 60, "without internal snapshots");
        Qcow2Builder.Image diskOnly = new Qcow2Builder().snapshot(new Qcow2Builder.Snapshot("1", "d"))
                .snapshot(new Qcow2Builder.Snapshot("2", "e")).build();
        fails(MalformedStreamException.class, diskOnly.bytes, diskOnly.snapshotTableOffset,
                "none of the 2 internal snapshots");
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> open(diskOnly.bytes).choose("e"));
        assertTrue(e.getMessage().contains("snapshot 2 'e' is a disk-only snapshot"), e.getMessage());
        assertEquals(diskOnly.entryOffsets.get(1) + 32, e.eventOffset());
        assertEquals(2, open(diskOnly.bytes).snapshots().size(), "listed all the same");
    }

    @Test
    void encryptedAndExternalDataFileImagesListButDoNotRead() throws IOException {
        byte[] encrypted = new Qcow2Builder().cryptMethod(2).snapshot(snapshot("1", "a")).build().bytes;
        assertEquals(1, open(encrypted).snapshots().size());
        fails(MalformedStreamException.class, encrypted, 32, "encrypted qcow2 image (LUKS)");
        byte[] dataFile = new Qcow2Builder().incompatible(1 << 2).snapshot(snapshot("1", "a")).build().bytes;
        fails(MalformedStreamException.class, dataFile, 72, "external data file");
    }

    @Test
    void dirtyAndCorruptBitsAreRead() throws IOException {
        byte[] image = new Qcow2Builder().incompatible(0b11).snapshot(snapshot("1", "a")).build().bytes;
        assertEquals("1", open(image).choose(null).id());
    }

    @Test
    void headersQemuRefuses() {
        Qcow2Builder.Image image = new Qcow2Builder().snapshot(snapshot("1", "a")).build();
        byte[] bytes = image.bytes.clone();
        bytes[7] = 4;
        fails(MalformedStreamException.class, bytes, 4, "expected qcow2 version 2 or 3, found 4");
        for (int bits : new int[] {8, 22, 64}) {
            bytes = image.bytes.clone();
            bytes[23] = (byte) bits;
            fails(MalformedStreamException.class, bytes, 20, "cluster_bits from 9 to 21");
        }
        bytes = image.bytes.clone();
        bytes[79] |= 1 << 5;
        fails(MalformedStreamException.class, bytes, 72, "incompatible features unknown to qevm (bits 0x20)");
        bytes = image.bytes.clone();
        bytes[103] = 96;
        fails(MalformedStreamException.class, bytes, 100, "header_length from 104");
        bytes = image.bytes.clone();
        bytes[104] = 1; // zstd without the feature bit
        fails(MalformedStreamException.class, bytes, 72, "without the compression type incompatible feature bit");
        bytes[79] |= 1 << 3;
        bytes[104] = 2;
        fails(MalformedStreamException.class, bytes, 104, "compression_type 0 (zlib) or 1 (zstd), found 2");
        byte[] smallExtended = new Qcow2Builder().clusterBits(13).extendedL2().build().bytes;
        fails(MalformedStreamException.class, smallExtended, 20, "extended L2 entries need clusters of at least 16384");
        bytes = image.bytes.clone();
        bytes[0] = 'X';
        fails(MalformedStreamException.class, bytes, 0, "expected the qcow2 magic");
    }

    @Test
    void truncatedHeaders() {
        byte[] image = new Qcow2Builder().snapshot(snapshot("1", "a")).build().bytes;
        fails(TruncatedInputException.class, new byte[0], 0, "empty file");
        fails(TruncatedInputException.class, java.util.Arrays.copyOf(image, 3), 0, "qcow2 magic");
        fails(TruncatedInputException.class, java.util.Arrays.copyOf(image, 71), 0, "72 bytes of qcow2 header");
        fails(TruncatedInputException.class, java.util.Arrays.copyOf(image, 100), 0, "104 bytes of qcow2 version 3 header");
    }

    @Test
    void absurdSnapshotTables() {
        Qcow2Builder.Image image = new Qcow2Builder().snapshot(snapshot("1", "a")).snapshot(snapshot("2", "b")).build();
        byte[] bytes = image.bytes.clone();
        put32(bytes, 60, 0xffff_ffffL);
        fails(LimitExceededException.class, bytes, 60, "at most 65536 internal snapshots");
        bytes = image.bytes.clone();
        put32(bytes, 60, 65536); // allowed, but the table would run past the end of the file
        fails(TruncatedInputException.class, bytes, 64, "inside the file");
        long entry = image.entryOffsets.get(1);
        bytes = image.bytes.clone();
        put32(bytes, entry + 36, 0xffff_ffffL);
        fails(LimitExceededException.class, bytes, entry + 36, "at most 1024 bytes of extra data");
        bytes = image.bytes.clone();
        bytes[(int) entry + 12] = (byte) 0xff; // an ID of 65280+ bytes, past the end
        fails(TruncatedInputException.class, bytes, entry + 40, "snapshot table entry 1");
        bytes = image.bytes.clone();
        put64(bytes, 64, image.snapshotTableOffset + 8);
        fails(MalformedStreamException.class, bytes, 64, "snapshot table at a cluster boundary");
        bytes = image.bytes.clone();
        put64(bytes, 64, 0);
        fails(MalformedStreamException.class, bytes, 64, "past the image header's cluster");
        bytes = image.bytes.clone();
        put64(bytes, 64, -image.clusterSize);
        fails(TruncatedInputException.class, bytes, 64, "inside the file");
    }

    @Test
    void aTableOfMaximalEntriesStopsAtQemusLimit() {
        // 1100 entries of 1024 bytes of extra data and IDs and names of 65535 bytes would need
        // 140 MiB of table; the file holds less: past its end, long before any allocation
        Qcow2Builder.Image image = new Qcow2Builder().snapshot(snapshot("1", "a")).build();
        byte[] bytes = java.util.Arrays.copyOf(image.bytes, (int) image.snapshotTableOffset + (70 << 20));
        long at = image.snapshotTableOffset;
        put32(bytes, 60, 1100);
        for (int i = 0; i < 1100; i++) {
            at = (at + 7) & ~7L;
            put32(bytes, at + 36, 1024);
            bytes[(int) at + 12] = (byte) 0xff;
            bytes[(int) at + 13] = (byte) 0xff;
            bytes[(int) at + 14] = (byte) 0xff;
            bytes[(int) at + 15] = (byte) 0xff;
            at += 40 + 1024 + 2 * 65535L;
            if (at + 40 + 1024 + 2 * 65535 > bytes.length) {
                break;
            }
        }
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> open(bytes));
        assertTrue(e.getMessage().contains("past 67108864 bytes of table"), e.getMessage());
    }

    static void put32(byte[] bytes, long at, long value) {
        java.nio.ByteBuffer.wrap(bytes).putInt((int) at, (int) value);
    }

    static void put64(byte[] bytes, long at, long value) {
        java.nio.ByteBuffer.wrap(bytes).putLong((int) at, value);
    }
}
