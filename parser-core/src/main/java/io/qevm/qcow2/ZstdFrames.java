package io.qevm.qcow2;

import com.github.luben.zstd.Zstd;

/**
 * zstd frames (RFC 8878) decompressed one at a time into a buffer of fixed size, as QEMU's
 * qcow2_zstd_decompress reads a compressed cluster: frames until the cluster is full, the bytes
 * after the last one (the rest of its sector, or the next cluster's data) never touched. Each
 * frame's length is found from its header and block headers, so that the decompressor is given
 * that frame alone; its output is bounded by what is left of the buffer.
 */
final class ZstdFrames {

    private static final int MAGIC = 0xFD2FB528;
    /** Skippable frames: magics 0x184D2A50 to 0x184D2A5F. */
    private static final int SKIPPABLE_MASK = 0xFFFFFFF0;
    private static final int SKIPPABLE = 0x184D2A50;
    private static final int BLOCK_HEADER = 3;
    private static final int RLE_BLOCK = 1;
    private static final int RESERVED_BLOCK = 3;

    private ZstdFrames() {
    }

    /**
     * Fills {@code out} from the frames in {@code in}; null when it is full, else what went
     * wrong (for the message).
     */
    static String decompress(byte[] in, byte[] out) {
        int produced = 0;
        int at = 0;
        while (produced < out.length) {
            if (at + 4 > in.length) {
                return "the data ends after " + produced + " bytes";
            }
            int magic = le32(in, at);
            int length;
            if ((magic & SKIPPABLE_MASK) == SKIPPABLE) {
                long skip = at + 8L + (at + 8 <= in.length ? Integer.toUnsignedLong(le32(in, at + 4)) : 0);
                if (at + 8 > in.length || skip > in.length) {
                    return "a skippable frame that ends past the data, after " + produced + " bytes";
                }
                at = (int) skip;
                continue;
            }
            if (magic != MAGIC) {
                return "no zstd frame at byte " + at + " of the data (magic " + Integer.toHexString(magic) + "), after "
                        + produced + " bytes";
            }
            length = frameLength(in, at);
            if (length < 0) {
                return "a zstd frame at byte " + at + " of the data that ends past it, after " + produced + " bytes";
            }
            // libzstd (zstd-jni), as the container layer's zstd: one frame, its output bounded
            // by what is left of the cluster (more is an error, not a bigger buffer)
            try {
                produced += (int) Zstd.decompressByteArray(out, produced, out.length - produced, in, at, length);
            } catch (RuntimeException e) {
                // ZstdException: corrupt data, or more than the cluster ("Destination buffer is too small")
                return "invalid zstd data (" + e.getMessage() + ") after " + produced + " bytes";
            }
            at += length;
        }
        return null;
    }

    /** The length of the frame at {@code at} (magic included), or -1 when it does not end inside {@code in}. */
    static int frameLength(byte[] in, int at) {
        int p = at + 4;
        if (p >= in.length) {
            return -1;
        }
        int descriptor = in[p++] & 0xff;
        int contentSizeFlag = descriptor >>> 6;
        boolean singleSegment = (descriptor & 0x20) != 0;
        boolean checksum = (descriptor & 0x04) != 0;
        int dictionaryFlag = descriptor & 0x03;
        p += singleSegment ? 0 : 1;
        p += new int[] {0, 1, 2, 4}[dictionaryFlag];
        p += new int[] {singleSegment ? 1 : 0, 2, 4, 8}[contentSizeFlag];
        while (true) {
            if (p + BLOCK_HEADER > in.length) {
                return -1;
            }
            int header = (in[p] & 0xff) | (in[p + 1] & 0xff) << 8 | (in[p + 2] & 0xff) << 16;
            p += BLOCK_HEADER;
            int type = (header >>> 1) & 3;
            if (type == RESERVED_BLOCK) {
                return -1;
            }
            p += type == RLE_BLOCK ? 1 : header >>> 3;
            if ((header & 1) != 0) {
                break;
            }
        }
        p += checksum ? 4 : 0;
        return p <= in.length ? p - at : -1;
    }

    private static int le32(byte[] in, int at) {
        return (in[at] & 0xff) | (in[at + 1] & 0xff) << 8 | (in[at + 2] & 0xff) << 16 | (in[at + 3] & 0xff) << 24;
    }
}
