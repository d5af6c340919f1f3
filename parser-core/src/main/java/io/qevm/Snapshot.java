package io.qevm;

import java.time.Duration;
import java.time.Instant;

/**
 * An internal snapshot of a qcow2 image, as {@code qemu-img snapshot -l} lists it
 * ({@link MigrationReader#snapshots(java.nio.file.Path)}).
 *
 * @param id          its ID ("1", "2"...)
 * @param name        its tag, as given to {@code savevm}
 * @param date        when it was taken
 * @param vmClock     the guest's clock then
 * @param vmStateSize bytes of VM state QEMU wrote (0: a disk-only snapshot, nothing to read); a
 *                    mapped-ram VM state (QEMU 10.2's savevm with the mapped-ram capability) reaches
 *                    further, its RAM at offsets past these bytes
 * @param diskSize    the virtual disk size when it was taken (where its VM-state area starts depends on it)
 * @param icount      the record/replay instruction count then, or -1 when it has none
 */
public record Snapshot(String id, String name, Instant date, Duration vmClock, long vmStateSize, long diskSize,
                       long icount) {

    /** {@return whether it holds VM state (a disk-only snapshot does not)} */
    public boolean hasVmState() {
        return vmStateSize != 0;
    }
}
