package io.qevm.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.CleanFailure;
import io.qevm.MigrationReader;
import io.qevm.ReadLimits;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compressed data that is cut short or damaged fails as a hostile stream does: one
 * {@link MigrationReadException} of one line, naming the byte of the compressed file where it
 * broke ({@link MigrationReadException#stream()} "file", or "input" on a stream) and what was
 * expected; never a hang, another exception, or memory beyond the decompressor's few buffers.
 */
class CompressedFailuresTest {

    /** A small real dump, so that every cut of its compressed form can be tried. */
    private static byte[] dump() {
        return CleanFailure.sample("n-ignore-shared");
    }

    private static int magicLength(String format) {
        return switch (format) {
            case "gzip" -> 2;
            case "bzip2" -> 3;
            case "xz" -> 6;
            case "zstd" -> 4;
            case "lzop" -> 9;
            default -> throw new IllegalArgumentException(format);
        };
    }

    /**
     * Cut anywhere after its magic: a truncation at the cut, in the file's bytes, whatever the
     * format: every cut in the first and last 256 bytes (headers, trailers), 150 in between.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "bzip2", "xz", "zstd", "lzop"})
    void truncatedAtManyOffsets(String format) {
        byte[] compressed = Tools.compress(dump(), format);
        int tried = 0;
        int stride = compressed.length / 150;
        for (int cut = magicLength(format); cut < compressed.length; cut += cut < 256
                || cut > compressed.length - 256 ? 1 : stride) {
            SourceKind kind = cut % 5 == 0 ? SourceKind.STREAM : SourceKind.HEAP;
            MigrationReadException e = failure(kind, Arrays.copyOf(compressed, cut));
            String where = kind == SourceKind.STREAM ? "input" : "file";
            assertEquals(TruncatedInputException.class, e.getClass(), () -> "cut at " + e.getMessage());
            assertEquals(Messages.compressedTruncated(format, where), e.problem(), e.getMessage());
            assertEquals(where, e.stream());
            assertEquals(cut, e.position(), e.getMessage());
            assertEquals(cut, e.eventOffset(), e.getMessage());
            assertEquals("at byte 0x" + Integer.toHexString(cut) + " (" + cut + ") of the " + where + ": expected more "
                    + format + " data, found the end of the " + where + " (truncated?)", e.getMessage());
            tried++;
        }
        assertTrue(tried > 100, "cuts tried: " + tried);
    }

    /** A mapped file cut short fails as the array does. */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "bzip2", "xz", "zstd", "lzop"})
    void truncatedFile(String format) {
        byte[] compressed = Tools.compress(dump(), format);
        byte[] cut = Arrays.copyOf(compressed, compressed.length / 2);
        MigrationReadException e = failure(SourceKind.MAPPED, cut);
        assertEquals(TruncatedInputException.class, e.getClass(), e.getMessage());
        assertEquals("file", e.stream());
        assertEquals(cut.length, e.position());
    }

    /**
     * Bytes damaged anywhere: a clean failure, found in the compressed data (its checks: CRCs,
     * checksums, the codes' own structure) or, when the damage decompresses to other bytes
     * before a check sees it, in the decompressed stream, which says so.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gzip", "bzip2", "xz", "zstd", "lzop"})
    void damagedBytes(String format) {
        byte[] compressed = Tools.compress(dump(), format);
        int failures = 0;
        for (int at = magicLength(format); at < compressed.length; at += compressed.length / 200) {
            byte[] damaged = compressed.clone();
            damaged[at] ^= (byte) (0x5a + at);
            SourceKind kind = at % 2 == 0 ? SourceKind.STREAM : SourceKind.HEAP;
            MigrationReadException e = CleanFailure.readAll(kind, damaged, ReadOptions.DEFAULT, 10_000_000);
            if (e == null) {
                continue; // a byte no check covers (a gzip header's MTIME): read as it is
            }
            failures++;
            CleanFailure.assertWellFormed(e, Long.MAX_VALUE);
            String stream = e.stream();
            assertNotNull(stream, e.getMessage());
            assertTrue(stream.equals(kind == SourceKind.STREAM ? "input" : "file")
                    || stream.equals(format + "-decompressed stream"), e.getMessage());
            if (!stream.endsWith("decompressed stream")) {
                assertTrue(e.position() <= damaged.length, e.getMessage());
            }
        }
        assertTrue(failures > 10, "damages found: " + failures);
    }

    /** A gzip trailer whose CRC-32 does not match: named at the trailer, in the file. */
    @Test
    void gzipCrcMismatch() {
        byte[] compressed = Tools.compress(dump(), "gzip").clone();
        int trailer = compressed.length - 8;
        compressed[trailer] ^= 1;
        MigrationReadException e = failure(SourceKind.HEAP, compressed);
        assertEquals(MalformedStreamException.class, e.getClass());
        assertEquals(trailer, e.eventOffset());
        assertTrue(e.problem().startsWith("corrupt gzip data: the member's data has CRC-32 0x"), e.getMessage());
        assertEquals("file", e.stream());
        assertTrue(e.getMessage().startsWith("at byte 0x" + Integer.toHexString(trailer) + " (" + trailer
                + ") of the file: corrupt gzip data"), e.getMessage());
    }

    /** zstd's content checksum (on by default in the zstd command) catches damage in the last block. */
    @Test
    void zstdChecksumMismatch() {
        byte[] compressed = Tools.compress(dump(), "zstd").clone();
        compressed[compressed.length - 1] ^= 1;
        MigrationReadException e = failure(SourceKind.HEAP, compressed);
        assertEquals(MalformedStreamException.class, e.getClass());
        assertTrue(e.problem().startsWith("corrupt zstd data: "), e.getMessage());
        assertEquals("file", e.stream());
    }

    /** An lzop block whose Adler-32 does not match its decompressed data. */
    @Test
    void lzopChecksumMismatch() {
        byte[] compressed = Tools.compress(dump(), "lzop").clone();
        // the first block's header: u32 decompressed, u32 compressed, u32 Adler-32 of the decompressed data
        int block = lzopFirstBlock(compressed);
        compressed[block + 8] ^= 1;
        MigrationReadException e = failure(SourceKind.HEAP, compressed);
        assertEquals(MalformedStreamException.class, e.getClass());
        assertTrue(e.problem().startsWith("corrupt lzop data: the decompressed data of the block has checksum"),
                e.getMessage());
        assertEquals(block + 12, e.eventOffset(), "the block's data starts after its three fields");
    }

    /** Where lzop's first block starts: after the header, whose name field ends it (lzop -c from a pipe: no name). */
    private static int lzopFirstBlock(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.BIG_ENDIAN);
        int at = 9 + 2 + 2 + 2 + 1 + 1; // magic, version, library version, needed version, method, level
        int flags = b.getInt(at);
        at += 4 + ((flags & 0x800) != 0 ? 4 : 0) + 4 + 4 + 4; // flags, filter, mode, mtime low, high
        at += 1 + (file[at] & 0xff) + 4; // name, header checksum
        return at;
    }

    /**
     * A decompression bomb: 512 MiB of zeros after a device section's start, in 500 KiB of gzip.
     * The stream holds device state until the description: the limit on it stops the read, and
     * memory never holds more than that and the decompressor's buffers.
     */
    @Test
    void aDecompressionBomb() throws IOException {
        byte[] start = StreamBuilder.stream().sectionFull(1, "dev", 0, 1).toByteArray();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes, 1 << 16)) {
            gzip.write(start);
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 512; i++) {
                gzip.write(zeros);
            }
        }
        ReadLimits limits = ReadLimits.builder().maxHeldStreamBytes(16 << 20).build();
        ReadOptions options = ReadOptions.builder().limits(limits).build();
        MigrationReadException e = CleanFailure.readAll(SourceKind.STREAM, bytes.toByteArray(), options, 1000);
        assertEquals(LimitExceededException.class, e.getClass(), e.getMessage());
        assertEquals("gzip-decompressed stream", e.stream());
    }

    private static MigrationReadException failure(SourceKind kind, byte[] bytes) {
        MigrationReadException e = CleanFailure.readAll(kind, bytes, ReadOptions.DEFAULT, 10_000_000);
        assertNotNull(e, "read to its EOF");
        return e;
    }

    /** An unknown zstd frame after a valid one (garbage where a frame would start): corrupt, as zstd -dc says. */
    @Test
    void garbageAfterAZstdFrame() {
        byte[] compressed = Tools.compress(dump(), "zstd");
        byte[] garbage = Arrays.copyOf(compressed, compressed.length + 16);
        Arrays.fill(garbage, compressed.length, garbage.length, (byte) 0x55);
        MigrationReadException e = failure(SourceKind.HEAP, garbage);
        assertEquals(MalformedStreamException.class, e.getClass(), e.getMessage());
        assertEquals("file", e.stream());
    }
}
