package io.qevm.consume;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The hex spellings of the reference output. */
final class Hex {

    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {
    }

    /** Bytes as Python's {@code " ".join("{0:02x}".format(c) for c in data)}. */
    static String bytes(MemorySegment data) {
        int length = (int) data.byteSize();
        if (length == 0) {
            return "";
        }
        char[] out = new char[length * 3 - 1];
        return new String(out, 0, bytesInto(data, 0, length, out));
    }

    /**
     * Writes {@code data} as {@link #bytes} does into {@code out} (at least {@code 3 * size - 1}
     * chars), returning the length: for callers that reuse one buffer over many pages.
     */
    static int bytesInto(MemorySegment data, long offset, int length, char[] out) {
        for (int i = 0, j = 0; i < length; i++, j += 3) {
            int b = data.get(ValueLayout.JAVA_BYTE, offset + i) & 0xff;
            out[j] = DIGITS[b >>> 4];
            out[j + 1] = DIGITS[b & 0xf];
            if (i + 1 < length) {
                out[j + 2] = ' ';
            }
        }
        return length == 0 ? 0 : length * 3 - 1;
    }

    /** {@code value}'s low {@code digits * 4} bits as Python's {@code '0x%0<digits>x'}. */
    static String padded(long value, int digits) {
        char[] out = new char[digits + 2];
        out[0] = '0';
        out[1] = 'x';
        for (int i = digits + 1; i >= 2; i--) {
            out[i] = DIGITS[(int) (value & 0xf)];
            value >>>= 4;
        }
        return new String(out);
    }
}
