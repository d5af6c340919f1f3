package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.deflate;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.fields;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.ReaderTests.skip;
import static io.qevm.ReaderTests.trace;
import static io.qevm.StreamBuilder.filled;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The RAM section from every {@link SourceKind}: the block list, raw, zero and compressed pages,
 * CONTINUE, multifd flushes, 1 KiB pages, x-ignore-shared, postcopy page sizes and mapped-ram.
 * XBZRLE, which needs the pages' earlier copies, is {@link ReaderXbzrleTest}'s.
 */
final class ReaderRamTest {

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void blockListLengthsAddUpToTheTotal(SourceKind kind) throws Exception {
        StreamBuilder b = stream();
        long startAt = b.position();
        b.sectionStart(1, "ram", 0, 4).memSize(0x20000L + 0x40000 + 0x1000);
        long firstAt = b.position();
        b.block("pc.ram", 0x20000).block("pc.bios", 0x40000);
        long thirdAt = b.position();
        b.block("/rom@etc/acpi/tables", 0x1000);
        long eosAt = b.position();
        b.eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            assertEquals(startAt, reader.eventOffset());
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals(firstAt, reader.eventOffset());
            assertEquals("pc.ram", reader.blockName());
            assertEquals(0x20000, reader.blockLength());
            assertEquals(-1, reader.blockPageSize());
            assertEquals(-1, reader.blockMrAddr());
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("pc.bios", reader.blockName());
            assertEquals(0x40000, reader.blockLength());
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals(thirdAt, reader.eventOffset());
            assertEquals("/rom@etc/acpi/tables", reader.blockName());
            assertEquals(eosAt, reader.position());
            expect(reader, MigrationEvent.SECTION_END);
            assertEquals(eosAt, reader.eventOffset());
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.EOF);
        }
    }

    @Test
    void blockNamesOf128To255BytesAreUnsignedLengths() {
        String name = "b".repeat(200);
        StreamBuilder b = stream();
        ramSetup(b, 1, name, 0x2000L);
        b.sectionEnd(1).page(0x1000, name, filled(PAGE, 1)).eos().footer(1);
        assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK " + name + " 0x2000", "SECTION_END",
                "FOOTER #1", "SECTION_START END ram #1", "RAM_PAGE " + name + "@0x1000 RAW", "SECTION_END",
                "FOOTER #1", "EOF"), trace(b.eof().description(desc()).toByteArray()));
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void zeroPageWithItsFillByte(SourceKind kind) throws Exception {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x4000L);
        b.sectionPart(1);
        long zeroAt = b.position();
        b.zeroPage(0x3000, "pc.ram", 0xa5).eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            skip(reader, 5);
            expect(reader, MigrationEvent.ZERO_PAGE);
            assertEquals(zeroAt, reader.eventOffset());
            assertEquals(zeroAt + 8 + 1 + 6 + 1, reader.position());
            assertEquals("pc.ram", reader.blockName());
            assertEquals(0x3000, reader.pageOffset());
            assertEquals(PAGE, reader.pageSize());
            assertEquals(0xa5, reader.fillByte());
            assertThrows(IllegalStateException.class, reader::page);
            assertThrows(IllegalStateException.class, reader::pageData);
            expect(reader, MigrationEvent.SECTION_END);
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void pageContentAsViewAndSegmentOffset(SourceKind kind) throws Exception {
        byte[] data = pattern(PAGE, 3);
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x4000L);
        b.sectionPart(1);
        long pageAt = b.position();
        b.page(0x2000, "pc.ram", data);
        long afterPage = b.position();
        b.eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            skip(reader, 5);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(pageAt, reader.eventOffset());
            assertEquals(afterPage, reader.position());
            assertEquals("pc.ram", reader.blockName());
            assertEquals(0x2000, reader.pageOffset());
            assertEquals(PAGE, reader.pageSize());
            assertEquals(PageEncoding.RAW, reader.pageEncoding());
            long dataAt = pageAt + 8 + 1 + "pc.ram".length();
            assertEquals(dataAt, reader.pageSourceOffset());
            assertArrayEquals(data, bytes(reader.page()));
            assertEquals(PAGE, reader.page().byteSize());
            MemorySegment segment = reader.pageData();
            long offset = reader.pageDataOffset();
            assertArrayEquals(data, bytes(segment.asSlice(offset, PAGE)));
            if (reader.isRandomAccess()) {
                assertArrayEquals(data, bytes(reader.bytesAt(dataAt, PAGE)));
            } else {
                // a stream tells where the page lay, but has passed it
                assertThrows(IllegalStateException.class, () -> reader.bytesAt(dataAt, PAGE));
            }
            assertEquals(kind != SourceKind.STREAM, reader.isRandomAccess());
            assertThrows(IllegalStateException.class, reader::fillByte);
            expect(reader, MigrationEvent.SECTION_END);
        }
    }

    @Test
    void continueReusesThePreviousBlock() throws Exception {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x4000L, "pc.bios", 0x2000L);
        b.sectionPart(1)
                .page(0, "pc.bios", filled(PAGE, 1))
                .zeroPage(0x1000, null, 0)
                .page(0x1000, "pc.ram", filled(PAGE, 2))
                .page(0x2000, null, filled(PAGE, 3))
                .zeroPage(0x3000, null, 0)
                .eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x4000", "RAM_BLOCK pc.bios 0x2000",
                "SECTION_END", "FOOTER #1", "SECTION_START PART ram #1",
                "RAM_PAGE pc.bios@0x0 RAW", "ZERO_PAGE pc.bios@0x1000 fill=0x0",
                "RAM_PAGE pc.ram@0x1000 RAW", "RAM_PAGE pc.ram@0x2000 RAW", "ZERO_PAGE pc.ram@0x3000 fill=0x0",
                "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
    }

    @Test
    void continueCarriesOverIntoTheNextPart() {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x4000L);
        b.sectionPart(1).page(0, "pc.ram", filled(PAGE, 1)).eos().footer(1);
        b.sectionEnd(1).page(0x1000, null, filled(PAGE, 2)).eos().footer(1);
        List<String> events = trace(b.eof().description(desc()).toByteArray());
        assertEquals("RAM_PAGE pc.ram@0x1000 RAW", events.get(events.size() - 4));
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void multifdFlushIsIgnored(SourceKind kind) throws Exception {
        StreamBuilder b = stream();
        b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("pc.ram", 0x2000).multifdFlush();
        long eosAt = b.position();
        b.eos().footer(1);
        b.sectionEnd(1).multifdFlush().multifdFlush();
        long zeroAt = b.position();
        b.zeroPage(0x1000, "pc.ram", 0).multifdFlush().eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x2000", "SECTION_END", "FOOTER #1",
                "SECTION_START END ram #1", "ZERO_PAGE pc.ram@0x1000 fill=0x0", "SECTION_END", "FOOTER #1",
                "EOF"), trace(bytes));
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.RAM_BLOCK);
            expect(reader, MigrationEvent.SECTION_END);
            assertEquals(eosAt, reader.eventOffset(), "SECTION_END at the EOS, past the flush");
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.ZERO_PAGE);
            assertEquals(zeroAt, reader.eventOffset());
        }
    }

    @Test
    void eosEndsTheRecordEvenWithNoPages() {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x1000L);
        b.sectionPart(1).eos().footer(1).sectionPart(1).eos().footer(1);
        assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x1000", "SECTION_END", "FOOTER #1",
                "SECTION_START PART ram #1", "SECTION_END", "FOOTER #1",
                "SECTION_START PART ram #1", "SECTION_END", "FOOTER #1", "EOF"),
                trace(b.eof().description(desc()).toByteArray()));
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void oneKibPagesTakeTheLowTenBitsAsFlags(SourceKind kind) throws Exception {
        byte[] data = pattern(1024, 9);
        StreamBuilder b = stream();
        b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("ram", 0x2000).multifdFlush().eos().footer(1);
        long pageAt = b.position();
        b.sectionEnd(1).page(0x400, "ram", data).zeroPage(0xc00, null, 0).eos().footer(1);
        byte[] bytes = b.eof().description(Json.description(1024)).toByteArray();
        assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK ram 0x2000", "SECTION_END", "FOOTER #1",
                "SECTION_START END ram #1", "RAM_PAGE ram@0x400 RAW", "ZERO_PAGE ram@0xc00 fill=0x0",
                "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
        try (MigrationReader reader = kind.open(bytes)) {
            // a file's description gives the size at once; a stream's comes last: the records tell it
            assertEquals(kind == SourceKind.STREAM ? -1 : 1024, reader.ramPageSize());
            skip(reader, 5);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(pageAt + 5, reader.eventOffset());
            assertEquals(1024, reader.pageSize());
            assertEquals(1024, reader.ramPageSize());
            assertArrayEquals(data, bytes(reader.page()));
            expect(reader, MigrationEvent.ZERO_PAGE);
            assertEquals(pageAt + 5 + 8 + 4 + 1024, reader.eventOffset());
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void ignoreSharedMrAddrAfterEachLength(SourceKind kind) throws Exception {
        StreamBuilder b = stream().configuration("pc-i440fx-7.2").capabilities("x-ignore-shared");
        b.sectionStart(1, "ram", 0, 4).memSize(0x8000 + 0x4000)
                .block("pc.ram", 0x8000).mrAddr(0)
                .block("pc.bios", 0x4000).mrAddr(0xfffc0000L)
                .eos().footer(1);
        b.sectionEnd(1).page(0, "pc.bios", filled(PAGE, 7)).eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.CONFIGURATION);
            assertEquals(List.of("x-ignore-shared"), reader.capabilities());
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("pc.ram", reader.blockName());
            assertEquals(0, reader.blockMrAddr());
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("pc.bios", reader.blockName());
            assertEquals(0x4000, reader.blockLength());
            assertEquals(0xfffc0000L, reader.blockMrAddr());
            expect(reader, MigrationEvent.SECTION_END);
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals("pc.bios", reader.blockName());
            expect(reader, MigrationEvent.SECTION_END);
            expect(reader, MigrationEvent.FOOTER);
            expect(reader, MigrationEvent.EOF);
        }
    }

    /** postcopy-ram: blocks on pages larger than the target's carry their page size. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void postcopyBlockPageSizes(SourceKind kind) throws Exception {
        StreamBuilder b = stream().postcopyAdvise(0x200000 | 0x1000, 0x1000);
        b.sectionStart(1, "ram", 0, 4).memSize(0x400000 + 0x40000)
                .block("mem-huge", 0x400000).blockPageSize(0x200000)
                .block("pc.bios", 0x40000)
                .eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.COMMAND);
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("mem-huge", reader.blockName());
            assertEquals(0x200000, reader.blockPageSize());
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("pc.bios", reader.blockName());
            assertEquals(-1, reader.blockPageSize());
            expect(reader, MigrationEvent.SECTION_END);
            expect(reader, MigrationEvent.FOOTER);
        }
    }

    @Test
    void postcopyWithOnlyTargetSizedPagesHasNoPageSizeField() {
        StreamBuilder b = stream().postcopyAdvise(0x1000, 0x1000);
        ramSetup(b, 1, "pc.ram", 0x200000L, "pc.bios", 0x40000L);
        assertEquals(List.of("COMMAND 3 00000000000010000000000000001000", "SECTION_START START ram #1",
                "RAM_BLOCK pc.ram 0x200000", "RAM_BLOCK pc.bios 0x40000", "SECTION_END", "FOOTER #1", "EOF"),
                trace(b.eof().description(desc()).toByteArray()));
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void compressedPageIsInflated(SourceKind kind) throws Exception {
        byte[] data = pattern(PAGE, 11);
        byte[] zlib = deflate(data, Deflater.DEFAULT_COMPRESSION);
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x4000L);
        b.sectionPart(1);
        long pageAt = b.position();
        b.compressedPage(0x1000, "pc.ram", zlib);
        long afterAt = b.position();
        b.eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            skip(reader, 5);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(pageAt, reader.eventOffset());
            assertEquals(afterAt, reader.position());
            assertEquals(0x1000, reader.pageOffset());
            assertEquals(PageEncoding.COMPRESSED, reader.pageEncoding());
            assertEquals(-1, reader.pageSourceOffset());
            assertArrayEquals(data, bytes(reader.page()));
            assertArrayEquals(data, bytes(reader.pageData().asSlice(reader.pageDataOffset(), PAGE)));
            expect(reader, MigrationEvent.SECTION_END);
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void compressedPageLongerThanAPage(SourceKind kind) throws Exception {
        byte[] data = new byte[PAGE];
        new Random(5).nextBytes(data);
        byte[] zlib = deflate(data, Deflater.NO_COMPRESSION);
        assertTrue(zlib.length > PAGE);
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x1000L);
        b.sectionEnd(1).compressedPage(0, "pc.ram", zlib).zeroPage(0, null, 0).eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        try (MigrationReader reader = kind.open(bytes)) {
            skip(reader, 5);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertArrayEquals(data, bytes(reader.page()));
            expect(reader, MigrationEvent.ZERO_PAGE);
        }
    }
    /**
     * mapped-ram: after each block entry a MappedRamHeader; pages come from the bitmap and the
     * pages region, in page order; the stream resumes after the pages region.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void mappedRamPagesInPageOrder(SourceKind kind) throws Exception {
        int pagesA = 70;
        StreamBuilder b = stream().configuration("pc-q35-9.0").capabilities("mapped-ram");
        b.sectionStart(1, "ram", 0, 4).memSize((long) (pagesA + 2) * PAGE);
        long blockAAt = b.position();
        b.block("pc.ram", (long) pagesA * PAGE);
        long bitmapA = b.position() + 28;
        long regionA = bitmapA + 16;
        b.mappedRamHeader(PAGE, bitmapA, regionA);
        b.u64le(1L | 1L << 2).u64le(1L << 1); // pages 0, 2, 65
        for (int i = 0; i < pagesA; i++) {
            b.bytes(i == 0 || i == 2 || i == 65 ? pattern(PAGE, i) : new byte[PAGE]);
        }
        long blockBAt = b.position();
        b.block("pc.bios", 2L * PAGE);
        long bitmapB = b.position() + 28;
        long regionB = bitmapB + 8;
        b.mappedRamHeader(PAGE, bitmapB, regionB).u64le(1L << 1).zeros(PAGE).bytes(pattern(PAGE, 200));
        long eosAt = b.position();
        b.eos().footer(1);
        b.sectionEnd(1).eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();

        assertEquals(List.of("CONFIGURATION pc-q35-9.0 caps=[mapped-ram] bits=-1", "SECTION_START START ram #1",
                "RAM_BLOCK pc.ram 0x46000", "RAM_PAGE pc.ram@0x0 MAPPED", "RAM_PAGE pc.ram@0x2000 MAPPED",
                "RAM_PAGE pc.ram@0x41000 MAPPED", "RAM_BLOCK pc.bios 0x2000", "RAM_PAGE pc.bios@0x1000 MAPPED",
                "SECTION_END", "FOOTER #1", "SECTION_START END ram #1", "SECTION_END", "FOOTER #1", "EOF"),
                trace(bytes));
        try (MigrationReader reader = kind.open(bytes)) {
            expect(reader, MigrationEvent.CONFIGURATION);
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals(blockAAt, reader.eventOffset());
            for (int page : new int[] {0, 2, 65}) {
                expect(reader, MigrationEvent.RAM_PAGE);
                assertEquals(regionA + (long) page * PAGE, reader.eventOffset());
                assertEquals(regionA + (long) page * PAGE, reader.pageSourceOffset());
                assertEquals((long) page * PAGE, reader.pageOffset());
                assertArrayEquals(pattern(PAGE, page), bytes(reader.page()));
                assertArrayEquals(pattern(PAGE, page),
                        bytes(reader.pageData().asSlice(reader.pageDataOffset(), PAGE)));
            }
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals(blockBAt, reader.eventOffset());
            expect(reader, MigrationEvent.RAM_PAGE);
            assertArrayEquals(pattern(PAGE, 200), bytes(reader.page()));
            expect(reader, MigrationEvent.SECTION_END);
            assertEquals(eosAt, reader.eventOffset());
        }
    }

    /** x-ignore-shared with mapped-ram: mr_addr before the header; an unwritten shared block has offsets 0. */
    @Test
    void mappedRamWithIgnoreSharedAndAnUnwrittenBlock() {
        String configuration = Json.configuration("pc-q35-10.2",
                Json.struct("configuration/capabilities", 1,
                        fields(Json.field("caps_count", "uint32", 4),
                                Json.arrayField("capabilities", "capability", 16, 2))));
        StreamBuilder b = stream().configuration("pc-q35-10.2").capabilities("x-ignore-shared", "mapped-ram");
        b.sectionStart(1, "ram", 0, 4).memSize(0x100000 + 2L * PAGE);
        b.block("pc.ram", 0x100000).mrAddr(0).mappedRamHeader(PAGE, 0, 0);
        b.block("pc.bios", 2L * PAGE).mrAddr(0xfffc0000L);
        long bitmap = b.position() + 28;
        b.mappedRamHeader(PAGE, bitmap, bitmap + 8).u64le(1).bytes(pattern(PAGE, 5)).zeros(PAGE);
        b.eos().footer(1);
        byte[] bytes = b.eof().description(Json.descriptionWithConfiguration(PAGE, configuration)).toByteArray();
        assertEquals(List.of("CONFIGURATION pc-q35-10.2 caps=[x-ignore-shared, mapped-ram] bits=-1",
                "SECTION_START START ram #1", "RAM_BLOCK pc.ram 0x100000", "RAM_BLOCK pc.bios 0x2000",
                "RAM_PAGE pc.bios@0x0 MAPPED", "SECTION_END", "FOOTER #1", "EOF"), trace(bytes));
    }
}
