package io.qevm.qcow2;

import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteSource;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;

/**
 * A snapshot's VM-state area as a random-access source: offset 0 is guest offset
 * {@code l1_vm_state_index << (cluster_bits + l2_bits)} of the snapshot's disk, where QEMU's
 * {@code qcow2_save_vmstate} writes (block/qcow2.c {@code qcow2_vm_state_offset}), read through
 * the snapshot's own L1 and L2 tables.
 *
 * <p>A window over clusters that lie one after the other in the file, uncompressed, is a slice of
 * the file's mapping (nothing copied); any other (a cluster boundary where the file does not go
 * on, compressed clusters, zero or unallocated clusters and subclusters) is assembled into a new
 * segment, so that windows handed out stay valid until {@link #close()} whatever is read after
 * them. The L1 and L2 tables are read from the mapping as they are needed, each entry checked
 * when it is used; only a few decompressed clusters are kept.
 */
final class VmStateSource implements ByteSource {

    /** How far one zero-copy window reaches at most: its L2 entries are walked to find it. */
    static final long RUN_WINDOW = 8L << 20;
    /** How much an assembled window holds at least (unless less is left): the copy is paid per window. */
    static final long ASSEMBLED = 1L << 20;
    private static final long MAX_ASSEMBLED = Integer.MAX_VALUE - 16;
    /** The most clusters one {@link #release} walks. */
    private static final long RELEASE_CLUSTERS = 1 << 16;
    private static final int SUBCLUSTERS = 32;
    private static final long COMPRESSED = 1L << 62;
    /** QCOW_OFLAG_ZERO: a standard cluster that reads as zeros (not with extended L2 entries). */
    private static final long ZERO = 1L;
    private static final long SUBCLUSTER_BITS = 0xffffffffL;
    private static final MemorySegment EMPTY = MemorySegment.ofArray(new byte[0]);

    private final ByteSource fileSource;
    private final MemorySegment file;
    private final Qcow2Header header;
    private final SnapshotEntry snapshot;
    private final CompressedClusters compressed;
    private final int clusterBits;
    private final long clusterSize;
    private final int l2Bits;
    private final long l2Mask;
    private final int entryBytes;
    private final boolean extended;
    /** The guest cluster the area starts at. */
    private final long firstCluster;
    private final long size;

    // the last L2 entry looked up: its subcluster bitmap and where it is in the file
    private long bitmap;
    private long entryAt;
    /** The last L2 table checked, so that a run of lookups in one table checks it once. */
    private long checkedL2 = -1;
    /** Where the last {@link #contiguousRun} starts in the file. */
    private long runHost;

    private VmStateSource(ByteSource fileSource, MemorySegment file, Qcow2Header header, SnapshotEntry snapshot,
                          long firstCluster) {
        this.fileSource = fileSource;
        this.file = file;
        this.header = header;
        this.snapshot = snapshot;
        this.compressed = new CompressedClusters(file, header);
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.l2Bits = header.l2Bits();
        this.l2Mask = (1L << l2Bits) - 1;
        this.entryBytes = header.l2EntryBytes();
        this.extended = header.extendedL2();
        this.firstCluster = firstCluster;
        this.size = size(snapshot.vmStateSize(), extent());
    }

    /** The VM-state area of {@code snapshot}: its L1 table and sizes checked. */
    static VmStateSource open(ByteSource fileSource, MemorySegment file, Qcow2Header header, SnapshotEntry snapshot) {
        long l1Size = snapshot.l1Size();
        if (l1Size > Qcow2Image.MAX_L1_ENTRIES) {
            throw new LimitExceededException(Messages.qcow2L1TooBig(snapshot.label(), l1Size, Qcow2Image.MAX_L1_ENTRIES),
                    Qcow2Image.at(snapshot.entryOffset() + SnapshotEntry.AT_L1_SIZE));
        }
        if (l1Size > 0) {
            Qcow2Image.checkTable(file, header, "L1 table of " + snapshot.label(), snapshot.l1TableOffset(), l1Size * 8,
                    snapshot.entryOffset());
        }
        // qcow2.c size_to_l1: the L1 entries the disk needs; the VM state starts at the next one
        int shift = header.l1Shift();
        long diskSize = snapshot.diskSize();
        long index = Long.divideUnsigned(diskSize, 1L << shift) + (Long.remainderUnsigned(diskSize, 1L << shift) != 0 ? 1 : 0);
        long diskSizeAt = snapshot.extraDataSize() >= 16 ? snapshot.entryOffset() + SnapshotEntry.AT_DISK_SIZE : 24;
        if (index > Integer.MAX_VALUE) {
            throw new MalformedStreamException(Messages.qcow2DiskTooBig(snapshot.label(), diskSize),
                    Qcow2Image.at(diskSizeAt));
        }
        if (index >= l1Size) {
            throw new MalformedStreamException(Messages.qcow2L1BeforeVmState(snapshot.label(), l1Size, index, diskSize),
                    Qcow2Image.at(snapshot.entryOffset() + SnapshotEntry.AT_L1_SIZE));
        }
        long coverage = (l1Size - index) << shift;
        if (Long.compareUnsigned(snapshot.vmStateSize(), coverage) > 0) {
            long sizeAt = snapshot.entryOffset() + (snapshot.extraDataSize() >= 8 ? SnapshotEntry.AT_EXTRA
                    : SnapshotEntry.AT_VM_STATE_SIZE);
            throw new MalformedStreamException(Messages.qcow2VmStateBeyondL1(snapshot.label(), snapshot.vmStateSize(),
                    coverage), Qcow2Image.at(sizeAt));
        }
        return new VmStateSource(fileSource, file, header, snapshot, index << (shift - header.clusterBits()));
    }

    /**
     * The area's size: the VM state's, unless clusters are allocated past the cluster it ends in
     * (a mapped-ram VM state keeps its RAM at offsets past the bytes it counts), then the end of
     * the last of them.
     */
    private long size(long vmStateSize, long extent) {
        long lastCluster = (vmStateSize + clusterSize - 1) & -clusterSize;
        return extent > lastCluster ? extent : vmStateSize;
    }

    // ------------------------------------------------------------------ ByteSource

    @Override
    public MemorySegment window(long offset, long minBytes) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        if (offset >= size) {
            return EMPTY;
        }
        long available = size - offset;
        long want = Math.min(Math.max(minBytes, 0), available);
        long run = contiguousRun(offset, Math.min(available, Math.max(want, RUN_WINDOW)));
        if (run > 0 && run >= want) {
            return file.asSlice(runHost, run);
        }
        long length = Math.min(available, Math.max(want, ASSEMBLED));
        if (length > MAX_ASSEMBLED) {
            throw new LimitExceededException(Messages.qcow2WindowTooBig(length, MAX_ASSEMBLED), Qcow2Image.at(offset));
        }
        MemorySegment out = MemorySegment.ofArray(new byte[(int) length]);
        read(offset, out, length);
        return out;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isRandomAccess() {
        return true;
    }

    @Override
    public String name() {
        return fileSource.name();
    }

    @Override
    public String kind() {
        return "VM-state area";
    }

    /**
     * Hands the file's pages behind [from, to) of the area back, run by run of clusters; at most
     * the last {@link #RELEASE_CLUSTERS} clusters before {@code to}: a longer range was skipped
     * over rather than read (a mapped-ram stream jumps to its pages), so none of it is in memory,
     * and walking its L2 entries would cost time for nothing.
     */
    @Override
    public void release(long from, long to) {
        long end = Math.min(to, size);
        long start = Math.max(Math.max(0, from), end - (RELEASE_CLUSTERS << clusterBits));
        long runStart = -1;
        long runEnd = -1;
        for (long at = start & -clusterSize; at < end; at += clusterSize) {
            long entry = l2Entry(at >>> clusterBits);
            long host = (entry & COMPRESSED) == 0 && (extended || (entry & ZERO) == 0) ? entry & Qcow2Image.OFFSET_MASK : 0;
            if (host != 0 && host == runEnd) {
                runEnd += clusterSize;
                continue;
            }
            if (runStart >= 0) {
                fileSource.release(runStart, runEnd);
            }
            runStart = host != 0 ? host : -1;
            runEnd = host != 0 ? host + clusterSize : -1;
        }
        if (runStart >= 0) {
            fileSource.release(runStart, runEnd);
        }
    }

    @Override
    public void close() {
        compressed.close();
        fileSource.close();
    }

    // ------------------------------------------------------------------ reading

    /**
     * How many bytes from {@code offset} on (at most {@code limit}) lie one after the other in
     * the file, in standard clusters read whole from the file; {@link #runHost} is where they
     * start. 0 when the first cluster is of another kind.
     */
    private long contiguousRun(long offset, long limit) {
        long run = 0;
        long next = -1;
        long fileSize = file.byteSize();
        while (run < limit) {
            long at = offset + run;
            long within = at & (clusterSize - 1);
            long n = Math.min(clusterSize - within, limit - run);
            long entry = l2Entry(at >>> clusterBits);
            if ((entry & COMPRESSED) != 0 || (!extended && (entry & ZERO) != 0)) {
                break;
            }
            long cluster = entry & Qcow2Image.OFFSET_MASK;
            if (cluster == 0 || (extended && !allAllocated(within, n))) {
                break;
            }
            checkDataCluster(cluster, at);
            long host = cluster + within;
            if ((next >= 0 && host != next) || host + n > fileSize) {
                break; // the next window starts there (past the end: the copy says so)
            }
            if (next < 0) {
                runHost = host;
            }
            next = host + n;
            run += n;
        }
        return run;
    }

    /** Whether the subclusters [within, within + n) of the last entry looked up are all allocated. */
    private boolean allAllocated(long within, long n) {
        long subclusterSize = clusterSize / SUBCLUSTERS;
        int first = (int) (within / subclusterSize);
        int last = (int) ((within + n - 1) / subclusterSize);
        long wanted = (SUBCLUSTER_BITS >>> (SUBCLUSTERS - 1 - last)) & (SUBCLUSTER_BITS << first);
        return (bitmap & wanted) == wanted && ((bitmap >>> 32) & wanted) == 0;
    }

    /** Copies {@code length} bytes of the area from {@code offset} on into {@code out}, which is zeroed. */
    private void read(long offset, MemorySegment out, long length) {
        long done = 0;
        while (done < length) {
            long at = offset + done;
            long within = at & (clusterSize - 1);
            long n = Math.min(clusterSize - within, length - done);
            long entry = l2Entry(at >>> clusterBits);
            if ((entry & COMPRESSED) != 0) {
                byte[] cluster = compressed.cluster(entry, entryAt);
                MemorySegment.copy(MemorySegment.ofArray(cluster), within, out, done, n);
            } else if (extended) {
                readSubclusters(entry, at, within, n, out, done);
            } else if ((entry & ZERO) == 0 && (entry & Qcow2Image.OFFSET_MASK) != 0) {
                copyFromFile(entry & Qcow2Image.OFFSET_MASK, at, within, n, out, done);
            } // else a zero cluster, or one never written: zeros, as QEMU reads it without a backing file
            done += n;
        }
    }

    /** qcow2_get_subcluster_type: each subcluster allocated (read), zero, unallocated (zeros), or invalid. */
    private void readSubclusters(long entry, long at, long within, long n, MemorySegment out, long outAt) {
        long cluster = entry & Qcow2Image.OFFSET_MASK;
        long allocated = bitmap & SUBCLUSTER_BITS;
        long zero = bitmap >>> 32;
        if ((cluster == 0 && allocated != 0) || (allocated & zero) != 0) {
            throw new MalformedStreamException(Messages.qcow2BadSubclusters(bitmap, cluster),
                    Qcow2Image.at(entryAt + 8));
        }
        if (allocated == 0) {
            return;
        }
        long subclusterSize = clusterSize / SUBCLUSTERS;
        long end = within + n;
        for (long from = within; from < end; ) {
            int index = (int) (from / subclusterSize);
            long to = Math.min(end, (index + 1) * subclusterSize);
            if ((allocated & (1L << index)) != 0) {
                copyFromFile(cluster, at + (from - within), from, to - from, out, outAt + (from - within));
            }
            from = to;
        }
    }

    /**
     * Copies {@code n} bytes at {@code within} of the data cluster at file offset {@code cluster}
     * (for area offset {@code at}) into {@code out}.
     */
    private void copyFromFile(long cluster, long at, long within, long n, MemorySegment out, long outAt) {
        checkDataCluster(cluster, at);
        long fileSize = file.byteSize();
        if (cluster + within + n > fileSize) {
            throw new TruncatedInputException(Messages.qcow2ClusterPastEnd(cluster, at, within + n, fileSize),
                    Qcow2Image.at(entryAt, fileSize));
        }
        MemorySegment.copy(file, cluster + within, out, outAt, n);
    }

    /** A standard cluster's offset (qcow2-cluster.c checks it as it reads): aligned, not the header's. */
    private void checkDataCluster(long cluster, long at) {
        if ((cluster & (clusterSize - 1)) != 0) {
            throw new MalformedStreamException(Messages.qcow2Unaligned("data cluster for VM-state offset " + at, cluster,
                    clusterSize), Qcow2Image.at(entryAt));
        }
        if (cluster < clusterSize) {
            throw new MalformedStreamException(Messages.qcow2IntoHeader("data cluster for VM-state offset " + at, cluster),
                    Qcow2Image.at(entryAt));
        }
    }

    // ------------------------------------------------------------------ the L1 and L2 tables

    /**
     * The L2 entry of cluster {@code areaCluster} of the area, 0 when none maps it (past the L1
     * table, or an L1 entry of 0); sets {@link #bitmap} (0 without extended entries) and
     * {@link #entryAt}.
     */
    private long l2Entry(long areaCluster) {
        long guestCluster = firstCluster + areaCluster;
        long l1Index = guestCluster >>> l2Bits;
        bitmap = 0;
        if (l1Index >= snapshot.l1Size()) {
            return 0;
        }
        long l1At = snapshot.l1TableOffset() + 8 * l1Index;
        long table = file.get(Qcow2Image.BE64, l1At) & Qcow2Image.OFFSET_MASK;
        if (table == 0) {
            return 0;
        }
        if (table != checkedL2) {
            Qcow2Image.checkTable(file, header, "L2 table", table, clusterSize, l1At);
            checkedL2 = table;
        }
        entryAt = table + (guestCluster & l2Mask) * entryBytes;
        if (extended) {
            bitmap = file.get(Qcow2Image.BE64, entryAt + 8);
        }
        return file.get(Qcow2Image.BE64, entryAt);
    }

    /**
     * Where the last cluster the snapshot's tables describe in the area ends (0 when none): the
     * L1 entries from the last down, each L2 table from its last entry down. An L2 table found
     * empty is not read again, however many L1 entries point to it: the work is bounded by the
     * file's size.
     */
    private long extent() {
        long firstL1 = firstCluster >>> l2Bits;
        long entries = 1L << l2Bits;
        Set<Long> empty = new HashSet<>();
        for (long l1Index = snapshot.l1Size() - 1; l1Index >= firstL1; l1Index--) {
            long l1At = snapshot.l1TableOffset() + 8 * l1Index;
            long table = file.get(Qcow2Image.BE64, l1At) & Qcow2Image.OFFSET_MASK;
            if (table == 0 || empty.contains(table)) {
                continue;
            }
            Qcow2Image.checkTable(file, header, "L2 table", table, clusterSize, l1At);
            for (long i = entries - 1; i >= 0; i--) {
                long at = table + i * entryBytes;
                long entry = file.get(Qcow2Image.BE64, at);
                if (entry != 0 || (extended && file.get(Qcow2Image.BE64, at + 8) != 0)) {
                    long areaCluster = (l1Index << l2Bits) + i - firstCluster;
                    long host = (entry & COMPRESSED) == 0 ? entry & Qcow2Image.OFFSET_MASK : 0;
                    long fileSize = file.byteSize();
                    if (host != 0 && host < fileSize && host + clusterSize > fileSize) {
                        // the file ends inside its last cluster: the area ends there too
                        return (areaCluster << clusterBits) + (fileSize - host);
                    }
                    return (areaCluster + 1) << clusterBits;
                }
            }
            empty.add(table);
        }
        return 0;
    }
}
