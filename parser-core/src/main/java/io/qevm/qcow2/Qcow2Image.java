package io.qevm.qcow2;

import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteSource;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A qcow2 image read from its mapped file: the header and the internal snapshot table at
 * {@link #open}, and a {@link ByteSource} over a snapshot's VM-state area on demand
 * ({@link #vmState}). Everything read from the file is checked against the file's size and
 * against QEMU's own limits (block/qcow2.h) before it is used: a hostile image fails with one
 * {@link io.qevm.exc.MigrationReadException} naming the byte of the file that is wrong.
 */
public final class Qcow2Image {

    static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    // block/qcow2.h
    /** QCOW_MAX_SNAPSHOTS. */
    static final long MAX_SNAPSHOTS = 65536;
    /** QCOW_MAX_SNAPSHOTS_SIZE: the whole table, names and IDs included. */
    static final long MAX_SNAPSHOTS_SIZE = 1024 * MAX_SNAPSHOTS;
    /** QCOW_MAX_SNAPSHOT_EXTRA_DATA. */
    static final long MAX_SNAPSHOT_EXTRA_DATA = 1024;
    /** QCOW_MAX_L1_SIZE, in entries. */
    static final long MAX_L1_ENTRIES = (32L << 20) / 8;
    /** L1E_OFFSET_MASK, L2E_OFFSET_MASK: bits 9-55 of an L1 or standard L2 entry. */
    static final long OFFSET_MASK = 0x00fffffffffffe00L;
    /** A snapshot table entry's fixed part ({@code QCowSnapshotHeader}). */
    private static final int SNAPSHOT_HEADER_BYTES = 40;

    private final ByteSource source;
    private final MemorySegment file;
    private final Qcow2Header header;
    private final List<SnapshotEntry> snapshots;

    private Qcow2Image(ByteSource source, MemorySegment file, Qcow2Header header, List<SnapshotEntry> snapshots) {
        this.source = source;
        this.file = file;
        this.header = header;
        this.snapshots = snapshots;
    }

    /** {@return whether {@code head}, the first bytes of some input, starts with the qcow2 magic "QFI\xfb"} */
    public static boolean isQcow2(MemorySegment head) {
        return head.byteSize() >= 4 && head.get(BE32, 0) == Qcow2Header.MAGIC;
    }

    /**
     * {@return whether {@code source} starts with the qcow2 magic} On a sequential source this
     * reads its first bytes, which it still answers afterwards.
     *
     * @throws IOException if they cannot be read
     */
    public static boolean isQcow2(ByteSource source) throws IOException {
        return isQcow2(source.window(0, 4));
    }

    /**
     * Reads the header and the snapshot table of the image in {@code source}, a random-access
     * source of known size (a mapped file). The image uses the source until it is closed; closing
     * is the caller's, or the VM-state source's ({@link #vmState}).
     *
     * @throws io.qevm.exc.MigrationReadException if it is not a qcow2 image QEMU could open, or its
     *                                            snapshot table is broken
     * @throws IOException                        if the file cannot be read
     */
    public static Qcow2Image open(ByteSource source) throws IOException {
        MemorySegment head = source.window(0, 4);
        if (head.byteSize() == 0) {
            throw new TruncatedInputException(Messages.empty(source.kind()), at(0));
        }
        if (head.byteSize() < 4) {
            throw new TruncatedInputException(Messages.truncated("qcow2 magic", 4,
                    Messages.endOfSource(source.kind(), head.byteSize())), at(0, head.byteSize()));
        }
        if (!isQcow2(head)) {
            throw new MalformedStreamException(Messages.qcow2BadMagic(be32(head, 0)), at(0));
        }
        if (!source.isRandomAccess() || source.size() < 0) {
            throw new MalformedStreamException(Messages.qcow2OnStream(), at(0));
        }
        MemorySegment file = source.window(0, source.size());
        if (file.byteSize() != source.size()) {
            throw new IllegalStateException("a random-access source answered " + file.byteSize() + " of its "
                    + source.size() + " bytes");
        }
        Qcow2Header header = Qcow2Header.read(file);
        return new Qcow2Image(source, file, header, readSnapshots(file, header));
    }

    /** {@return the snapshot table, in its order} */
    public List<SnapshotEntry> snapshots() {
        return snapshots;
    }

    /**
     * The snapshot to read: the one whose ID is {@code idOrName}, else the first whose name is
     * (QEMU's {@code bdrv_snapshot_find} order); for null, the most recent one that has VM state
     * (the newest date, the last in the table among equal dates).
     *
     * @throws io.qevm.exc.MigrationReadException if the image cannot give its VM state (encrypted,
     *                                            external data file), has no such snapshot, or the
     *                                            one chosen holds no VM state
     */
    public SnapshotEntry choose(String idOrName) {
        header.requireReadableData();
        if (snapshots.isEmpty()) {
            throw new MalformedStreamException(Messages.qcow2NoSnapshots(), at(Qcow2Header.nbSnapshotsOffset()));
        }
        if (idOrName == null) {
            SnapshotEntry latest = null;
            for (SnapshotEntry entry : snapshots) {
                if (entry.hasVmState() && (latest == null || !latest.newerThan(entry))) {
                    latest = entry;
                }
            }
            if (latest == null) {
                throw new MalformedStreamException(Messages.qcow2NoVmState(snapshots.size()),
                        at(header.snapshotsOffset()));
            }
            return latest;
        }
        SnapshotEntry found = null;
        for (SnapshotEntry entry : snapshots) {
            if (entry.id().equals(idOrName)) {
                found = entry;
                break;
            }
        }
        for (int i = 0; found == null && i < snapshots.size(); i++) {
            if (snapshots.get(i).name().equals(idOrName)) {
                found = snapshots.get(i);
            }
        }
        if (found == null) {
            throw new MalformedStreamException(Messages.qcow2UnknownSnapshot(idOrName,
                    snapshots.stream().map(s -> s.id() + " '" + s.name() + "'").toList()),
                    at(header.snapshotsOffset()));
        }
        if (!found.hasVmState()) {
            throw new MalformedStreamException(Messages.qcow2DiskOnly(found.label()),
                    at(found.entryOffset() + SnapshotEntry.AT_VM_STATE_SIZE));
        }
        return found;
    }

    /**
     * A random-access source over {@code snapshot}'s VM-state area, its offset 0 the area's
     * first byte: reads go through the snapshot's own L1/L2 tables. Its size is the VM state's
     * size, or, when clusters are allocated past it (a mapped-ram VM state, whose RAM lies at
     * offsets in the area beyond the bytes counted), the end of the last one. Closing it closes
     * the image's source.
     *
     * @throws io.qevm.exc.MigrationReadException if the snapshot's L1 table or sizes are broken
     */
    public ByteSource vmState(SnapshotEntry snapshot) {
        header.requireReadableData();
        return VmStateSource.open(source, file, header, snapshot);
    }

    // ------------------------------------------------------------------ the snapshot table

    /** qcow2-snapshot.c qcow2_do_read_snapshots, every length checked against the file first. */
    private static List<SnapshotEntry> readSnapshots(MemorySegment file, Qcow2Header header) {
        long count = header.nbSnapshots();
        if (count == 0) {
            return List.of();
        }
        if (count > MAX_SNAPSHOTS) {
            throw new LimitExceededException(Messages.qcow2TooManySnapshots(count, MAX_SNAPSHOTS),
                    at(Qcow2Header.nbSnapshotsOffset()));
        }
        long tableOffset = header.snapshotsOffset();
        checkTable(file, header, "snapshot table", tableOffset, count * SNAPSHOT_HEADER_BYTES,
                Qcow2Header.snapshotsOffsetOffset());
        long fileSize = file.byteSize();
        List<SnapshotEntry> entries = new ArrayList<>((int) count);
        long offset = tableOffset;
        for (int i = 0; i < count; i++) {
            offset = (offset + 7) & ~7L;
            requireInFile(fileSize, offset, SNAPSHOT_HEADER_BYTES, "snapshot table entry " + i);
            long entryOffset = offset;
            long l1TableOffset = file.get(BE64, offset);
            long l1Size = be32(file, offset + 8);
            int idSize = Short.toUnsignedInt(file.get(BE16, offset + 12));
            int nameSize = Short.toUnsignedInt(file.get(BE16, offset + 14));
            long dateSec = be32(file, offset + 16);
            long dateNsec = be32(file, offset + 20);
            long vmClock = file.get(BE64, offset + 24);
            long vmStateSize = be32(file, offset + 32);
            long extraSize = be32(file, offset + 36);
            if (extraSize > MAX_SNAPSHOT_EXTRA_DATA) {
                throw new LimitExceededException(Messages.qcow2ExtraDataTooBig(i, extraSize, MAX_SNAPSHOT_EXTRA_DATA),
                        at(offset + 36));
            }
            offset += SNAPSHOT_HEADER_BYTES;
            requireInFile(fileSize, offset, extraSize + idSize + nameSize, "snapshot table entry " + i);
            if (extraSize >= 8) {
                vmStateSize = file.get(BE64, offset);
            }
            long diskSize = extraSize >= 16 ? file.get(BE64, offset + 8) : header.size();
            long icount = extraSize >= 24 ? file.get(BE64, offset + 16) : -1;
            offset += extraSize;
            String id = cString(file, offset, idSize);
            offset += idSize;
            String name = cString(file, offset, nameSize);
            offset += nameSize;
            if (offset - tableOffset > MAX_SNAPSHOTS_SIZE) {
                throw new LimitExceededException(Messages.qcow2SnapshotTableTooBig(i, MAX_SNAPSHOTS_SIZE),
                        at(entryOffset));
            }
            entries.add(new SnapshotEntry(i, entryOffset, l1TableOffset, l1Size, id, name, dateSec, dateNsec, vmClock,
                    vmStateSize, extraSize, diskSize, icount));
        }
        return List.copyOf(entries);
    }

    /** QEMU keeps IDs and names as C strings: one with a NUL inside ends there. */
    private static String cString(MemorySegment file, long offset, int length) {
        byte[] bytes = file.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
        int end = 0;
        while (end < length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ checks shared with VmStateSource

    /**
     * A table ({@code what}) of {@code length} bytes at {@code offset}, read from the field at
     * {@code fieldAt}: cluster-aligned, past the header's cluster, inside the file.
     */
    static void checkTable(MemorySegment file, Qcow2Header header, String what, long offset, long length, long fieldAt) {
        checkCluster(file.byteSize(), header, what, offset, fieldAt);
        if (length > file.byteSize() - offset) {
            throw new TruncatedInputException(Messages.qcow2PastEnd(what, offset, length, file.byteSize()),
                    at(fieldAt, file.byteSize()));
        }
    }

    /** A cluster offset read from the field at {@code fieldAt}: aligned, not the header's, not past the end. */
    static void checkCluster(long fileSize, Qcow2Header header, String what, long offset, long fieldAt) {
        if ((offset & (header.clusterSize() - 1)) != 0) {
            throw new MalformedStreamException(Messages.qcow2Unaligned(what, offset, header.clusterSize()),
                    at(fieldAt));
        }
        if (offset < 0 || offset >= fileSize) {
            throw new TruncatedInputException(Messages.qcow2PastEnd(what, offset, 1, fileSize),
                    at(fieldAt, fileSize));
        }
        if (offset < header.clusterSize()) {
            throw new MalformedStreamException(Messages.qcow2IntoHeader(what, offset), at(fieldAt));
        }
    }

    private static void requireInFile(long fileSize, long offset, long length, String what) {
        if (length > fileSize - offset) {
            throw new TruncatedInputException(Messages.truncated(what, length, Messages.endOfSource("file", fileSize)),
                    at(offset, fileSize));
        }
    }

    /**
     * What {@link io.qevm.exc.MigrationReadException#event()} says of a failure in the image
     * itself (its header, tables, clusters), whose offsets are the file's; a failure in the stream
     * read from a snapshot has offsets in its VM-state area.
     */
    public static final String EVENT = "qcow2 image";
    /** What the offsets of the image's own failures count in. */
    static final String IMAGE_FILE = "image file";

    /**
     * Where a failure of the image itself is: offsets in the image file, said to be so (the
     * stream's own failures count in the snapshot's VM-state area, and say that).
     */
    static ReadContext at(long offset) {
        return new ReadContext(offset, offset, null, -1, EVENT, IMAGE_FILE);
    }

    static ReadContext at(long offset, long position) {
        return new ReadContext(offset, position, null, -1, EVENT, IMAGE_FILE);
    }

    static long be32(MemorySegment file, long offset) {
        return Integer.toUnsignedLong(file.get(BE32, offset));
    }
}
