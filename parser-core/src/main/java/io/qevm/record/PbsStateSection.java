package io.qevm.record;

import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;

/**
 * {@code pbs-state} (instance 0, version 1): Proxmox VE's QEMU adds it to migration streams and
 * state snapshots (pve-qemu, debian/patches/pve/*-PVE-Migrate-dirty-bitmap-state-via-savevm.patch,
 * migration/pbs-state.c): the dirty-bitmap state of Proxmox Backup Server's incremental backups,
 * serialized by the proxmox-backup-qemu library. Registered with {@code register_savevm_live}
 * and no vmstate, so the JSON description has no entry for it. {@code pbs_state_save_setup}
 * writes the whole state in the setup phase, as the body of a QEMU_VM_SECTION_START record (and
 * its footer), with "LV encoding": a u64 length, then that many bytes; the section is then
 * inactive, so no PART or END record follows (were one to come, its body is read the same way).
 * The body is opaque: it is skipped, its length checked against the data, and the reference
 * format shows it as {@code ""}, as it shows the other sections without a description. Not part
 * of the API.
 */
final class PbsStateSection {

    static final String NAME = "pbs-state";
    static final long VERSION = 1;

    private PbsStateSection() {
    }

    static void skipPart(ByteCursor in, ReadLocation at) {
        long length = in.be64();
        if (length < 0) {
            throw at.malformed(Messages.negativeLength("pbs-state length", length));
        }
        in.skip(length, "pbs-state data");
    }
}
