package io.qevm.container;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Checksum;

/**
 * lzop files (lzop 1.04's {@code p_lzo.c}, {@code lzop.c}): the header (its checksum verified),
 * then blocks of u32 decompressed length, u32 compressed length, the checksums the header's
 * flags ask for, and the data, LZO1X-compressed ({@link Lzo1x}) or stored when it did not
 * shrink; a decompressed length of 0 ends the file. All fields big-endian. A block is at most
 * 64 MiB decompressed, as lzop itself allows ({@code MAX_BLOCK_SIZE}): the buffers are bounded.
 */
final class LzopDecoder implements Decoder {

    // lzop conf.h F_* flags
    private static final int F_ADLER32_D = 0x1;
    private static final int F_ADLER32_C = 0x2;
    private static final int F_H_EXTRA_FIELD = 0x40;
    private static final int F_CRC32_D = 0x100;
    private static final int F_CRC32_C = 0x200;
    private static final int F_MULTIPART = 0x400;
    private static final int F_H_FILTER = 0x800;
    private static final int F_H_CRC32 = 0x1000;
    private static final int F_RESERVED = 0x000fc000;
    // lzop methods that are LZO1X: M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999
    private static final int M_LZO1X_1 = 1;
    private static final int M_LZO1X_999 = 3;
    private static final int MAX_BLOCK_SIZE = 64 << 20;
    /** lzop writes 0x0940 and later headers; 0x0900 is the oldest it reads. */
    private static final int VERSION_WITH_LEVEL = 0x0940;
    private static final int OLDEST_VERSION = 0x0900;

    private final CompressedInput in;
    private int flags;
    private byte[] compressed = new byte[0];
    private byte[] block = new byte[0];
    /** The decompressed block being handed out: block[blockPos, blockLength). */
    private int blockPos;
    private int blockLength;
    private boolean headerRead;
    private boolean ended;

    LzopDecoder(CompressedInput in) {
        this.in = in;
    }

    @Override
    public boolean fill(ByteBuffer out) throws IOException {
        if (!headerRead) {
            readHeader();
            headerRead = true;
        }
        int start = out.position();
        while (out.hasRemaining() && (out.position() == start || blockPos < blockLength)) {
            if (blockPos == blockLength) {
                if (ended || !nextBlock()) {
                    ended = true;
                    break;
                }
            }
            int count = Math.min(out.remaining(), blockLength - blockPos);
            out.put(block, blockPos, count);
            blockPos += count;
        }
        return !(ended && blockPos == blockLength);
    }

    private void readHeader() throws IOException {
        in.bytes(Compression.MAGIC_BYTES); // the magic: detection checked it
        long start = in.position();
        // every header byte after the magic counts in its checksum, whose kind the flags say
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        int version = u16(field(header, 2), 0);
        if (version < OLDEST_VERSION) {
            throw in.corrupt("lzop header version 0x" + Integer.toHexString(version) + ", older than lzop reads");
        }
        field(header, 2); // the library's version
        boolean newer = version >= VERSION_WITH_LEVEL;
        if (newer) {
            field(header, 2); // the version needed to extract
        }
        int method = field(header, 1)[0] & 0xff;
        if (newer) {
            field(header, 1); // the level
        }
        flags = u32(field(header, 4), 0);
        if (method < M_LZO1X_1 || method > M_LZO1X_999) {
            throw in.corrupt("lzop method " + method + ", not LZO1X (1 to 3)");
        }
        if ((flags & F_RESERVED) != 0 || (flags & F_MULTIPART) != 0) {
            throw in.corrupt("lzop header flags 0x" + Integer.toHexString(flags) + " (reserved or multipart)");
        }
        if ((flags & F_H_FILTER) != 0) {
            field(header, 4);
        }
        field(header, newer ? 12 : 8); // mode, mtime (low, high)
        int nameLength = field(header, 1)[0] & 0xff;
        field(header, nameLength);
        Checksum check = (flags & F_H_CRC32) != 0 ? new CRC32() : new Adler32();
        check.update(header.toByteArray());
        long stored = Integer.toUnsignedLong(u32(in.bytes(4), 0));
        if (stored != check.getValue()) {
            throw in.corrupt("the lzop header (from byte " + start + ") has checksum 0x"
                    + Long.toHexString(check.getValue()) + ", it says 0x" + Long.toHexString(stored));
        }
        if ((flags & F_H_EXTRA_FIELD) != 0) {
            long length = Integer.toUnsignedLong(u32(in.bytes(4), 0));
            if (length > MAX_BLOCK_SIZE) {
                throw in.corrupt("an lzop extra field of " + length + " bytes");
            }
            in.bytes((int) length);
            in.bytes(4); // its checksum
        }
    }

    /** The next {@code count} header bytes, consumed and kept in {@code header}. */
    private byte[] field(ByteArrayOutputStream header, int count) throws IOException {
        byte[] bytes = in.bytes(count);
        header.writeBytes(bytes);
        return bytes;
    }

    /** Reads and decompresses the next block; false at the end marker. */
    private boolean nextBlock() throws IOException {
        long decompressedLength = Integer.toUnsignedLong(u32(in.bytes(4), 0));
        if (decompressedLength == 0) {
            return false;
        }
        if (decompressedLength > MAX_BLOCK_SIZE) {
            throw in.corrupt("an lzop block of " + decompressedLength + " bytes, over lzop's largest ("
                    + MAX_BLOCK_SIZE + ")");
        }
        long compressedLength = Integer.toUnsignedLong(u32(in.bytes(4), 0));
        if (compressedLength > decompressedLength || compressedLength == 0) {
            throw in.corrupt("an lzop block of " + compressedLength + " compressed bytes for " + decompressedLength);
        }
        long adlerD = (flags & F_ADLER32_D) != 0 ? Integer.toUnsignedLong(u32(in.bytes(4), 0)) : -1;
        long crcD = (flags & F_CRC32_D) != 0 ? Integer.toUnsignedLong(u32(in.bytes(4), 0)) : -1;
        boolean stored = compressedLength == decompressedLength;
        long adlerC = !stored && (flags & F_ADLER32_C) != 0 ? Integer.toUnsignedLong(u32(in.bytes(4), 0)) : -1;
        long crcC = !stored && (flags & F_CRC32_C) != 0 ? Integer.toUnsignedLong(u32(in.bytes(4), 0)) : -1;
        int length = (int) decompressedLength;
        if (block.length < length) {
            block = new byte[length]; // bounded above; read lengths are never trusted further
        }
        long dataStart = in.position();
        if (stored) {
            read(block, length);
        } else {
            if (compressed.length < compressedLength) {
                compressed = new byte[(int) compressedLength];
            }
            read(compressed, (int) compressedLength);
            verify(adlerC, new Adler32(), compressed, (int) compressedLength, "compressed", dataStart);
            verify(crcC, new CRC32(), compressed, (int) compressedLength, "compressed", dataStart);
            try {
                Lzo1x.decompress(compressed, (int) compressedLength, block, length);
            } catch (Lzo1x.Corrupt e) {
                throw in.corruptAt(dataStart, e.getMessage());
            }
        }
        verify(adlerD, new Adler32(), block, length, "decompressed", dataStart);
        verify(crcD, new CRC32(), block, length, "decompressed", dataStart);
        blockPos = 0;
        blockLength = length;
        return true;
    }

    private void read(byte[] into, int length) throws IOException {
        int done = 0;
        while (done < length) {
            MemorySegment window = in.peek(Math.min(length - done, CompressedInput.CHUNK));
            if (window.byteSize() == 0) {
                throw in.truncated();
            }
            int count = (int) Math.min(window.byteSize(), length - done);
            MemorySegment.copy(window, ValueLayout.JAVA_BYTE, 0, into, done, count);
            in.advance(count);
            done += count;
        }
    }

    private void verify(long expected, Checksum checksum, byte[] data, int length, String which, long blockData)
            throws IOException {
        if (expected < 0) {
            return;
        }
        checksum.update(data, 0, length);
        if (checksum.getValue() != expected) {
            throw in.corruptAt(blockData, "the " + which + " data of the block has checksum 0x"
                    + Long.toHexString(checksum.getValue()) + ", its header says 0x" + Long.toHexString(expected));
        }
    }

    private static int u16(byte[] bytes, int at) {
        return (bytes[at] & 0xff) << 8 | bytes[at + 1] & 0xff;
    }

    private static int u32(byte[] bytes, int at) {
        return (bytes[at] & 0xff) << 24 | (bytes[at + 1] & 0xff) << 16 | (bytes[at + 2] & 0xff) << 8 | bytes[at + 3] & 0xff;
    }

    @Override
    public void close() {
        // nothing native
    }
}
