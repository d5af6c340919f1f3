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
 * @param vmStateSize bytes of VM state QEMU wrote (0: a disk-only snapshot, nothing to read)
 */
public record Snapshot(String id, String name, Instant date, Duration vmClock, long vmStateSize) {

    /** {@return whether it holds VM state (a disk-only snapshot does not)} */
    public boolean hasVmState() {
        return vmStateSize > 0;
    }
}
