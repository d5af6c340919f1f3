package io.qevm.ram;

import static io.qevm.ram.RamTesting.PAGE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationEvent;
import io.qevm.PageEncoding;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link MappedRamDecoder}: a block's MappedRamHeader, its bitmap of little-endian 64-bit words,
 * and its pages at fixed offsets, read in one forward pass (migration/ram.c
 * {@code mapped_ram_setup_ramblock}, {@code mapped_ram_read_section}).
 */
final class MappedRamDecoderTest {

    private static final int HEADER = 28;

    /**
     * At offset 0 a MappedRamHeader for a block of {@code pages} pages, its bitmap (the
     * {@code words} as written, little-endian) at 64, the pages at 4096 (page n holds
     * {@code pattern(PAGE, n)}), then the u64 0x1122334455667788.
     */
    private static byte[] layout(int pages, long... words) {
        StreamBuilder b = StreamBuilder.empty().mappedRamHeader(PAGE, 64, PAGE);
        b.zeros(64 - HEADER);
        for (long word : words) {
            b.u64le(word);
        }
        b.zeros((int) (PAGE - b.position()));
        for (int n = 0; n < pages; n++) {
            b.bytes(StreamBuilder.pattern(PAGE, n));
        }
        return b.u64(0x1122334455667788L).toByteArray();
    }

    private static RamTesting.Cursor at0(byte[] bytes, boolean stream) {
        return RamTesting.cursor(bytes, stream).startRecord(MigrationEvent.RAM_BLOCK);
    }

    /** The page numbers nextPage() visits, each page's bytes checked. */
    private static List<Long> pages(MappedRamDecoder decoder, RamTesting.Cursor c, Block block) {
        List<Long> numbers = new ArrayList<>();
        RamPage page = new RamPage();
        page.size = PAGE;
        while (decoder.nextPage(c.in(), page)) {
            long number = page.address / PAGE;
            numbers.add(number);
            assertEquals(block, page.block);
            assertEquals(PageEncoding.MAPPED, page.encoding);
            assertEquals(PAGE + page.address, page.sourceOffset, "at pages_offset + its offset");
            assertEquals(PAGE + page.address, c.at().eventOffset(), "each page is an event of its own");
            assertArrayEquals(StreamBuilder.pattern(PAGE, (int) number),
                    page.data.asSlice(page.dataIndex, PAGE).toArray(ValueLayout.JAVA_BYTE), "page " + number);
        }
        return numbers;
    }

    // ------------------------------------------------------------------ bitmap and pages

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pagesInPageOrderByALittleEndianBitmap(boolean stream) {
        // pages 0, 1, 3 and 6: bits 0b1001011 in a little-endian word (big-endian would put them in byte 7)
        RamTesting.Cursor c = at0(layout(8, 0b1001011L), stream);
        Block block = RamTesting.block(0, "pc.ram", 8L * PAGE);
        MappedRamDecoder decoder = new MappedRamDecoder(c.at());
        assertTrue(decoder.readHeader(c.in(), block, PAGE));
        assertEquals(PAGE, c.in().position(), "at the pages");
        assertEquals(List.of(0L, 1L, 3L, 6L), pages(decoder, c, block));
        assertEquals(PAGE + 8L * PAGE, c.in().position(), "after the block's pages region");
        assertEquals(0x1122334455667788L, c.in().be64(), "the stream goes on");
    }

    /** Bits past the block's last page are not pages; a second word holds pages 64 on. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void twoWordsAndBitsPastTheEnd(boolean stream) {
        RamTesting.Cursor c = at0(layout(70, 1L << 63 | 1L, 1L << 5 | 1L << 6 | 1L << 40), stream);
        Block block = RamTesting.block(0, "pc.ram", 70L * PAGE);
        MappedRamDecoder decoder = new MappedRamDecoder(c.at());
        assertTrue(decoder.readHeader(c.in(), block, PAGE));
        assertEquals(List.of(0L, 63L, 69L), pages(decoder, c, block), "page 70 (bit 6) and 104 lie past the block");
        assertEquals(0x1122334455667788L, c.in().be64());
    }

    @Test
    void anEmptyBitmapHasNoPages() {
        RamTesting.Cursor c = at0(layout(4, 0L), false);
        Block block = RamTesting.block(0, "pc.ram", 4L * PAGE);
        MappedRamDecoder decoder = new MappedRamDecoder(c.at());
        assertTrue(decoder.readHeader(c.in(), block, PAGE));
        assertEquals(List.of(), pages(decoder, c, block));
        assertEquals(0x1122334455667788L, c.in().be64());
    }

    /** x-ignore-shared: a block QEMU did not write has bitmap and pages offsets 0; the stream goes on after the header. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anUnwrittenBlock(boolean stream) {
        byte[] bytes = StreamBuilder.empty().mappedRamHeader(PAGE, 0, 0).u64(42).toByteArray();
        RamTesting.Cursor c = at0(bytes, stream);
        assertFalse(new MappedRamDecoder(c.at()).readHeader(c.in(), RamTesting.block(0, "pc.ram", 4L * PAGE), PAGE));
        assertEquals(HEADER, c.in().position());
        assertEquals(42, c.in().be64());
    }

    // ------------------------------------------------------------------ header checks

    private static MalformedStreamException malformed(byte[] bytes, long ramPageSize, long blockLength) {
        RamTesting.Cursor c = at0(bytes, false);
        return assertThrows(MalformedStreamException.class, () -> new MappedRamDecoder(c.at())
                .readHeader(c.in(), RamTesting.block(0, "pc.ram", blockLength), ramPageSize));
    }

    @Test
    void theVersion() {
        byte[] bytes = StreamBuilder.empty().u32(2).u64(PAGE).u64(64).u64(PAGE).zeros(8192).toByteArray();
        MalformedStreamException e = malformed(bytes, PAGE, 4L * PAGE);
        assertEquals("expected MappedRamHeader version 1, found 2", e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(HEADER, e.position(), "after the header");
    }

    @Test
    void thePageSize() {
        byte[] bytes = StreamBuilder.empty().mappedRamHeader(8192, 64, PAGE).zeros(8192).toByteArray();
        MalformedStreamException e = malformed(bytes, PAGE, 4L * PAGE);
        assertEquals("expected MappedRamHeader page size 4096, found 8192", e.problem());
        assertEquals(HEADER, e.position());
    }

    /** Header, bitmap, pages, in that order: anything else would send the cursor back. */
    @Test
    void aLayoutOutOfOrderIsRefused() {
        byte[] bitmapInHeader = StreamBuilder.empty().mappedRamHeader(PAGE, 16, PAGE).zeros(8 * PAGE).toByteArray();
        assertEquals("expected mapped-ram block 'pc.ram' to have its bitmap after its header (at or past 0x1c) and its"
                + " pages after the 8-byte bitmap, found bitmap at 0x10 and pages at 0x1000",
                malformed(bitmapInHeader, PAGE, 4L * PAGE).problem());

        byte[] pagesInBitmap = StreamBuilder.empty().mappedRamHeader(PAGE, 64, 64 + 8).zeros(8 * PAGE).toByteArray();
        MalformedStreamException e = malformed(pagesInBitmap, PAGE, 65L * PAGE);
        assertEquals("expected mapped-ram block 'pc.ram' to have its bitmap after its header (at or past 0x1c) and its"
                + " pages after the 16-byte bitmap, found bitmap at 0x40 and pages at 0x48", e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(HEADER, e.position());

        byte[] pagesBeforeBitmap = StreamBuilder.empty().mappedRamHeader(PAGE, 2 * PAGE, PAGE).zeros(8 * PAGE)
                .toByteArray();
        assertEquals("expected mapped-ram block 'pc.ram' to have its bitmap after its header (at or past 0x1c) and its"
                + " pages after the 8-byte bitmap, found bitmap at 0x2000 and pages at 0x1000",
                malformed(pagesBeforeBitmap, PAGE, 4L * PAGE).problem());

        // exactly adjacent is in order: bitmap right after the header, pages right after the bitmap
        byte[] adjacent = StreamBuilder.empty().mappedRamHeader(PAGE, HEADER, HEADER + 8).u64le(0).zeros(4 * PAGE)
                .toByteArray();
        RamTesting.Cursor c = at0(adjacent, false);
        assertTrue(new MappedRamDecoder(c.at()).readHeader(c.in(), RamTesting.block(0, "pc.ram", 4L * PAGE), PAGE));
    }

    /** A file's size is known: offsets past it are truncated input, named at the header. */
    @Test
    void offsetsOutsideTheFile() {
        StreamBuilder b = StreamBuilder.empty().u64(7); // the header at 8
        byte[] bytes = b.mappedRamHeader(PAGE, 64, PAGE).zeros(PAGE).toByteArray(); // 2 pages of 4 present
        RamTesting.Cursor c = RamTesting.cursor(bytes, false).startRecord(MigrationEvent.RAM_BLOCK);
        c.in().be64();
        TruncatedInputException e = assertThrows(TruncatedInputException.class, () -> new MappedRamDecoder(c.at())
                .readHeader(c.in(), RamTesting.block(0, "pc.ram", 4L * PAGE), PAGE));
        assertEquals("mapped-ram block 'pc.ram' has its bitmap at 0x40 and pages at 0x1000, outside the " + bytes.length
                + "-byte file", e.problem());
        assertEquals(8, e.eventOffset(), "the header that points outside");
        assertEquals(bytes.length, e.position());
    }

    /** A stream's size is not known: the same offsets fail where the stream ends, skipping to them. */
    @Test
    void offsetsOutsideAStream() {
        byte[] bytes = StreamBuilder.empty().mappedRamHeader(PAGE, 64, PAGE).zeros(PAGE).toByteArray();
        RamTesting.Cursor c = at0(bytes, true);
        TruncatedInputException e = assertThrows(TruncatedInputException.class, () -> {
            MappedRamDecoder decoder = new MappedRamDecoder(c.at());
            decoder.readHeader(c.in(), RamTesting.block(0, "pc.ram", 4L * PAGE), PAGE);
            RamPage page = new RamPage();
            page.size = PAGE;
            while (decoder.nextPage(c.in(), page)) {
                // the pages region is cut short
            }
        });
        // the bitmap is all zeros: the skip past the block's whole pages region fails
        assertEquals("expected " + 4 * PAGE + " bytes of mapped-ram pages, found the end of the input (at byte "
                + bytes.length + ")", e.problem());
        assertEquals(bytes.length, e.position());
    }

    /**
     * A bitmap claimed by a short stream is read word by word: a claim of 2^30 words (8 GiB)
     * fails where the stream ends, without allocating it; one of 2^31 words is over the limit.
     */
    @Test
    void aHugeBitmapOnAShortStream() {
        byte[] bytes = StreamBuilder.empty().mappedRamHeader(PAGE, 64, 1L << 40).zeros(1000).toByteArray();
        RamTesting.Cursor c = at0(bytes, true);
        Block huge = RamTesting.block(0, "pc.ram", (1L << 30) * 64 * PAGE);
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> new MappedRamDecoder(c.at()).readHeader(c.in(), huge, PAGE));
        assertEquals("expected 8 bytes of a 64-bit value, found the end of the input (at byte " + bytes.length + ")",
                e.problem());

        RamTesting.Cursor over = at0(StreamBuilder.empty().mappedRamHeader(PAGE, 64, 1L << 50).toByteArray(), true);
        Block larger = RamTesting.block(0, "pc.ram", (1L << 31) * 64 * PAGE);
        LimitExceededException limit = assertThrows(LimitExceededException.class,
                () -> new MappedRamDecoder(over.at()).readHeader(over.in(), larger, PAGE));
        assertEquals("too many words in the mapped-ram bitmap of block 'pc.ram': 2147483648, over the limit of "
                + (Integer.MAX_VALUE - 8) + " (see ReadLimits)", limit.problem());
    }

    // ------------------------------------------------------------------ through the reader

    /**
     * A mapped-ram stream as QEMU writes it with {@code file:} migration: the capability in the
     * CONFIGURATION record, each block's header after its entry, the stream resuming after the
     * block's pages region. Read the same from a pipe as from a file.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void fromEverySource(SourceKind kind) {
        StreamBuilder b = StreamBuilder.stream().configuration("pc-q35-9.0").capabilities("mapped-ram")
                .sectionStart(2, "ram", 0, 4).memSize(12L * PAGE);
        long ramEntry = b.position();
        b.block("pc.ram", 8L * PAGE);
        long bitmapAt = b.position() + HEADER + 100;
        long pagesAt = (bitmapAt + 8 + PAGE - 1) / PAGE * PAGE + PAGE;
        b.mappedRamHeader(PAGE, bitmapAt, pagesAt).zeros((int) (bitmapAt - b.position())).u64le(0b10000110L)
                .zeros((int) (pagesAt - b.position()));
        for (int n = 0; n < 8; n++) {
            b.bytes(StreamBuilder.pattern(PAGE, n));
        }
        long romEntry = b.position();
        byte[] bytes = b.block("pc.rom", 4L * PAGE).mappedRamHeader(PAGE, 0, 0)
                .eos().footer(2).sectionEnd(2).eos().footer(2)
                .eof().description(Json.description(PAGE)).toByteArray();

        List<RamTesting.Seen> seen = RamTesting.read(kind, bytes);
        assertEquals(5, seen.size(), seen.toString());
        assertEquals(MigrationEvent.RAM_BLOCK, seen.get(0).event());
        assertEquals(ramEntry, seen.get(0).offset());
        long[] expected = {1, 2, 7};
        for (int i = 0; i < 3; i++) {
            RamTesting.Seen page = seen.get(1 + i);
            assertEquals(MigrationEvent.RAM_PAGE, page.event());
            assertEquals("pc.ram", page.block());
            assertEquals(expected[i] * PAGE, page.pageOffset());
            assertEquals(PageEncoding.MAPPED, page.encoding());
            assertEquals(pagesAt + expected[i] * PAGE, page.sourceOffset());
            assertEquals(pagesAt + expected[i] * PAGE, page.offset());
            assertArrayEquals(StreamBuilder.pattern(PAGE, (int) expected[i]), page.bytes());
        }
        assertEquals("pc.rom", seen.get(4).block());
        assertEquals(romEntry, seen.get(4).offset());
    }

    /** Errors through the reader name the block's entry. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aHeaderErrorThroughTheReader(SourceKind kind) {
        StreamBuilder b = StreamBuilder.stream().configuration("pc").capabilities("mapped-ram")
                .sectionStart(2, "ram", 0, 4).memSize(4L * PAGE);
        long entry = b.position();
        b.block("pc.ram", 4L * PAGE);
        long header = b.position();
        byte[] bytes = b.u32(1).u64(PAGE).u64(header + 10).u64(header + 4096).zeros(5 * PAGE)
                .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> RamTesting.read(kind, bytes));
        assertEquals("expected mapped-ram block 'pc.ram' to have its bitmap after its header (at or past "
                + io.qevm.internal.Messages.hex(header + HEADER) + ") and its pages after the 8-byte bitmap, found"
                + " bitmap at " + io.qevm.internal.Messages.hex(header + 10) + " and pages at "
                + io.qevm.internal.Messages.hex(header + 4096), e.problem());
        assertEquals(entry, e.eventOffset());
        assertEquals(header + HEADER, e.position());
        assertEquals("RAM_BLOCK", e.event());
    }
}
