package io.qevm.record;

import io.qevm.io.ByteCursor;

/**
 * {@code spapr/htab} (ppc64 pseries, version 1; hw/ppc/spapr.c {@code htab_save_*}): each part
 * starts with an i32, -1 for no hash table, a positive hash shift for the first part alone, or 0
 * for chunks (u32 index, u16 valid, u16 invalid, the valid 16-byte PTEs) up to an all-zero
 * chunk. The reference prints it as {@code ""}: the body is skipped, checked for its framing.
 * Not part of the API.
 */
final class HtabSection {

    static final String NAME = "spapr/htab";
    static final long VERSION = 1;
    private static final int HASH_PTE_SIZE_64 = 16;

    private HtabSection() {
    }

    static void skipPart(ByteCursor in) {
        int header = (int) in.be32();
        if (header != 0) {
            return; // -1: no hash table; > 0: the first part, the hash shift alone
        }
        while (true) { // ends: every chunk takes at least 8 bytes of a finite stream
            long index = in.be32();
            int valid = in.be16();
            int invalid = in.be16();
            if (index == 0 && valid == 0 && invalid == 0) {
                return;
            }
            in.skip((long) valid * HASH_PTE_SIZE_64, "hash PTEs");
        }
    }
}
