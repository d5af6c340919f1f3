package io.qevm.ram;

import static io.qevm.ram.RamTesting.PAGE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.qevm.MigrationEvent;
import io.qevm.PageEncoding;
import io.qevm.ReadLimits;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ZlibPageDecoder}: RAM_SAVE_FLAG_COMPRESS_PAGE, a u32 length and zlib data that must
 * inflate to exactly one page. Each error names the record (its event offset), where the
 * cursor was, and which check fired.
 */
final class ZlibPageDecoderTest {

    private static final String PC_RAM = "pc.ram";

    /** The record's u64 header, then the u32 length and {@code zlib}; the cursor after the header. */
    private static RamTesting.Cursor record(byte[] zlib, boolean stream) {
        return recordOf(StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE).u32(zlib.length)
                .bytes(zlib).toByteArray(), stream);
    }

    /** A cursor after the u64 header of a record of {@code bytes}. */
    private static RamTesting.Cursor recordOf(byte[] bytes, boolean stream) {
        RamTesting.Cursor c = RamTesting.cursor(bytes, stream).startRecord(MigrationEvent.RAM_PAGE);
        c.in().be64();
        return c;
    }

    private static RamPage read(RamTesting.Cursor c, int pageSize) {
        RamPage page = RamTesting.page(pageSize, 16L * pageSize);
        new ZlibPageDecoder(ReadLimits.DEFAULT, c.at()).read(c.in(), page);
        return page;
    }

    private static <T extends MigrationReadException> T fails(Class<T> type, String problem, long position,
                                                            RamTesting.Cursor c) {
        T e = assertThrows(type, () -> read(c, PAGE));
        assertEquals(problem, e.problem());
        assertEquals(0, e.eventOffset(), "the record");
        assertEquals(position, e.position());
        return e;
    }

    // ------------------------------------------------------------------ pages that inflate

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void inflatesOnePage(boolean stream) {
        byte[] data = StreamBuilder.pattern(PAGE, 5);
        byte[] zlib = StreamBuilder.zlib(data);
        RamTesting.Cursor c = record(zlib, stream);
        RamPage page = read(c, PAGE);
        assertEquals(PageEncoding.COMPRESSED, page.encoding);
        assertEquals(-1, page.sourceOffset, "decoded: not in the stream as it is");
        assertEquals(8, page.payloadOffset, "the length's offset, for the page index");
        assertEquals(0, page.dataIndex);
        assertEquals(12 + zlib.length, c.in().position());
        assertArrayEquals(data, page.data.asSlice(0, PAGE).toArray(ValueLayout.JAVA_BYTE));
    }

    @ParameterizedTest
    @ValueSource(ints = {1024, 16384, 65536})
    void everyPageSizeAndLevel(int pageSize) {
        byte[] random = new byte[pageSize];
        new Random(pageSize).nextBytes(random); // deflates to more than a page
        for (int level : new int[] {Deflater.NO_COMPRESSION, Deflater.BEST_SPEED, Deflater.BEST_COMPRESSION}) {
            for (byte[] data : new byte[][] {random, new byte[pageSize], StreamBuilder.pattern(pageSize, level)}) {
                byte[] zlib = StreamBuilder.zlib(data, level);
                RamTesting.Cursor c = RamTesting.cursor(StreamBuilder.empty().u32(zlib.length).bytes(zlib).toByteArray(),
                        false);
                RamPage page = read(c, pageSize);
                assertArrayEquals(data, page.data.asSlice(0, pageSize).toArray(ValueLayout.JAVA_BYTE),
                        "level " + level);
            }
        }
    }

    /** The buffer is reused by the next page, and resized when the page size changes. */
    @Test
    void theNextPageReusesTheBuffer() {
        byte[] one = StreamBuilder.pattern(PAGE, 1);
        byte[] two = StreamBuilder.pattern(PAGE, 2);
        byte[] bytes = StreamBuilder.empty().u32(StreamBuilder.zlib(one).length).bytes(StreamBuilder.zlib(one))
                .u32(StreamBuilder.zlib(two).length).bytes(StreamBuilder.zlib(two)).toByteArray();
        RamTesting.Cursor c = RamTesting.cursor(bytes, false);
        ZlibPageDecoder zlib = new ZlibPageDecoder(ReadLimits.DEFAULT, c.at());
        RamPage page = RamTesting.page(PAGE, 4 * PAGE);
        zlib.read(c.in(), page);
        var first = page.data;
        assertArrayEquals(one, first.toArray(ValueLayout.JAVA_BYTE));
        zlib.read(c.in(), page);
        assertEquals(first, page.data, "the same buffer");
        assertArrayEquals(two, first.toArray(ValueLayout.JAVA_BYTE), "the first page's view now shows the second");
    }

    // ------------------------------------------------------------------ the checks, each

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void inflatingToLessThanAPage(boolean stream) {
        byte[] zlib = StreamBuilder.zlib(new byte[PAGE - 1]);
        fails(MalformedStreamException.class, "expected a compressed page to inflate to one page of 4096 bytes, it"
                + " inflates to only 4095 of 4096 bytes", 12 + zlib.length, record(zlib, stream));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void inflatingToMoreThanAPage(boolean stream) {
        byte[] zlib = StreamBuilder.zlib(new byte[PAGE + 1]);
        fails(MalformedStreamException.class, "expected a compressed page to inflate to one page of 4096 bytes, it"
                + " inflates to more than 4096 bytes", 12 + zlib.length, record(zlib, stream));
    }

    /** Stored blocks inflate byte for byte: data cut after 1000 of them inflates to exactly 1000. */
    @Test
    void zlibDataCutInItsMiddle() {
        byte[] whole = StreamBuilder.zlib(StreamBuilder.pattern(PAGE, 8), Deflater.NO_COMPRESSION);
        byte[] cut = Arrays.copyOf(whole, 2 + 5 + 1000); // zlib header, stored block header, 1000 bytes
        fails(MalformedStreamException.class, "expected a compressed page to inflate to one page of 4096 bytes, it"
                + " inflates to only 1000 of 4096 bytes", 12 + cut.length, record(cut, false));
    }

    /** All of the page is there, but not the end of the zlib stream (its Adler-32): not "only 4096 of 4096". */
    @Test
    void zlibDataCutBeforeItsChecksum() {
        byte[] whole = StreamBuilder.zlib(StreamBuilder.pattern(PAGE, 8));
        byte[] cut = Arrays.copyOf(whole, whole.length - 4);
        fails(MalformedStreamException.class, "compressed page is not valid zlib data: the data ends before the end of"
                + " the zlib stream", 12 + cut.length, record(cut, false));
    }

    @Test
    void notAZlibHeader() {
        byte[] garbage = new byte[64];
        new Random(1).nextBytes(garbage);
        garbage[0] = 0x12; // a CMF that is not deflate
        fails(MalformedStreamException.class, "compressed page is not valid zlib data: incorrect header check",
                12 + 64, record(garbage, false));
    }

    @Test
    void aReservedBlockType() {
        // header 0x78 0x9c, then BFINAL=1 BTYPE=11 (reserved)
        fails(MalformedStreamException.class, "compressed page is not valid zlib data: invalid block type", 12 + 4,
                record(new byte[] {0x78, (byte) 0x9c, 0x07, 0x00}, false));
    }

    @Test
    void aWrongChecksum() {
        byte[] zlib = StreamBuilder.zlib(StreamBuilder.pattern(PAGE, 9));
        zlib[zlib.length - 1] ^= 0x01;
        fails(MalformedStreamException.class, "compressed page is not valid zlib data: incorrect data check",
                12 + zlib.length, record(zlib, false));
    }

    /** FDICT set (0x78 0xbb) asks for a preset dictionary: QEMU's uncompress() fails, and so must we, not spin. */
    @Test
    void aPresetDictionaryIsRefusedNotWaitedFor() {
        byte[] zlib = {0x78, (byte) 0xbb, 0, 0, 0, 1, 0x4b, 0x04, 0x00};
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> fails(MalformedStreamException.class,
                "compressed page is not valid zlib data: it needs a preset dictionary", 12 + zlib.length,
                record(zlib, false)));
    }

    /** Through the reader, a record of 9 bytes of zlib data must not hang it. */
    @Test
    void aPresetDictionaryThroughTheReader() {
        StreamBuilder builder = RamTesting.ram(4, PAGE);
        long record = builder.position();
        byte[] bytes = builder.compressedPage(0, PC_RAM, new byte[] {0x78, (byte) 0xbb, 0, 0, 0, 1, 0x4b, 0x04, 0x00})
                .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
        MalformedStreamException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(MalformedStreamException.class, () -> RamTesting.read(SourceKind.HEAP, bytes)));
        assertEquals("compressed page is not valid zlib data: it needs a preset dictionary", e.problem());
        assertEquals(record, e.eventOffset());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aLengthPastTheEnd(boolean stream) {
        byte[] bytes = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE).u32(500)
                .bytes(new byte[100]).toByteArray();
        TruncatedInputException e = fails(TruncatedInputException.class, "expected 500 bytes of compressed page, found "
                + RamTesting.end(stream, 112), 112, recordOf(bytes, stream));
        assertEquals("RAM_PAGE", e.event());
    }

    /** The length is checked against ReadLimits.maxCompressedPageBytes before anything is read or allocated. */
    @Test
    void overTheCompressedPageLimit() {
        int max = ReadLimits.DEFAULT.maxCompressedPageBytes();
        byte[] bytes = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE).u32(max + 1L)
                .toByteArray();
        fails(LimitExceededException.class, "too many bytes in a compressed page: " + (max + 1) + ", over the limit of "
                + max + " (see ReadLimits)", 12, recordOf(bytes, false));

        byte[] largest = StreamBuilder.empty().u64(0).u32(0xffffffffL).toByteArray();
        fails(LimitExceededException.class, "too many bytes in a compressed page: 4294967295, over the limit of " + max
                + " (see ReadLimits)", 12, recordOf(largest, false));

        byte[] zlib = StreamBuilder.zlib(StreamBuilder.pattern(PAGE, 1), Deflater.NO_COMPRESSION);
        RamTesting.Cursor c = record(zlib, false);
        ReadLimits small = ReadLimits.builder().maxCompressedPageBytes(zlib.length - 1).build();
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> new ZlibPageDecoder(small, c.at()).read(c.in(), RamTesting.page(PAGE, 4 * PAGE)));
        assertEquals("too many bytes in a compressed page: " + zlib.length + ", over the limit of " + (zlib.length - 1)
                + " (see ReadLimits)", e.problem());
        new ZlibPageDecoder(ReadLimits.builder().maxCompressedPageBytes(zlib.length).build(), c.at())
                .read(record(zlib, false).in(), RamTesting.page(PAGE, 4 * PAGE)); // exactly the limit
    }

    // ------------------------------------------------------------------ through the reader

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void compressedPagesThroughTheReader(SourceKind kind) {
        byte[] one = StreamBuilder.pattern(PAGE, 11);
        byte[] two = new byte[PAGE];
        byte[] bytes = RamTesting.ram(4, PAGE)
                .compressedPage(PAGE, PC_RAM, StreamBuilder.zlib(one))
                .compressedPage(3L * PAGE, null, StreamBuilder.zlib(two, Deflater.BEST_COMPRESSION))
                .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
        List<RamTesting.Seen> pages = RamTesting.pages(kind, bytes);
        assertEquals(2, pages.size());
        assertEquals(PageEncoding.COMPRESSED, pages.get(0).encoding());
        assertEquals(PAGE, pages.get(0).pageOffset());
        assertEquals(-1, pages.get(0).sourceOffset());
        assertArrayEquals(one, pages.get(0).bytes());
        assertEquals(3L * PAGE, pages.get(1).pageOffset());
        assertArrayEquals(two, pages.get(1).bytes());
    }

    /** An error names the record in the ram section, whatever the source. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void anErrorThroughTheReaderNamesTheRecord(SourceKind kind) {
        StreamBuilder builder = RamTesting.ram(4, PAGE).page(0, PC_RAM, new byte[PAGE]);
        long record = builder.position();
        byte[] zlib = StreamBuilder.zlib(new byte[PAGE - 1]);
        byte[] bytes = builder.compressedPage(PAGE, null, zlib)
                .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> RamTesting.read(kind, bytes));
        assertEquals("expected a compressed page to inflate to one page of 4096 bytes, it inflates to only 4095 of 4096"
                + " bytes", e.problem());
        assertEquals(record, e.eventOffset());
        assertEquals(record + 12 + zlib.length, e.position());
        assertEquals("ram", e.sectionName());
        assertEquals(2, e.sectionId());
        assertEquals("RAM_PAGE", e.event());
    }
}
