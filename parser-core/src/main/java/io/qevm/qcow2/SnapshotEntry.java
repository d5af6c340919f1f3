package io.qevm.qcow2;

import io.qevm.Snapshot;
import java.time.Duration;
import java.time.Instant;

/**
 * One entry of a qcow2 snapshot table (QEMU block/qcow2.h {@code QCowSnapshotHeader} and
 * {@code QCowSnapshotExtraData}), as {@code qcow2_read_snapshots} reads it.
 *
 * @param index         its place in the table, from 0
 * @param entryOffset   where the entry starts in the file
 * @param l1TableOffset where its L1 table starts
 * @param l1Size        entries in its L1 table
 * @param id            its ID, up to its first NUL (as QEMU compares it)
 * @param name          its name (tag), likewise
 * @param dateSec       seconds since the epoch (u32)
 * @param dateNsec      and nanoseconds (u32)
 * @param vmClockNsec   the guest clock (u64)
 * @param vmStateSize   bytes of VM state: the u32, or the u64 of the extra data when present (0: disk-only)
 * @param extraDataSize bytes of extra data
 * @param diskSize      the virtual disk size then: from the extra data, else the image's
 * @param icount        the record/replay instruction count, -1 when none (or no extra data for it)
 */
public record SnapshotEntry(int index, long entryOffset, long l1TableOffset, long l1Size, String id, String name,
                            long dateSec, long dateNsec, long vmClockNsec, long vmStateSize, long extraDataSize,
                            long diskSize, long icount) {

    /** Byte offsets of fields in an entry, for messages naming them. */
    static final int AT_L1_SIZE = 8;
    static final int AT_VM_STATE_SIZE = 32;
    static final int AT_EXTRA = 40;
    static final int AT_DISK_SIZE = 48;

    /** {@return whether it holds VM state (a disk-only snapshot does not)} */
    public boolean hasVmState() {
        return vmStateSize != 0;
    }

    /** {@return it as the API shows it} */
    public Snapshot snapshot() {
        return new Snapshot(id, name, Instant.ofEpochSecond(dateSec, dateNsec), Duration.ofNanos(vmClockNsec),
                vmStateSize, diskSize, icount);
    }

    /** {@return "snapshot 1 'boot'": how messages name it} */
    public String label() {
        return "snapshot " + id + " '" + name + "'";
    }

    /** Whether it was taken after {@code other}: a later date, to the nanosecond. */
    boolean newerThan(SnapshotEntry other) {
        int seconds = Long.compare(dateSec, other.dateSec);
        return seconds != 0 ? seconds > 0 : dateNsec > other.dateNsec;
    }
}
