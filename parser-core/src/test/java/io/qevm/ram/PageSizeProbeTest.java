package io.qevm.ram;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadLimits;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PageSizeProbe}: the page size told from the RAM records themselves, the largest of 1 KiB
 * to 64 KiB with which the records ahead read as QEMU writes them.
 */
final class PageSizeProbeTest {

    private static final int MAX_COMPRESSED = ReadLimits.DEFAULT.maxCompressedPageBytes();

    private BlockTable blocks;

    /** A block table with "pc.ram" of {@code ramBytes} and "vga.vram" of 64 KiB. */
    private BlockTable blocks(long ramBytes) {
        blocks = new BlockTable(ReadLimits.DEFAULT, new io.qevm.io.ReadLocation());
        add("pc.ram", ramBytes);
        add("vga.vram", 1 << 16);
        return blocks;
    }

    private Block add(String name, long length) {
        Block block = blocks.findOrAdd(name, name.getBytes(StandardCharsets.UTF_8));
        block.length = length;
        return block;
    }

    /** Probes {@code records} (the first one's header read, as the RAM section has it), on a heap and on a stream. */
    private long probe(byte[] records, Block last) {
        return probe(records, last, -1);
    }

    /** As {@link #probe(byte[], Block)}, with a size the user gave (or -1). */
    private long probe(byte[] records, Block last, long given) {
        long onHeap = probeOn(records, last, false, given);
        assertEquals(onHeap, probeOn(records, last, true, given), "a stream tells the same");
        return onHeap;
    }

    private long probeOn(byte[] records, Block last, boolean stream, long given) {
        RamTesting.Cursor c = RamTesting.cursor(records, stream).startRecord(null);
        c.in().be64();
        long size = PageSizeProbe.probe(c.in(), 0, blocks, last, MAX_COMPRESSED, given);
        assertEquals(8, c.in().position(), "the probe reads ahead without moving");
        return size;
    }

    private static StreamBuilder records() {
        return StreamBuilder.empty();
    }

    // ------------------------------------------------------------------ told right

    @ParameterizedTest
    @ValueSource(ints = {1024, 2048, 4096, 16384, 65536})
    void pagesOfEachSize(int pageSize) {
        blocks(64L * pageSize);
        // a page at an odd page number, then CONTINUE pages, a zero page, EOS
        byte[] bytes = records().page(3L * pageSize, "pc.ram", StreamBuilder.pattern(pageSize, 1))
                .page(4L * pageSize, null, StreamBuilder.pattern(pageSize, 2))
                .zeroPage(7L * pageSize, null, 0)
                .page(9L * pageSize, null, StreamBuilder.pattern(pageSize, 3))
                .eos().toByteArray();
        assertEquals(pageSize, probe(bytes, null));
    }

    /** A page of data read with a wrong size puts the next record in the middle of data. */
    @Test
    void aPageFirstAtAddressZero() {
        blocks(1 << 20);
        byte[] bytes = records().page(0, "pc.ram", StreamBuilder.pattern(4096, 9))
                .page(1L << 16, null, StreamBuilder.pattern(4096, 10))
                .eos().toByteArray();
        assertEquals(4096, probe(bytes, null), "64 KiB reads the first page, not the second record");
    }

    @Test
    void aOneKibPageStreamAsA32BitArmBoardSendsIt() {
        blocks(1 << 20);
        StreamBuilder b = records();
        for (int n = 0; n < 40; n++) {
            b.page(n * 1024L, n == 0 ? "pc.ram" : null, StreamBuilder.pattern(1024, n));
        }
        assertEquals(1024, probe(b.eos().toByteArray(), null));
    }

    /**
     * Zero pages do not depend on the size: an address of an odd page rules out larger sizes;
     * where nothing tells the sizes apart, 4 KiB (nearly every machine's), or the size given.
     */
    @Test
    void zeroPagesOnly() {
        blocks(1 << 20);
        byte[] odd = records().zeroPage(0, "pc.ram", 0).zeroPage(5L * 4096, null, 0).zeroPage(8L * 4096, null, 0)
                .eos().toByteArray();
        assertEquals(4096, probe(odd, null), "4 KiB page 5 rules out 8 KiB and up");
        byte[] oddKib = records().zeroPage(0, "pc.ram", 0).zeroPage(5L * 1024, null, 0).eos().toByteArray();
        assertEquals(1024, probe(oddKib, null), "1 KiB page 5 rules out 2 KiB and up, 4 KiB too");
        byte[] aligned = records().zeroPage(0, "pc.ram", 0).zeroPage(3L << 16, null, 0).eos().toByteArray();
        assertEquals(4096, probe(aligned, null), "nothing tells the pages apart: 4 KiB, which reads them");
        assertEquals(1024, probe(aligned, null, 1024), "nothing tells them apart: the size given");
        assertEquals(4096, probe(odd, null, 8192), "a size given that page 5 rules out: not taken");
    }

    /** A size given is taken when the records read as its pages, and not when they do not. */
    @Test
    void aSizeGiven() {
        blocks(1 << 20);
        byte[] pages = records().page(0, "pc.ram", new byte[4096]).page(4096, null, new byte[4096]).eos()
                .toByteArray();
        assertEquals(4096, probe(pages, null, 4096));
        assertEquals(4096, probe(pages, null, 8192), "8 KiB pages do not read 4 KiB ones: the records tell");
        assertEquals(4096, probe(pages, null, 1024), "nor do 1 KiB ones");
    }

    /**
     * A RAM scan starts with runs of zero pages, which every size up to the page size reads: the
     * first page of data, perhaps 100,000 records in, is what contradicts a size given too small.
     * The probe reads every record of its look ahead (j-suppress-vmdesc with 2 KiB given read
     * 16,384 of them, took 2 KiB, and failed later on its first data page).
     */
    @Test
    void aSizeGivenTooSmallIsContradictedByTheFirstDataPageFarAhead() {
        int zeroPages = 100_000; // 9 bytes each: 900 kB, inside the 1 MiB look ahead
        blocks((zeroPages + 2L) * 4096);
        StreamBuilder b = records().zeroPage(0, "pc.ram", 0);
        for (long n = 1; n < zeroPages; n++) {
            b.zeroPage(n * 4096, null, 0);
        }
        byte[] bytes = b.page(zeroPages * 4096L, null, StreamBuilder.pattern(4096, 7)).eos().toByteArray();
        assertEquals(4096, probe(bytes, null, 2048), "the data page is not a 2 KiB one");
        assertEquals(4096, probe(bytes, null, 1024));
        assertEquals(4096, probe(bytes, null));
        assertEquals(4096, probe(bytes, null, 4096));
    }

    /** Zero pages only show that a size is not ruled out; a page of data read as one of the size is evidence. */
    @Test
    void dataPagesConfirmASize() {
        blocks(1 << 20);
        byte[] zeros = records().zeroPage(0, "pc.ram", 0).zeroPage(4096, null, 0).eos().toByteArray();
        byte[] data = records().zeroPage(0, "pc.ram", 0).page(4096, null, new byte[4096]).eos().toByteArray();
        assertEquals(false, readsDataPages(zeros, 4096));
        assertEquals(true, readsDataPages(data, 4096));
        assertEquals(false, readsDataPages(data, 2048), "2 KiB does not read them at all");
    }

    private boolean readsDataPages(byte[] records, long size) {
        boolean onHeap = readsDataPagesOn(records, size, false);
        assertEquals(onHeap, readsDataPagesOn(records, size, true), "a stream tells the same");
        return onHeap;
    }

    private boolean readsDataPagesOn(byte[] records, long size, boolean stream) {
        RamTesting.Cursor c = RamTesting.cursor(records, stream).startRecord(null);
        c.in().be64();
        boolean reads = PageSizeProbe.readsDataPages(c.in(), 0, blocks, null, MAX_COMPRESSED, size);
        assertEquals(8, c.in().position(), "reads ahead without moving");
        return reads;
    }

    @Test
    void continueUsesTheBlockOfTheRecordBefore() {
        blocks(1 << 20);
        Block vram = blocks.named("vga.vram");
        byte[] bytes = records().page(5L * 4096, null, new byte[4096]).zeroPage(15L * 4096, null, 0).eos()
                .toByteArray();
        assertEquals(4096, probe(bytes, vram));
        assertEquals(-1, probe(bytes, null), "CONTINUE before any block: no size reads it");
        byte[] pastVram = records().page(16L * 4096, null, new byte[4096]).eos().toByteArray();
        assertEquals(-1, probe(pastVram, vram), "page 16 lies past the 64 KiB block");
    }

    @Test
    void xbzrleFirst() {
        blocks(1 << 20);
        byte[] delta = {0, 3, 1, 2, 3};
        byte[] bytes = records().xbzrlePage(3L * 2048, "pc.ram", delta).xbzrlePage(0, null, delta)
                .page(2048, null, new byte[2048]).eos().toByteArray();
        assertEquals(2048, probe(bytes, null));
        byte[] longDelta = records().ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram").u8(1).u16(5000)
                .bytes(new byte[5000]).eos().toByteArray();
        assertEquals(65536, probe(longDelta, null), "5000 bytes rule out pages up to 4 KiB only");
        byte[] tooLong = records().ramHeader(4096, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram").u8(1).u16(5000)
                .bytes(new byte[5000]).eos().toByteArray();
        assertEquals(-1, probe(tooLong, null), "longer than 4 KiB at a 4 KiB page that rules out 8 KiB and up");
        byte[] wrongFlag = records().ramHeader(4096, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram").u8(2).u16(3)
                .bytes(0, 1, 9).eos().toByteArray();
        assertEquals(-1, probe(wrongFlag, null), "not ENCODING_FLAG_XBZRLE");
    }

    @Test
    void compressedFirst() {
        blocks(1 << 20);
        byte[] bytes = records().compressedPage(4096, "pc.ram", StreamBuilder.zlib(new byte[4096]))
                .compressedPage(3L * 4096, null, StreamBuilder.zlib(StreamBuilder.pattern(4096, 4)))
                .eos().toByteArray();
        assertEquals(4096, probe(bytes, null));
        byte[] huge = records().ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE, "pc.ram")
                .u32(MAX_COMPRESSED + 1L).eos().toByteArray();
        assertEquals(-1, probe(huge, null), "a length over the compressed-page limit");
    }

    @Test
    void multifdFlushAndAMemSizeAreReadThrough() {
        blocks(1 << 20);
        byte[] flush = records().page(4096, "pc.ram", new byte[4096]).multifdFlush().page(3L * 4096, null, new byte[4096])
                .eos().toByteArray();
        assertEquals(4096, probe(flush, null));
        byte[] memSize = records().page(4096, "pc.ram", new byte[4096]).memSize(1 << 20).block("pc.ram", 1 << 20)
                .toByteArray();
        assertEquals(4096, probe(memSize, null), "a new block list ends what is checked");
    }

    // ------------------------------------------------------------------ none, or cut short

    @Test
    void noSizeReadsThem() {
        blocks(1 << 20);
        assertEquals(-1, probe(records().ramHeader(4096, 0x080, "pc.ram").eos().toByteArray(), null),
                "RAM_SAVE_FLAG_HOOK is not a page");
        assertEquals(-1, probe(records().zeroPage(0, "rom", 0).eos().toByteArray(), null), "a block not listed");
        assertEquals(-1, probe(records().zeroPage(1L << 20, "pc.ram", 0).eos().toByteArray(), null),
                "past the block's end");
        assertEquals(-1, probe(records().u64(0x4000_0001L).eos().toByteArray(), null), "flag bits no size allows");
    }

    /**
     * Where the data ends (not the look ahead), a record must end too: a stream cut in a page's
     * data reads as no size strictly, and then leniently as the largest, so that reading it
     * fails as truncated input rather than as a stream of no page size.
     */
    @Test
    void aStreamCutShort() {
        blocks(1 << 20);
        byte[] whole = records().page(4096, "pc.ram", new byte[4096]).page(3L * 4096, null, new byte[4096]).eos()
                .toByteArray();
        assertEquals(4096, probe(whole, null));
        byte[] cut = java.util.Arrays.copyOf(whole, 8 + 7 + 4096 + 8 + 2000);
        assertEquals(4096, probe(cut, null), "leniently: 4 KiB still reads every record that is there");
        byte[] cutInFirst = java.util.Arrays.copyOf(whole, 8 + 7 + 1000);
        assertEquals(4096, probe(cutInFirst, null), "the address of a 4 KiB page rules out 8 KiB and up");
        byte[] atZero = records().page(0, "pc.ram", new byte[4096]).cut(8 + 7 + 1000);
        assertEquals(65536, probe(atZero, null), "nothing tells: the largest, and the read then fails");
    }

    // ------------------------------------------------------------------ through the reader

    /**
     * A stream whose page size nothing else gives (no description on a pipe, no
     * target-page-bits): the reader learns it from the records, on every source, and the
     * description at the end agrees.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void theReaderLearnsThePageSize(SourceKind kind) {
        byte[] first = StreamBuilder.pattern(2048, 1);
        byte[] bytes = StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize(1 << 16).block("pc.ram", 1 << 16)
                .page(2048, "pc.ram", first).zeroPage(3L * 2048, null, 0).eos().footer(2)
                .eof().description(StreamBuilder.Json.description(2048)).toByteArray();
        ReadOptions options = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        try (MigrationReader reader = kind.open(bytes, options)) {
            MigrationEvent e = reader.next();
            while (e != MigrationEvent.RAM_PAGE) {
                e = reader.next();
            }
            assertEquals(2048, reader.pageSize());
            assertEquals(2048, reader.pageOffset());
            byte[] page = new byte[2048];
            reader.copyPage(page, 0);
            assertArrayEquals(first, page);
            assertEquals(MigrationEvent.ZERO_PAGE, reader.next());
            assertEquals(3L * 2048, reader.pageOffset());
        }
    }

    /** Without a description, a stream cut in its first page fails as truncated, not as of no page size. */
    @Test
    void aCutStreamThroughTheReaderIsTruncated() {
        StreamBuilder b = StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize(1 << 20).block("pc.ram", 1 << 20);
        long record = b.position();
        byte[] bytes = b.page(4096, "pc.ram", new byte[4096]).cut(record + 8 + 7 + 1000);
        ReadOptions options = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        for (SourceKind kind : List.of(SourceKind.HEAP, SourceKind.STREAM)) {
            TruncatedInputException e = assertThrows(TruncatedInputException.class, () -> {
                try (MigrationReader reader = kind.open(bytes, options)) {
                    while (reader.next() != MigrationEvent.EOF) {
                        // to the cut
                    }
                }
            });
            assertEquals(record, e.eventOffset(), kind.name());
            assertEquals(bytes.length, e.position(), kind.name());
            assertEquals("expected 4096 bytes of page, found the end of the file (at byte " + bytes.length + ")",
                    SourceKind.sameForEveryKind(e.problem()));
        }
    }

    @Test
    void noPageSizeThroughTheReader() {
        StreamBuilder b = StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize(1 << 20).block("pc.ram", 1 << 20);
        long record = b.position();
        byte[] bytes = b.zeroPage(2L << 20, "pc.ram", 0).eos().footer(2).toByteArray(); // past the 1 MiB block
        ReadOptions options = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> {
            try (MigrationReader reader = MigrationReader.open(bytes, options)) {
                while (reader.next() != MigrationEvent.EOF) {
                    // to the record
                }
            }
        });
        assertEquals(record, e.eventOffset());
        assertEquals("cannot tell the RAM page size: the stream gives none before its pages (no page_size in a JSON"
                + " description, no target-page-bits), and its RAM records read as pages of none of 1 KiB to 64 KiB;"
                + " give it (qevm --page-size N)", e.problem());
    }
}
