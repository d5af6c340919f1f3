package io.qevm.container;

/**
 * LZO1X decompression, as liblzo2's {@code lzo1x_decompress_safe} (and the Linux kernel's
 * lib/lzo/lzo1x_decompress_safe.c, without its lzo-rle extension) does it: every read and write
 * checked, a match that would reach before the output's start refused. lzop compresses each
 * block with LZO1X-1 (or -999): the same bitstream.
 */
final class Lzo1x {

    /** M2_MAX_OFFSET: the farthest an M1/M2 match reaches. */
    private static final int M2_MAX_OFFSET = 0x0800;
    /** M4 distances start here; an M4 of distance exactly this is the end marker. */
    private static final int M4_BASE = 0x4000;

    private final byte[] in;
    private final int inLength;
    private final byte[] out;
    private final int outLength;
    private int ip;
    private int op;

    private Lzo1x(byte[] in, int inLength, byte[] out, int outLength) {
        this.in = in;
        this.inLength = inLength;
        this.out = out;
        this.outLength = outLength;
    }

    /** The data is not valid LZO1X: {@link #getMessage()} says how. */
    static final class Corrupt extends Exception {
        private static final long serialVersionUID = 1L;

        Corrupt(String problem) {
            super(problem, null, false, false);
        }
    }

    /**
     * Decompresses {@code in[0, inLength)} into {@code out[0, outLength)}, which it must fill
     * exactly.
     *
     * @throws Corrupt if the data is not valid LZO1X, or does not decompress to exactly
     *                 {@code outLength} bytes
     */
    static void decompress(byte[] in, int inLength, byte[] out, int outLength) throws Corrupt {
        new Lzo1x(in, inLength, out, outLength).run();
    }

    private void run() throws Corrupt {
        if (inLength < 3) {
            throw new Corrupt("a block of " + inLength + " bytes is too short for LZO1X data");
        }
        // state: how many literals the last instruction copied (4: a run of 4 or more), which
        // says what an instruction byte below 16 means
        int state = 0;
        if ((in[0] & 0xff) > 17) {
            // the data may start with a literal run of (first byte - 17) bytes
            int t = (in[ip++] & 0xff) - 17;
            literals(t);
            state = t < 4 ? t : 4;
        }
        while (true) {
            need(1);
            int t = in[ip++] & 0xff;
            int matchPos;
            int length;
            int next;
            if (t < 16 && state == 0) {
                // a literal run of 3 or more bytes
                literals(length(t, 15) + 1);
                state = 4;
                continue;
            } else if (t < 16) {
                // M1: after a short literal run a 2-byte match within 1 KiB, after a long one a
                // 3-byte match 2 to 3 KiB back
                need(1);
                next = t & 3;
                int base = state != 4 ? 1 : 1 + M2_MAX_OFFSET;
                matchPos = op - base - (t >> 2) - ((in[ip++] & 0xff) << 2);
                length = state != 4 ? 2 : 3;
            } else if (t >= 64) {
                // M2: 3 to 8 bytes within 2 KiB
                need(1);
                next = t & 3;
                matchPos = op - 1 - ((t >> 2) & 7) - ((in[ip++] & 0xff) << 3);
                length = (t >> 5) + 1;
            } else if (t >= 32) {
                // M3: within 16 KiB
                length = length(t, 31);
                int distance = le16();
                matchPos = op - 1 - (distance >> 2);
                next = distance & 3;
            } else {
                // M4: 16 to 48 KiB back, or the end marker
                int high = (t & 8) << 11;
                length = length(t, 7);
                int distance = le16();
                matchPos = op - high - (distance >> 2);
                next = distance & 3;
                if (matchPos == op) {
                    end(length);
                    return;
                }
                matchPos -= M4_BASE;
            }
            copyMatch(matchPos, length);
            // 0 to 3 literals follow a match
            literals(next);
            state = next;
        }
    }

    /**
     * A match or run length: the instruction's low bits ({@code mask}), or when they are 0 a
     * long length after it (zero bytes each worth 255, then a byte added to the mask); plus 2.
     */
    private int length(int t, int mask) throws Corrupt {
        int length = t & mask;
        if (length == 0) {
            long sum = mask;
            while (true) {
                need(1);
                int b = in[ip++] & 0xff;
                sum += b == 0 ? 255 : b;
                if (sum > outLength) {
                    throw new Corrupt("a length of more than the block's " + outLength + " bytes");
                }
                if (b != 0) {
                    break;
                }
            }
            length = (int) sum;
        }
        return length + 2;
    }

    private int le16() throws Corrupt {
        need(2);
        int value = (in[ip] & 0xff) | (in[ip + 1] & 0xff) << 8;
        ip += 2;
        return value;
    }

    private void literals(int count) throws Corrupt {
        need(count);
        needOut(count);
        System.arraycopy(in, ip, out, op, count);
        ip += count;
        op += count;
    }

    private void copyMatch(int from, int length) throws Corrupt {
        if (from < 0) {
            throw new Corrupt("a match reaches " + (op - from) + " bytes back, before the block's start");
        }
        needOut(length);
        if (op - from >= length) {
            System.arraycopy(out, from, out, op, length);
            op += length;
        } else {
            for (int end = op + length; op < end; ) {
                out[op++] = out[from++]; // overlapping: repeats the bytes just written
            }
        }
    }

    /** The end marker (0x11 0x00 0x00): the block must be whole, and end there. */
    private void end(int length) throws Corrupt {
        if (length != 3) {
            throw new Corrupt("malformed LZO1X end marker");
        }
        if (op != outLength) {
            throw new Corrupt("the block decompresses to " + op + " bytes, its header says " + outLength);
        }
        if (ip != inLength) {
            throw new Corrupt((inLength - ip) + " bytes after the LZO1X end marker");
        }
    }

    private void need(int count) throws Corrupt {
        if (count > inLength - ip) {
            throw new Corrupt("the LZO1X data ends before its end marker");
        }
    }

    private void needOut(int count) throws Corrupt {
        if (count > outLength - op) {
            throw new Corrupt("the block decompresses to more than the " + outLength + " bytes its header says");
        }
    }
}
