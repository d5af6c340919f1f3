package io.qevm.qcow2;

import com.github.luben.zstd.Zstd;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import java.util.zip.Deflater;

/**
 * Builds a qcow2 image in a byte array, cluster by cluster, as QEMU lays one out
 * (docs/interop/qcow2.txt): the header in cluster 0, then for each snapshot its L1 table, its L2
 * tables and the clusters of its VM-state area, then the snapshot table. Refcounts are not
 * written (a reader of snapshots never needs them). Each cluster of a VM-state area is written as
 * its {@link Kind} says; {@link Image#expected} is what reading the area must give back. The
 * offsets of the parts are kept ({@link Image}) for tests that break them.
 *
 * <pre>{@code
 * Qcow2Builder.Image image = new Qcow2Builder().clusterBits(12)
 *         .snapshot(new Qcow2Builder.Snapshot("1", "boot").vmState(bytes).kinds(c -> Kind.COMPRESSED))
 *         .build();
 * }</pre>
 */
public final class Qcow2Builder {

    /** How a cluster of a VM-state area is written. */
    public enum Kind {
        /** A standard cluster, appended to the file: consecutive ones are contiguous. */
        DATA,
        /** A standard cluster after an unused one: never contiguous with the cluster before it. */
        SCATTERED,
        /** Compressed with the image's compression type, packed byte by byte as QEMU packs them. */
        COMPRESSED,
        /** A zero cluster without a host cluster: the zero flag (bit 0), or all zero bits with extended L2. */
        ZERO,
        /** A zero cluster that keeps a host cluster full of garbage (reads as zeros all the same). */
        ZERO_ALLOCATED,
        /** No L2 entry: reads as zeros. */
        UNALLOCATED,
        /**
         * Extended L2: subclusters allocated, zero or unallocated by turns (see
         * {@link Snapshot#subclusters}); the allocated ones hold data, the others read as zeros.
         */
        SUBCLUSTERS
    }

    /** One snapshot table entry and its VM-state area. */
    public static final class Snapshot {
        final String id;
        final String name;
        long dateSec = 1_796_028_903L;
        long dateNsec = 684_772_000L;
        long vmClockNsec;
        long icount = -1;
        int extraDataSize = 24;
        byte[] vmState = new byte[0];
        Long vmStateSize;
        Long diskSize;
        /** Bytes of the area past the VM state that are written (a mapped-ram state's RAM). */
        byte[] beyond = new byte[0];
        long beyondAt;
        IntFunction<Kind> kinds = c -> Kind.DATA;
        long subclusterAllocated = 0x5555_5555L;
        long subclusterZero = 0x2222_2222L;
        byte[] extraTail = new byte[0];

        public Snapshot(String id, String name) {
            this.id = id;
            this.name = name;
        }

        /** The VM state: its bytes, and vm_state_size (unless set apart). */
        public Snapshot vmState(byte[] bytes) {
            this.vmState = bytes.clone();
            return this;
        }

        /** vm_state_size as written, whatever the bytes (0: disk-only). */
        public Snapshot vmStateSize(long size) {
            this.vmStateSize = size;
            return this;
        }

        /** Bytes written at area offset {@code at} (past the VM state), as mapped-ram writes its pages. */
        public Snapshot beyond(long at, byte[] bytes) {
            this.beyondAt = at;
            this.beyond = bytes.clone();
            return this;
        }

        public Snapshot date(long seconds, long nanos) {
            this.dateSec = seconds;
            this.dateNsec = nanos;
            return this;
        }

        public Snapshot vmClock(long nanos) {
            this.vmClockNsec = nanos;
            return this;
        }

        public Snapshot icount(long icount) {
            this.icount = icount;
            return this;
        }

        /** Bytes of extra data: 0 (QEMU before 1.x), 8, 16, 24 (today), more (unknown fields after). */
        public Snapshot extraDataSize(int size) {
            this.extraDataSize = size;
            return this;
        }

        /** The disk size in the extra data (default: the image's). */
        public Snapshot diskSize(long size) {
            this.diskSize = size;
            return this;
        }

        /** How each cluster of the area is written, by its index. */
        public Snapshot kinds(IntFunction<Kind> kinds) {
            this.kinds = kinds;
            return this;
        }

        /** The subcluster bitmap halves of {@link Kind#SUBCLUSTERS} clusters. */
        public Snapshot subclusters(long allocated, long zero) {
            this.subclusterAllocated = allocated;
            this.subclusterZero = zero;
            return this;
        }
    }

    /** A built image: its bytes, and where its parts are. */
    public static final class Image {
        public byte[] bytes;
        public final List<Long> entryOffsets = new ArrayList<>();
        public final List<Long> l1Offsets = new ArrayList<>();
        /** Per snapshot, the L2 tables of its VM-state area, in guest order. */
        public final List<List<Long>> l2Offsets = new ArrayList<>();
        /** Per snapshot, the file offset of the L2 entry of each area cluster (-1: none written). */
        public final List<long[]> l2Entries = new ArrayList<>();
        public final List<byte[]> expected = new ArrayList<>();
        public long snapshotTableOffset;
        public int clusterSize;

        /**
         * What reading snapshot {@code index}'s VM-state area must give: its first {@code size}
         * bytes (the reader's size: the VM state's, or the end of the last cluster written).
         */
        public byte[] expected(int index, long size) {
            return Arrays.copyOf(expected.get(index), (int) size);
        }

        public void putBe64(long offset, long value) {
            ByteBuffer.wrap(bytes).putLong((int) offset, value);
        }

        public void putBe32(long offset, long value) {
            ByteBuffer.wrap(bytes).putInt((int) offset, (int) value);
        }

        public long be64(long offset) {
            return ByteBuffer.wrap(bytes).getLong((int) offset);
        }
    }

    private int version = 3;
    private int clusterBits = 16;
    private boolean extendedL2;
    private int compressionType;
    private long diskSize = 1 << 20;
    private long cryptMethod;
    private long moreIncompatible;
    private boolean tableFirst;
    private final List<Snapshot> snapshots = new ArrayList<>();

    /**
     * The snapshot table right after the header, before the snapshots' tables and clusters
     * (QEMU puts it wherever it finds room): an image cut short then still has its table.
     */
    public Qcow2Builder tableFirst() {
        this.tableFirst = true;
        return this;
    }

    public Qcow2Builder version(int version) {
        this.version = version;
        return this;
    }

    public Qcow2Builder clusterBits(int bits) {
        this.clusterBits = bits;
        return this;
    }

    public Qcow2Builder extendedL2() {
        this.extendedL2 = true;
        return this;
    }

    /** 0 zlib (deflate), 1 zstd. */
    public Qcow2Builder compressionType(int type) {
        this.compressionType = type;
        return this;
    }

    public Qcow2Builder diskSize(long size) {
        this.diskSize = size;
        return this;
    }

    public Qcow2Builder cryptMethod(long method) {
        this.cryptMethod = method;
        return this;
    }

    /** Incompatible feature bits set besides those the builder sets itself. */
    public Qcow2Builder incompatible(long bits) {
        this.moreIncompatible = bits;
        return this;
    }

    public Qcow2Builder snapshot(Snapshot snapshot) {
        snapshots.add(snapshot);
        return this;
    }

    // ------------------------------------------------------------------ building

    private int clusterSize;
    private int entryBytes;
    private int l2Bits;
    private final Growing file = new Growing();

    public Image build() {
        clusterSize = 1 << clusterBits;
        entryBytes = extendedL2 ? 16 : 8;
        l2Bits = clusterBits - (extendedL2 ? 4 : 3);
        Image image = new Image();
        image.clusterSize = clusterSize;
        file.position = clusterSize; // cluster 0: the header, written last
        if (tableFirst) {
            long tableBytes = 0;
            for (Snapshot snapshot : snapshots) {
                tableBytes = roundUp(tableBytes, 8) + 40 + snapshot.extraDataSize
                        + snapshot.id.getBytes(StandardCharsets.UTF_8).length + snapshot.name.getBytes(StandardCharsets.UTF_8).length;
            }
            file.ensure(clusterSize + roundUp(Math.max(tableBytes, 1), clusterSize));
        }
        for (Snapshot snapshot : snapshots) {
            writeArea(snapshot, image);
        }
        long end = file.position;
        file.align(clusterSize);
        if (tableFirst) {
            file.position = clusterSize;
        }
        image.snapshotTableOffset = file.position;
        for (int i = 0; i < snapshots.size(); i++) {
            file.align(8);
            image.entryOffsets.add(file.position);
            writeEntry(snapshots.get(i), image.l1Offsets.get(i));
        }
        writeHeader(image.snapshotTableOffset, image.l1Offsets.isEmpty() ? 0 : image.l1Offsets.getFirst());
        if (tableFirst) {
            file.position = end;
        }
        image.bytes = file.toByteArray();
        return image;
    }

    private long diskSizeOf(Snapshot snapshot) {
        return snapshot.diskSize != null ? snapshot.diskSize : diskSize;
    }

    /** The L1 table, the L2 tables and the clusters of one snapshot's area. */
    private void writeArea(Snapshot snapshot, Image image) {
        int shift = clusterBits + l2Bits;
        long index = (diskSizeOf(snapshot) + (1L << shift) - 1) >>> shift;
        byte[] content = new byte[(int) Math.max(snapshot.vmState.length, snapshot.beyondAt + snapshot.beyond.length)];
        System.arraycopy(snapshot.vmState, 0, content, 0, snapshot.vmState.length);
        System.arraycopy(snapshot.beyond, 0, content, (int) snapshot.beyondAt, snapshot.beyond.length);
        int clusters = (content.length + clusterSize - 1) / clusterSize;
        boolean[] written = new boolean[clusters];
        for (int c = 0; c < clusters; c++) {
            // the clusters of a mapped-ram area between the state and its pages are never written
            long from = (long) c * clusterSize;
            long to = from + clusterSize;
            written[c] = from < snapshot.vmState.length
                    || (snapshot.beyond.length > 0 && to > snapshot.beyondAt && from < snapshot.beyondAt + snapshot.beyond.length);
        }
        long entriesPerTable = 1L << l2Bits;
        int tables = (int) ((clusters + entriesPerTable - 1) / entriesPerTable);
        long l1Size = index + Math.max(tables, 1);
        file.align(clusterSize);
        long l1Offset = file.position;
        image.l1Offsets.add(l1Offset);
        file.position += roundUp(l1Size * 8, clusterSize);
        List<Long> l2s = new ArrayList<>();
        for (int t = 0; t < tables; t++) {
            l2s.add(file.position);
            file.putBe64(l1Offset + 8 * (index + t), file.position | (1L << 63));
            file.position += clusterSize;
        }
        image.l2Offsets.add(l2s);
        byte[] expected = new byte[clusters * clusterSize];
        long[] entryAt = new long[clusters];
        Arrays.fill(entryAt, -1);
        long compressedAt = -1; // where the next compressed cluster's bytes go, packed after the last
        long compressedEnd = -1;
        for (int c = 0; c < clusters; c++) {
            if (!written[c]) {
                continue;
            }
            Kind kind = snapshot.kinds.apply(c);
            long at = l2s.get((int) (c / entriesPerTable)) + (c % entriesPerTable) * entryBytes;
            entryAt[c] = at;
            int from = c * clusterSize;
            byte[] cluster = Arrays.copyOfRange(content, from, from + clusterSize);
            switch (kind) {
                case DATA, SCATTERED -> {
                    if (kind == Kind.SCATTERED) {
                        file.appendCluster(clusterSize);
                    }
                    long host = file.appendCluster(clusterSize);
                    file.put(host, cluster);
                    file.putBe64(at, host | (1L << 63));
                    if (extendedL2) {
                        file.putBe64(at + 8, 0xffff_ffffL);
                    }
                    System.arraycopy(cluster, 0, expected, from, clusterSize);
                }
                case COMPRESSED -> {
                    byte[] data = compress(cluster);
                    if (compressedEnd != file.position) {
                        compressedAt = file.appendCluster(clusterSize); // something came between: a new cluster
                    }
                    file.put(compressedAt, data);
                    // qcow2_alloc_compressed_cluster_offset: the sectors past the one it starts in
                    long sectors = ((compressedAt + data.length - 1) >>> 9) - (compressedAt >>> 9);
                    file.putBe64(at, (1L << 62) | (sectors << (62 - (clusterBits - 8))) | compressedAt);
                    compressedAt += data.length;
                    file.position = Math.max(file.position, roundUp(compressedAt, 512));
                    compressedEnd = file.position;
                    System.arraycopy(cluster, 0, expected, from, clusterSize);
                }
                case ZERO -> {
                    if (extendedL2) {
                        file.putBe64(at + 8, 0xffff_ffffL << 32);
                    } else {
                        file.putBe64(at, 1L);
                    }
                }
                case ZERO_ALLOCATED -> {
                    long host = file.appendCluster(clusterSize);
                    byte[] garbage = new byte[clusterSize];
                    Arrays.fill(garbage, (byte) 0xa5);
                    file.put(host, garbage);
                    if (extendedL2) {
                        file.putBe64(at, host);
                        file.putBe64(at + 8, 0xffff_ffffL << 32);
                    } else {
                        file.putBe64(at, host | 1L);
                    }
                }
                case UNALLOCATED -> entryAt[c] = -1;
                case SUBCLUSTERS -> {
                    long host = file.appendCluster(clusterSize);
                    file.put(host, cluster);
                    file.putBe64(at, host | (1L << 63));
                    file.putBe64(at + 8, (snapshot.subclusterZero << 32) | snapshot.subclusterAllocated);
                    int sub = clusterSize / 32;
                    for (int i = 0; i < 32; i++) {
                        if ((snapshot.subclusterAllocated & (1L << i)) != 0) {
                            System.arraycopy(cluster, i * sub, expected, from + i * sub, sub);
                        }
                    }
                }
            }
        }
        image.l2Entries.add(entryAt);
        image.expected.add(expected);
        snapshotL1Size.add(l1Size);
    }

    private final List<Long> snapshotL1Size = new ArrayList<>();

    private byte[] compress(byte[] cluster) {
        if (compressionType == 1) {
            return Zstd.compress(cluster, 3); // libzstd, as QEMU's qcow2_zstd_compress
        }
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true); // raw deflate, as QEMU writes
        deflater.setInput(cluster);
        deflater.finish();
        byte[] out = new byte[cluster.length * 2 + 64];
        int n = deflater.deflate(out);
        deflater.end();
        return Arrays.copyOf(out, n);
    }

    private void writeEntry(Snapshot snapshot, long l1Offset) {
        int index = snapshots.indexOf(snapshot);
        byte[] id = snapshot.id.getBytes(StandardCharsets.UTF_8);
        byte[] name = snapshot.name.getBytes(StandardCharsets.UTF_8);
        long size = snapshot.vmStateSize != null ? snapshot.vmStateSize : snapshot.vmState.length;
        long start = file.position;
        file.putBe64(start, l1Offset);
        file.putBe32(start + 8, snapshotL1Size.get(index));
        file.putBe16(start + 12, id.length);
        file.putBe16(start + 14, name.length);
        file.putBe32(start + 16, snapshot.dateSec);
        file.putBe32(start + 20, snapshot.dateNsec);
        file.putBe64(start + 24, snapshot.vmClockNsec);
        file.putBe32(start + 32, size <= 0xffff_ffffL ? size : 0); // qcow2_write_snapshots: too big, 0
        file.putBe32(start + 36, snapshot.extraDataSize);
        byte[] extra = new byte[Math.max(snapshot.extraDataSize, 24)];
        ByteBuffer.wrap(extra).putLong(0, size).putLong(8, diskSizeOf(snapshot)).putLong(16, snapshot.icount);
        file.put(start + 40, Arrays.copyOf(extra, snapshot.extraDataSize));
        long at = start + 40 + snapshot.extraDataSize;
        file.put(at, id);
        file.put(at + id.length, name);
        file.position = at + id.length + name.length;
    }

    private void writeHeader(long snapshotTableOffset, long l1Offset) {
        file.putBe32(0, 0x514649fb);
        file.putBe32(4, version);
        file.putBe32(20, clusterBits);
        file.putBe64(24, diskSize);
        file.putBe32(32, cryptMethod);
        int shift = clusterBits + l2Bits;
        file.putBe32(36, (diskSize + (1L << shift) - 1) >>> shift); // the active L1: the first snapshot's
        file.putBe64(40, l1Offset);
        file.putBe64(48, 0); // no refcount table: not read
        file.putBe32(60, snapshots.size());
        file.putBe64(64, snapshots.isEmpty() ? 0 : snapshotTableOffset);
        if (version >= 3) {
            long incompatible = moreIncompatible | (extendedL2 ? 1L << 4 : 0) | (compressionType != 0 ? 1L << 3 : 0);
            file.putBe64(72, incompatible);
            file.putBe32(96, 4);
            file.putBe32(100, 112);
            file.put(104, new byte[] {(byte) compressionType});
        }
    }

    static long roundUp(long value, long to) {
        return (value + to - 1) / to * to;
    }

    /** A byte array that grows as it is written; {@link #position} is where the file ends for now. */
    private static final class Growing {
        byte[] bytes = new byte[1 << 16];
        long position;

        void ensure(long end) {
            if (end > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.max(end, bytes.length * 2L));
            }
            position = Math.max(position, end);
        }

        void put(long at, byte[] data) {
            ensure(at + data.length);
            System.arraycopy(data, 0, bytes, (int) at, data.length);
        }

        void putBe64(long at, long value) {
            ensure(at + 8);
            ByteBuffer.wrap(bytes).putLong((int) at, value);
        }

        void putBe32(long at, long value) {
            ensure(at + 4);
            ByteBuffer.wrap(bytes).putInt((int) at, (int) value);
        }

        void putBe16(long at, int value) {
            ensure(at + 2);
            ByteBuffer.wrap(bytes).putShort((int) at, (short) value);
        }

        void align(long to) {
            position = roundUp(position, to);
        }

        long appendCluster(int clusterSize) {
            align(clusterSize);
            long at = position;
            ensure(at + clusterSize);
            return at;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(bytes, (int) position);
        }
    }
}
