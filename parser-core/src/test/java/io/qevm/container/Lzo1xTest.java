package io.qevm.container;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@link Lzo1x} on blocks built instruction by instruction (real lzop output is read by
 * {@link CompressedDumpsTest}): literal runs, matches that overlap what they write, the end
 * marker, and every way a block can lie.
 */
class Lzo1xTest {

    private static final byte[] END = {0x11, 0, 0};

    private static byte[] block(int... bytes) {
        byte[] block = new byte[bytes.length + END.length];
        for (int i = 0; i < bytes.length; i++) {
            block[i] = (byte) bytes[i];
        }
        System.arraycopy(END, 0, block, bytes.length, END.length);
        return block;
    }

    private static byte[] decompress(byte[] block, int length) throws Lzo1x.Corrupt {
        byte[] out = new byte[length];
        Lzo1x.decompress(block, block.length, out, length);
        return out;
    }

    @Test
    void aLiteralRunFirst() throws Lzo1x.Corrupt {
        // first byte 17 + 5: five literals
        assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), decompress(block(22, 'h', 'e', 'l', 'l', 'o'), 5));
    }

    /** "ab", then an M2 match 2 back of 3 bytes ("aba"), then 2 literals: it repeats what it writes. */
    @Test
    void anOverlappingMatch() throws Lzo1x.Corrupt {
        // M2: t >= 64; length (t >> 5) + 1 = 3 -> t >> 5 = 2; distance 1 + ((t >> 2) & 7) + (b << 3) = 2
        // -> (t >> 2) & 7 = 1, b = 0; trailing literals t & 3 = 2
        int t = 2 << 5 | 1 << 2 | 2;
        byte[] out = decompress(block(17 + 2, 'a', 'b', t, 0, 'x', 'y'), 7);
        assertEquals("ababaxy", new String(out, StandardCharsets.US_ASCII));
    }

    /** A long literal run: a zero byte worth 255, then the rest (15 + 255 + 7 + 3 = 280 literals). */
    @Test
    void aLongLiteralRun() throws Lzo1x.Corrupt {
        int[] bytes = new int[3 + 280 + 1];
        // first instruction must not be the 17+ form: an M1-free start is a literal run of 0 (t = 0)
        bytes[0] = 0;
        bytes[1] = 0;
        bytes[2] = 7;
        for (int i = 0; i < 280; i++) {
            bytes[3 + i] = 'a' + i % 26;
        }
        byte[] block = block(java.util.Arrays.copyOf(bytes, 283));
        byte[] out = decompress(block, 280);
        assertEquals('a', out[0]);
        assertEquals('a' + 279 % 26, out[279]);
    }

    @Test
    void aMatchBeforeTheStart() {
        int t = 2 << 5 | 1 << 2; // 3 bytes, 2 + 8 back
        Lzo1x.Corrupt e = assertThrows(Lzo1x.Corrupt.class, () -> decompress(block(17 + 2, 'a', 'b', t, 1), 5));
        assertEquals("a match reaches 10 bytes back, before the block's start", e.getMessage());
    }

    @Test
    void moreOrLessThanTheHeaderSays() {
        Lzo1x.Corrupt shorter = assertThrows(Lzo1x.Corrupt.class, () -> decompress(block(22, 'h', 'e', 'l', 'l', 'o'), 6));
        assertEquals("the block decompresses to 5 bytes, its header says 6", shorter.getMessage());
        Lzo1x.Corrupt longer = assertThrows(Lzo1x.Corrupt.class, () -> decompress(block(22, 'h', 'e', 'l', 'l', 'o'), 4));
        assertEquals("the block decompresses to more than the 4 bytes its header says", longer.getMessage());
    }

    @Test
    void noEndMarker() {
        byte[] cut = {22, 'h', 'e', 'l', 'l', 'o'};
        Lzo1x.Corrupt e = assertThrows(Lzo1x.Corrupt.class, () -> Lzo1x.decompress(cut, cut.length, new byte[5], 5));
        assertEquals("the LZO1X data ends before its end marker", e.getMessage());
        byte[] after = java.util.Arrays.copyOf(block(22, 'h', 'e', 'l', 'l', 'o'), 10);
        Lzo1x.Corrupt trailing = assertThrows(Lzo1x.Corrupt.class, () -> Lzo1x.decompress(after, after.length,
                new byte[5], 5));
        assertEquals("1 bytes after the LZO1X end marker", trailing.getMessage());
    }
}
