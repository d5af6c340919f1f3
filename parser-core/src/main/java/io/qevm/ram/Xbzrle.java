package io.qevm.ram;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The XBZRLE delta decoder of QEMU's migration/xbzrle.c ({@code xbzrle_decode_buffer}): the
 * encoded data is a run of pairs (unchanged byte count, new byte count + the new bytes), counts
 * as one- or two-byte ULEB128; applied in place to the page's previous content.
 */
final class Xbzrle {

    private Xbzrle() {
    }

    /**
     * Applies {@code length} bytes of delta at {@code offset} of {@code encoded} to {@code page},
     * or, when {@code page} is null, only checks that it could be applied to a page of
     * {@code pageSize} bytes (the checks depend on the delta alone).
     *
     * @return {@code null} on success, else what is wrong, starting with the index in the delta
     *         where it was found ({@code "at 12: ..."})
     */
    static String decode(MemorySegment encoded, long offset, int length, byte[] page, int pageSize) {
        int i = 0;
        int d = 0;
        while (i < length) {
            // the unchanged run; zero only in the first pair
            if (length - i < 2) {
                return "at " + i + ": expected a run of unchanged bytes, found the end of the delta";
            }
            int count = uleb128(encoded, offset, i);
            if (count < 0) {
                return "at " + i + ": expected a count of one or two bytes, found a longer one";
            }
            if (i > 0 && (count & 0xffff) == 0) {
                return "at " + i + ": expected a run of unchanged bytes, found a zero-length run";
            }
            i += count >>> 16;
            d += count & 0xffff;
            if (d > pageSize) {
                return "at " + i + ": unchanged run passes the end of the page";
            }
            // the new bytes
            if (length - i < 2) {
                return "at " + i + ": expected a run of new bytes, found the end of the delta";
            }
            count = uleb128(encoded, offset, i);
            if (count < 0) {
                return "at " + i + ": expected a count of one or two bytes, found a longer one";
            }
            int newBytes = count & 0xffff;
            if (newBytes == 0) {
                return "at " + i + ": expected a run of new bytes, found a zero-length run";
            }
            i += count >>> 16;
            if (d + newBytes > pageSize) {
                return "at " + i + ": run of " + newBytes + " new bytes passes the end of the page";
            }
            if (i + newBytes > length) {
                return "at " + i + ": run of " + newBytes + " new bytes passes the end of the delta";
            }
            if (page != null) {
                MemorySegment.copy(encoded, ValueLayout.JAVA_BYTE, offset + i, page, d, newBytes);
            }
            d += newBytes;
            i += newBytes;
        }
        return null;
    }

    /** A one- or two-byte ULEB128 at {@code i}: (bytes used << 16) | value, or -1 if longer. */
    private static int uleb128(MemorySegment encoded, long offset, int i) {
        int first = encoded.get(ValueLayout.JAVA_BYTE, offset + i) & 0xff;
        if ((first & 0x80) == 0) {
            return 1 << 16 | first;
        }
        int second = encoded.get(ValueLayout.JAVA_BYTE, offset + i + 1) & 0xff;
        if ((second & 0x80) != 0) {
            return -1;
        }
        return 2 << 16 | (first & 0x7f) | (second << 7);
    }
}
