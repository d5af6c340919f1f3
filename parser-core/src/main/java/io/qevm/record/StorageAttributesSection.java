package io.qevm.record;

import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;

/**
 * {@code s390-storage_attributes} (version 0; hw/s390x/s390-stattrib.c {@code cmma_save}): u64
 * records, an address in the high bits and flags in the low 12: EOS ends the part, MORE is
 * followed by a u64 count and that many attribute bytes, ERROR reports a failed save, DONE (maybe
 * followed by EOS) ends the last part. No JSON describes it; the reference prints {@code ""}.
 * Not part of the API.
 */
final class StorageAttributesSection {

    static final String NAME = "s390-storage_attributes";
    static final long VERSION = 0;
    private static final int STATTR_FLAG_EOS = 0x01;
    private static final int STATTR_FLAG_MORE = 0x02;
    private static final int STATTR_FLAG_ERROR = 0x04;
    private static final int STATTR_FLAG_DONE = 0x08;

    private StorageAttributesSection() {
    }

    static void skipPart(ByteCursor in, ReadLocation at) {
        boolean done = false;
        while (true) {
            long recordAt = in.position();
            if (done && in.lookAhead(8) < 8) {
                return; // DONE ended the part, and too little is left for another record
            }
            long header = in.be64();
            int flags = (int) (header & 0xfff);
            if ((flags & STATTR_FLAG_ERROR) != 0) {
                throw at.malformed(Messages.storageAttributesError());
            }
            if ((flags & STATTR_FLAG_DONE) != 0) {
                done = true;
            } else if ((flags & STATTR_FLAG_EOS) != 0) {
                return;
            } else if ((flags & STATTR_FLAG_MORE) != 0) {
                long count = in.be64();
                if (count < 0) {
                    throw at.malformed(Messages.negativeLength("storage attribute count", count));
                }
                in.skip(count, "storage attributes");
            } else if (done) {
                in.rewindTo(recordAt); // DONE ended the part; this record belongs to the next one
                return;
            } else {
                throw at.malformed(Messages.unknownStorageAttributeFlags(flags));
            }
        }
    }
}
