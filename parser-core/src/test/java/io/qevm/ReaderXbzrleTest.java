package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.deflate;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.fields;
import static io.qevm.ReaderTests.lendPages;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.ReaderTests.skip;
import static io.qevm.StreamBuilder.filled;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * XBZRLE pages (RAM_SAVE_FLAG_XBZRLE) from every {@link SourceKind}. A delta applies to the
 * page's previous copy: a file or an array reads it again from the source (an index made on the
 * first delta); a stream cannot, so the test lends it a {@link KeptPages} store and hands it
 * every page, as a consumer must ({@link ReaderTests#lendPages}). Without a store a stream's
 * delta cannot be applied, which is tested explicitly.
 */
final class ReaderXbzrleTest {

    private static final String NEEDS_STORE = "an XBZRLE page read from a stream needs the page's earlier copy,"
            + " which a stream cannot read again: give the reader a PageStore (MigrationReader.setPageStore)"
            + " that keeps every page";

    /**
     * XBZRLE deltas apply to the page's last copy: a raw page from an earlier part, zero for
     * a page never sent, an earlier delta, a fill byte, an inflated page.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void xbzrleDeltaAppliesToTheLastCopy(SourceKind kind) throws Exception {
        byte[] raw = pattern(PAGE, 1);
        byte[] compressed = pattern(PAGE, 99);
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x5000L);
        b.sectionPart(1).page(0, "pc.ram", raw).zeroPage(0x2000, null, 0x11)
                .compressedPage(0x3000, null, deflate(compressed, 6)).eos().footer(1);
        b.sectionPart(1);
        long firstDeltaAt = b.position();
        b.xbzrlePage(0, "pc.ram", new byte[] {0x10, 0x03, (byte) 0xaa, (byte) 0xbb, (byte) 0xcc})
                .xbzrlePage(0x1000, null, new byte[] {0x00, 0x02, 0x44, 0x55})
                .xbzrlePage(0, null, new byte[] {(byte) 0x81, 0x01, 0x01, (byte) 0xee})
                .xbzrlePage(0x2000, null, new byte[] {0x05, 0x01, 0x77})
                .xbzrlePage(0x3000, null, new byte[] {(byte) 0xff, 0x1f, 0x01, 0x66})
                .eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();

        byte[] page0 = raw.clone();
        page0[16] = (byte) 0xaa;
        page0[17] = (byte) 0xbb;
        page0[18] = (byte) 0xcc;
        byte[] page1 = new byte[PAGE];
        page1[0] = 0x44;
        page1[1] = 0x55;
        byte[] page0again = page0.clone();
        page0again[129] = (byte) 0xee;
        byte[] page2 = filled(PAGE, 0x11);
        page2[5] = 0x77;
        byte[] page3 = compressed.clone();
        page3[0xfff] = 0x66; // unchanged run 0x7f | 0x1f << 7 = 4095

        try (MigrationReader reader = kind.open(bytes)) {
            KeptPages kept = lendPages(reader);
            skip(reader, 11, kept);
            assertEquals(MigrationEvent.SECTION_START, reader.currentEvent());
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertEquals(firstDeltaAt, reader.eventOffset());
            assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
            assertEquals(-1, reader.pageSourceOffset());
            assertEquals(0, reader.pageOffset());
            assertArrayEquals(page0, bytes(reader.page()), "delta on a raw page of an earlier part");
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertEquals(0x1000, reader.pageOffset());
            assertArrayEquals(page1, bytes(reader.page()), "delta on a page never sent (zero)");
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page0again, bytes(reader.page()), "delta on a delta");
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page2, bytes(reader.page()), "delta on a fill-byte page");
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page3, bytes(reader.page()), "delta on a compressed page");
            expect(reader, MigrationEvent.SECTION_END);
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.EOF);
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void xbzrleAfterARawPageOfTheSameRecord(SourceKind kind) throws Exception {
        byte[] raw = pattern(PAGE, 4);
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x2000L);
        b.sectionEnd(1).page(0x1000, "pc.ram", raw).xbzrlePage(0x1000, null, new byte[] {0x01, 0x01, 0x00})
                .eos().footer(1);
        byte[] expected = raw.clone();
        expected[1] = 0;
        try (MigrationReader reader = kind.open(b.eof().description(desc()).toByteArray())) {
            KeptPages kept = lendPages(reader);
            skip(reader, 6, kept);
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
            assertArrayEquals(expected, bytes(reader.page()));
        }
    }

    /**
     * The first delta makes the reader look back over the whole stream before it: the
     * configuration (x-ignore-shared), the postcopy page sizes and device sections must be
     * read there as they were the first time.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void xbzrleAfterConfigurationCommandsAndDevices(SourceKind kind) throws Exception {
        String configuration = Json.configuration("pc-q35-8.2",
                Json.struct("configuration/capabilities", 1,
                        fields(Json.field("caps_count", "uint32", 4),
                                Json.field("capabilities", "capability", 16))));
        byte[] raw = pattern(PAGE, 77);
        StreamBuilder b = StreamBuilder.libvirt("<domain/>").configuration("pc-q35-8.2")
                .capabilities("x-ignore-shared").postcopyAdvise(0x201000, 0x1000);
        b.sectionStart(2, "ram", 0, 4).memSize(0x400000 + 0x40000)
                .block("mem-huge", 0x400000).blockPageSize(0x200000).mrAddr(0)
                .block("pc.bios", 0x40000).mrAddr(0xfffc0000L)
                .eos().footer(2);
        b.sectionPart(2).page(0x3000, "pc.bios", raw).eos().footer(2);
        b.sectionFull(5, "timer", 0, 2).u64(1).footer(5);
        b.sectionPart(2).xbzrlePage(0x3000, "pc.bios", new byte[] {0x00, 0x02, 0x10, 0x20}).eos().footer(2);
        byte[] bytes = b.eof().description(Json.descriptionWithConfiguration(PAGE, configuration,
                Json.device("timer", 0, 2, Json.field("t", "int64", 8)))).toByteArray();
        byte[] expected = raw.clone();
        expected[0] = 0x10;
        expected[1] = 0x20;
        try (MigrationReader reader = kind.open(bytes)) {
            KeptPages kept = lendPages(reader);
            for (MigrationEvent e = reader.next(); e != MigrationEvent.RAM_PAGE
                    || reader.pageEncoding() != PageEncoding.XBZRLE; e = reader.next()) {
                assertTrue(e != MigrationEvent.EOF, "no XBZRLE page before EOF");
                if (kept != null && e == MigrationEvent.RAM_PAGE) {
                    kept.keep(reader);
                }
            }
            assertEquals("pc.bios", reader.blockName());
            assertArrayEquals(expected, bytes(reader.page()));
        }
    }

    /** Once deltas have been seen, every later copy of a page (raw, zero, inflated) is the new base. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void lastCopyWinsAfterTheFirstDelta(SourceKind kind) throws Exception {
        byte[] a = pattern(PAGE, 1);
        byte[] bNew = pattern(PAGE, 2);
        byte[] c = pattern(PAGE, 3);
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x2000L);
        b.sectionPart(1)
                .page(0, "pc.ram", a)
                .xbzrlePage(0x1000, null, new byte[] {0x00, 0x01, (byte) 0x99})
                .page(0, null, bNew)
                .xbzrlePage(0, null, new byte[] {0x00, 0x01, 0x42})
                .zeroPage(0, null, 0)
                .xbzrlePage(0, null, new byte[] {0x02, 0x01, 0x43})
                .zeroPage(0x1000, null, 0x22)
                .xbzrlePage(0x1000, null, new byte[] {0x00, 0x01, 0x01})
                .compressedPage(0x1000, null, deflate(c, 6))
                .xbzrlePage(0x1000, null, new byte[] {0x03, 0x01, 0x07})
                .eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        byte[] page1 = new byte[PAGE];
        page1[0] = (byte) 0x99;
        byte[] page0OnB = bNew.clone();
        page0OnB[0] = 0x42;
        byte[] page0OnZero = new byte[PAGE];
        page0OnZero[2] = 0x43;
        byte[] page1OnFill = filled(PAGE, 0x22);
        page1OnFill[0] = 1;
        byte[] page1OnC = c.clone();
        page1OnC[3] = 7;
        try (MigrationReader reader = kind.open(bytes)) {
            KeptPages kept = lendPages(reader);
            skip(reader, 5, kept);
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(a, bytes(reader.page()));
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page1, bytes(reader.page()), "first delta, on a page never sent");
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(bNew, bytes(reader.page()));
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page0OnB, bytes(reader.page()), "delta on the raw copy sent after the first delta");
            expect(reader, MigrationEvent.ZERO_PAGE, kept);
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page0OnZero, bytes(reader.page()), "delta on a zero page that replaced a delta");
            expect(reader, MigrationEvent.ZERO_PAGE, kept);
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page1OnFill, bytes(reader.page()), "delta on a fill page");
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(c, bytes(reader.page()));
            expect(reader, MigrationEvent.RAM_PAGE, kept);
            assertArrayEquals(page1OnC, bytes(reader.page()), "delta on an inflated page");
            expect(reader, MigrationEvent.SECTION_END);
        }
    }


    // ------------------------------------------------------------------ where the earlier copies come from

    /** A raw page, then a delta on it: the second page's bytes need the first's. */
    static byte[] rawThenDelta(byte[] raw) {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x2000L);
        b.sectionPart(1).page(0x1000, "pc.ram", raw).eos().footer(1);
        b.sectionEnd(1).xbzrlePage(0x1000, "pc.ram", new byte[] {0x02, 0x02, 0x5a, 0x5b}).eos().footer(1);
        return b.eof().description(desc()).toByteArray();
    }

    static byte[] withDelta(byte[] base) {
        byte[] page = base.clone();
        page[2] = 0x5a;
        page[3] = 0x5b;
        return page;
    }

    /**
     * Without a store, a file or an array decodes the delta from the source; a stream returns the
     * event and its metadata, but its bytes are an IllegalStateException naming PageStore (a
     * misuse, not bad input: the reader reads on).
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void withoutAStoreOnlyARandomAccessSourceDecodesADelta(SourceKind kind) {
        byte[] raw = pattern(PAGE, 21);
        try (MigrationReader reader = kind.open(rawThenDelta(raw))) {
            skip(reader, 9);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
            assertEquals(0x1000, reader.pageOffset());
            assertEquals("pc.ram", reader.blockName());
            assertEquals(-1, reader.pageSourceOffset());
            if (kind == SourceKind.STREAM) {
                assertEquals(NEEDS_STORE, assertThrowsExactly(IllegalStateException.class, reader::pageData)
                        .getMessage());
                assertEquals(NEEDS_STORE, assertThrowsExactly(IllegalStateException.class, reader::page).getMessage());
                assertEquals(NEEDS_STORE, assertThrowsExactly(IllegalStateException.class, reader::pageDataOffset)
                        .getMessage());
                assertEquals(NEEDS_STORE, assertThrowsExactly(IllegalStateException.class,
                        () -> reader.copyPage(new byte[PAGE], 0)).getMessage());
                assertEquals(NEEDS_STORE, assertThrowsExactly(IllegalStateException.class,
                        () -> reader.copyPage(ByteBuffer.allocate(PAGE))).getMessage());
            } else {
                assertArrayEquals(withDelta(raw), bytes(reader.page()));
            }
            expect(reader, MigrationEvent.SECTION_END);
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.EOF);
        }
    }

    /** A store that kept every page: the stream's delta decodes as the file's does. */
    @Test
    void aStreamWithKeptPagesDecodesTheDelta() {
        byte[] raw = pattern(PAGE, 22);
        try (MigrationReader reader = SourceKind.STREAM.open(rawThenDelta(raw))) {
            KeptPages kept = new KeptPages();
            reader.setPageStore(kept);
            skip(reader, 9, kept);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertArrayEquals(withDelta(raw), bytes(reader.page()));
            assertArrayEquals(withDelta(raw), bytes(reader.page()), "asked twice, the delta is applied once");
        }
    }

    /** A store set on a file is used instead of the file: the delta applies to what it lends. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aStoreIsAskedForTheBlockAndOffsetOfTheDelta(SourceKind kind) {
        byte[] lent = filled(PAGE, 0x33);
        StringBuilder asked = new StringBuilder();
        try (MigrationReader reader = kind.open(rawThenDelta(pattern(PAGE, 23)))) {
            reader.setPageStore((block, offset, into) -> {
                asked.append(block).append('@').append(Long.toHexString(offset)).append(' ');
                assertEquals(PAGE, into.byteSize());
                into.copyFrom(java.lang.foreign.MemorySegment.ofArray(lent));
            });
            skip(reader, 10);
            assertEquals(MigrationEvent.RAM_PAGE, reader.currentEvent());
            assertEquals("", asked.toString(), "nothing asked before the page's bytes are");
            assertArrayEquals(withDelta(lent), bytes(reader.page()));
            assertEquals("pc.ram@1000 ", asked.toString());
        }
    }

    /** A store's IOException reaches the caller of pageData() unchecked, with its cause. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aStoreThatCannotReadFailsThePageData(SourceKind kind) {
        IOException broken = new IOException("spool gone");
        try (MigrationReader reader = kind.open(rawThenDelta(pattern(PAGE, 24)))) {
            reader.setPageStore((block, offset, into) -> {
                throw broken;
            });
            skip(reader, 10);
            UncheckedIOException e = assertThrowsExactly(UncheckedIOException.class, reader::pageData);
            assertSame(broken, e.getCause());
        }
    }

    /** setPageStore(null) takes the store back: a stream cannot decode again, a file reads its source. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aStoreTakenBackLeavesTheSource(SourceKind kind) {
        byte[] raw = pattern(PAGE, 25);
        try (MigrationReader reader = kind.open(rawThenDelta(raw))) {
            reader.setPageStore(new KeptPages());
            reader.setPageStore(null);
            skip(reader, 10);
            if (kind == SourceKind.STREAM) {
                assertEquals(NEEDS_STORE, assertThrowsExactly(IllegalStateException.class, reader::page).getMessage());
            } else {
                assertArrayEquals(withDelta(raw), bytes(reader.page()));
            }
        }
    }
}
