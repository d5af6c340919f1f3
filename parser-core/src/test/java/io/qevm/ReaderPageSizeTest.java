package io.qevm;

import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.deflate;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.trace;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.MalformedStreamException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The target page size, which a RAM record's flags and address depend on: from the JSON
 * description's {@code page_size} (known at once on a file, only at the end on a stream),
 * CONFIGURATION's target-page-bits, {@link ReadOptions.Builder#pageSize}, or told from the RAM
 * records themselves (PageSizeProbe); on a stream, the description checks the size the records
 * were read with.
 */
final class ReaderPageSizeTest {

    /** A JSON description without page_size (QEMU before 2.12 on some machines; hand-made streams). */
    static final String NO_PAGE_SIZE = "{\"devices\": []}";

    /**
     * A RAM section of one block {@code ram} of {@code length} bytes whose END record holds what
     * {@code pages} writes (the first record names the block), then EOF and {@code json}.
     */
    static byte[] ram(long length, String json, Consumer<StreamBuilder> pages) {
        StreamBuilder b = stream();
        b.sectionStart(1, "ram", 0, 4).memSize(length).block("ram", length).eos().footer(1);
        b.sectionEnd(1);
        pages.accept(b);
        return b.eos().footer(1).eof().description(json).toByteArray();
    }

    /** The pages of a trace and the reader's page size at each, read from {@code kind}. */
    static List<String> pages(SourceKind kind, byte[] bytes, ReadOptions options) {
        List<String> pages = new ArrayList<>();
        try (MigrationReader reader = kind.open(bytes, options)) {
            KeptPages kept = ReaderTests.lendPages(reader);
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                    pages.add(e + " @0x" + Long.toHexString(reader.pageOffset()) + " size=" + reader.pageSize()
                            + " ram=" + reader.ramPageSize());
                    if (kept != null) {
                        kept.keep(reader);
                    }
                }
            }
        }
        return pages;
    }

    // ------------------------------------------------------------------ told from the records

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void fourKibPagesFromTheRecords(SourceKind kind) {
        byte[] bytes = ram(0x4000, NO_PAGE_SIZE, b -> b.page(0x1000, "ram", pattern(4096, 1))
                .page(0x3000, null, pattern(4096, 2)));
        assertEquals(List.of("RAM_PAGE @0x1000 size=4096 ram=4096", "RAM_PAGE @0x3000 size=4096 ram=4096"),
                pages(kind, bytes, ReadOptions.DEFAULT));
        try (MigrationReader reader = kind.open(bytes)) {
            ReaderTests.skip(reader, 5);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertArrayEquals(pattern(4096, 1), bytes(reader.page()));
        }
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void oneKibPagesFromTheRecords(SourceKind kind) {
        byte[] bytes = ram(0x2000, NO_PAGE_SIZE, b -> b.page(0x400, "ram", pattern(1024, 1))
                .page(0xc00, null, pattern(1024, 2)));
        assertEquals(List.of("RAM_PAGE @0x400 size=1024 ram=1024", "RAM_PAGE @0xc00 size=1024 ram=1024"),
                pages(kind, bytes, ReadOptions.DEFAULT));
        try (MigrationReader reader = kind.open(bytes)) {
            ReaderTests.skip(reader, 6);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertArrayEquals(pattern(1024, 2), bytes(reader.page()));
        }
    }

    /**
     * Zero pages carry no page of data: their addresses alone tell the size, the largest they
     * allow; where they allow any, 4 KiB (nearly every machine's).
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void zeroPagesOnlyFromTheirAddresses(SourceKind kind) {
        byte[] fourKib = ram(0x4000, NO_PAGE_SIZE, b -> b.zeroPage(0x1000, "ram", 0).zeroPage(0x3000, null, 0));
        assertEquals(List.of("ZERO_PAGE @0x1000 size=4096 ram=4096", "ZERO_PAGE @0x3000 size=4096 ram=4096"),
                pages(kind, fourKib, ReadOptions.DEFAULT));
        byte[] oneKib = ram(0x4000, NO_PAGE_SIZE, b -> b.zeroPage(0x400, "ram", 0).zeroPage(0x3000, null, 0));
        assertEquals(List.of("ZERO_PAGE @0x400 size=1024 ram=1024", "ZERO_PAGE @0x3000 size=1024 ram=1024"),
                pages(kind, oneKib, ReadOptions.DEFAULT));
        // page 0 of a 64 KiB block fits a page of every size: 4 KiB is taken
        byte[] any = ram(0x10000, NO_PAGE_SIZE, b -> b.zeroPage(0, "ram", 0));
        assertEquals(List.of("ZERO_PAGE @0x0 size=4096 ram=4096"), pages(kind, any, ReadOptions.DEFAULT));
        // ... or the size given, which reads it too
        assertEquals(List.of("ZERO_PAGE @0x0 size=1024 ram=1024"),
                pages(kind, any, ReadOptions.builder().pageSize(1024).build()));
    }

    /** Every record kind in one part, 1 KiB pages: each is checked against each candidate size. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void mixedRecordsFromTheRecords(SourceKind kind) {
        byte[] bytes = ram(0x2000, NO_PAGE_SIZE, b -> b.zeroPage(0, "ram", 0).multifdFlush()
                .page(0x400, null, pattern(1024, 5)).compressedPage(0x800, null, deflate(pattern(1024, 6), 6))
                .xbzrlePage(0x400, null, new byte[] {0x00, 0x01, 0x7f}).zeroPage(0x1c00, null, 0));
        assertEquals(List.of("ZERO_PAGE @0x0 size=1024 ram=1024", "RAM_PAGE @0x400 size=1024 ram=1024",
                "RAM_PAGE @0x800 size=1024 ram=1024", "RAM_PAGE @0x400 size=1024 ram=1024",
                "ZERO_PAGE @0x1c00 size=1024 ram=1024"), pages(kind, bytes, ReadOptions.DEFAULT));
        try (MigrationReader reader = kind.open(bytes)) {
            KeptPages kept = ReaderTests.lendPages(reader);
            ReaderTests.skip(reader, 8, kept);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
            byte[] expected = pattern(1024, 5);
            expected[0] = 0x7f;
            assertArrayEquals(expected, bytes(reader.page()));
        }
    }

    // ------------------------------------------------------------------ checked by the description

    /**
     * Nothing says the size before the pages: -1 until the first page record, on every kind when
     * the description has no page_size; on a stream also when it has one, as it comes last.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void unknownUntilTheFirstPageRecord(SourceKind kind) {
        for (String json : new String[] {NO_PAGE_SIZE, Json.description(4096)}) {
            byte[] bytes = ram(0x4000, json, b -> b.zeroPage(0x1000, "ram", 0));
            long before = kind == SourceKind.STREAM || json.equals(NO_PAGE_SIZE) ? -1 : 4096;
            try (MigrationReader reader = kind.open(bytes)) {
                assertEquals(before, reader.ramPageSize(), json);
                ReaderTests.skip(reader, 5);
                assertEquals(MigrationEvent.SECTION_START, reader.currentEvent());
                assertEquals(before, reader.ramPageSize(), json);
                expect(reader, MigrationEvent.ZERO_PAGE);
                assertEquals(4096, reader.ramPageSize(), json);
                assertEquals(4096, reader.pageSize(), json);
                ReaderTests.skip(reader, 2);
                expect(reader, MigrationEvent.EOF);
                assertEquals(4096, reader.ramPageSize(), "the description agrees: " + json);
            }
        }
    }

    /**
     * The description gives 4 KiB, the records are 1 KiB pages. A file knows the description
     * first and reads the first record's low bits as flags (0x408: unknown); a stream reads the
     * records with the size they tell, and the description, when it comes, names both sizes.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void descriptionDisagreeingWithTheRecords(SourceKind kind) {
        StreamBuilder b = stream();
        b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("ram", 0x2000).eos().footer(1);
        b.sectionEnd(1);
        long pageAt = b.position();
        b.page(0x400, "ram", pattern(1024, 1)).eos().footer(1);
        long eofAt = b.position();
        byte[] bytes = b.eof().description(Json.description(4096)).toByteArray();
        List<String> seen = new ArrayList<>();
        MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class, () -> {
            try (MigrationReader reader = kind.open(bytes)) {
                while (true) {
                    reader.next();
                    seen.add(ReaderTests.describe(reader));
                }
            }
        });
        if (kind == SourceKind.STREAM) {
            assertEquals("the JSON VM description gives page_size 4096, but the RAM records were read with pages"
                    + " of 1024 bytes", e.problem());
            assertEquals(eofAt + 1 + 5, e.eventOffset(), "the description's JSON");
            assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK ram 0x2000", "SECTION_END", "FOOTER #1",
                    "SECTION_START END ram #1", "RAM_PAGE ram@0x400 RAW", "SECTION_END", "FOOTER #1"), seen);
        } else {
            assertEquals("expected one RAM_SAVE_FLAG (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE,"
                    + " MULTIFD_FLUSH), found flags 0x408", e.problem());
            assertEquals(pageAt, e.eventOffset());
            assertEquals("ram", e.sectionName());
        }
    }

    /**
     * A stream of page-0 zero pages only fits pages of any size: read as 4 KiB ones, which its
     * description then confirms; a file takes the size from its description first. Where the
     * machine's pages are not 4 KiB, the page size option is the way out.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void ambiguousZeroPagesReadAsFourKibPages(SourceKind kind) {
        byte[] bytes = ram(0x10000, Json.description(4096), b -> b.zeroPage(0, "ram", 0));
        assertEquals(List.of("ZERO_PAGE @0x0 size=4096 ram=4096"), pages(kind, bytes, ReadOptions.DEFAULT));
        byte[] oneKib = ram(0x10000, Json.description(1024), b -> b.zeroPage(0, "ram", 0));
        if (kind == SourceKind.STREAM) {
            MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class,
                    () -> pages(kind, oneKib, ReadOptions.DEFAULT));
            assertEquals("the JSON VM description gives page_size 1024, but the RAM records were read with pages"
                    + " of 4096 bytes", e.problem());
        } else {
            assertEquals(List.of("ZERO_PAGE @0x0 size=1024 ram=1024"), pages(kind, oneKib, ReadOptions.DEFAULT));
        }
        ReadOptions oneKibPages = ReadOptions.builder().pageSize(1024).build();
        try (MigrationReader reader = kind.open(oneKib, oneKibPages)) {
            assertEquals(kind == SourceKind.STREAM ? -1 : 1024, reader.ramPageSize(), "a file's description first");
            ReaderTests.skip(reader, 6);
            assertEquals(1024, reader.pageSize(), "the option, where the stream gave none before the page");
        }
        assertEquals(List.of("SECTION_START START ram #1", "RAM_BLOCK ram 0x10000", "SECTION_END", "FOOTER #1",
                "SECTION_START END ram #1", "ZERO_PAGE ram@0x0 fill=0x0", "SECTION_END", "FOOTER #1", "EOF"),
                trace(oneKib, oneKibPages));
    }

    // ------------------------------------------------------------------ the option

    /**
     * Where nothing in the stream says it, the option is the page size, taken at the first page
     * record instead of telling the size from the records.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void pageSizeOptionWhenTheStreamGivesNone(SourceKind kind) {
        // zero pages at 0 and 0x800 read as 2 KiB pages unless told
        byte[] bytes = ram(0x1000, NO_PAGE_SIZE, b -> b.zeroPage(0, "ram", 0).zeroPage(0x800, null, 0));
        assertEquals(List.of("ZERO_PAGE @0x0 size=2048 ram=2048", "ZERO_PAGE @0x800 size=2048 ram=2048"),
                pages(kind, bytes, ReadOptions.DEFAULT));
        ReadOptions oneKib = ReadOptions.builder().pageSize(1024).build();
        assertEquals(1024, oneKib.pageSize());
        assertEquals(-1, ReadOptions.DEFAULT.pageSize());
        try (MigrationReader reader = kind.open(bytes, oneKib)) {
            ReaderTests.skip(reader, 5);
            assertEquals(-1, reader.ramPageSize(), "nothing before the first page record");
            expect(reader, MigrationEvent.ZERO_PAGE);
            assertEquals(1024, reader.ramPageSize());
        }
        List<String> told = new ArrayList<>();
        try (MigrationReader reader = kind.open(bytes, oneKib)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.ZERO_PAGE) {
                    told.add("@0x" + Long.toHexString(reader.pageOffset()) + " size=" + reader.pageSize());
                }
            }
        }
        assertEquals(List.of("@0x0 size=1024", "@0x800 size=1024"), told);
    }

    /**
     * target-page-bits is the stream saying its page size before its pages: the option, for
     * streams that give none, does not override it.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void targetPageBitsWinOverThePageSizeOption(SourceKind kind) {
        StreamBuilder b = stream().configuration("virt").targetPageBits(12);
        b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("ram", 0x2000).eos().footer(1);
        b.sectionEnd(1).page(0x1000, "ram", pattern(4096, 9)).eos().footer(1);
        byte[] bytes = b.eof().description(NO_PAGE_SIZE).toByteArray();
        ReadOptions oneKib = ReadOptions.builder().pageSize(1024).build();
        assertEquals(List.of("CONFIGURATION virt caps=[] bits=12", "SECTION_START START ram #1", "RAM_BLOCK ram 0x2000",
                "SECTION_END", "FOOTER #1", "SECTION_START END ram #1", "RAM_PAGE ram@0x1000 RAW", "SECTION_END",
                "FOOTER #1", "EOF"), trace(bytes, oneKib));
        try (MigrationReader reader = kind.open(bytes, oneKib)) {
            expect(reader, MigrationEvent.CONFIGURATION);
            assertEquals(4096, reader.ramPageSize());
            ReaderTests.skip(reader, 5);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(4096, reader.pageSize());
            assertArrayEquals(pattern(4096, 9), bytes(reader.page()));
        }
    }

    // ------------------------------------------------------------------ a size the stream does not state, wrong

    /**
     * A RAM part of {@code zeroPages} zero pages of 4 KiB, one after another (more than the
     * probe's 1 MiB look ahead holds), then {@code data} at the next address, and a description
     * without page_size: nothing says the size, and until the data page every size up to 4 KiB
     * reads the records.
     */
    private static byte[] zeroPagesThenData(int zeroPages, long pageStep, byte[] data) {
        long length = (zeroPages + 16L) * 4096;
        return ram(length, NO_PAGE_SIZE, b -> {
            b.zeroPage(0, "ram", 0);
            for (long n = 1; n < zeroPages; n++) {
                b.zeroPage(n * pageStep, null, 0);
            }
            b.page(zeroPages * pageStep + data.length, null, data);
        });
    }

    private static MalformedStreamException readFails(SourceKind kind, byte[] bytes, ReadOptions options) {
        return assertThrowsExactly(MalformedStreamException.class, () -> {
            try (MigrationReader reader = kind.open(bytes, options)) {
                while (reader.next() != MigrationEvent.EOF) {
                    // to the failure
                }
            }
        });
    }

    /**
     * 2 KiB given for a dump of 4 KiB pages whose first data page lies past the look ahead: the
     * records ahead do not contradict it, so it is taken, and the data page then reads as a
     * 2 KiB page followed by a record in its middle. The error says the size given may be wrong.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aWrongSizeGivenIsNamedInTheErrorItCauses(SourceKind kind) {
        byte[] data = new byte[4096];
        data[2048 + 7] = 0x01; // read as the header after a 2 KiB page: flags 0x1
        byte[] bytes = zeroPagesThenData(120_000, 4096, data);
        MalformedStreamException e = readFails(kind, bytes, ReadOptions.builder().pageSize(2048).build());
        assertEquals("expected one RAM_SAVE_FLAG (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH),"
                + " found flags 0x1; the stream does not state its page size, and the one given, 2048 bytes"
                + " (--page-size), may be wrong", e.problem());
        assertEquals("RAM_PAGE @0x" + Long.toHexString(120_001L * 4096) + " size=4096 ram=4096",
                pages(kind, bytes, ReadOptions.DEFAULT).getLast(), "without it, the records tell 4 KiB, to the end");
    }

    /**
     * The size told from the records can be wrong too: 1 KiB pages whose first 1 MiB of records
     * are zero pages at 4 KiB steps read as 4 KiB pages; the first 1 KiB data page at an odd
     * address then reads as flags. The error says the size was told, not stated (a size the
     * stream states adds nothing: descriptionDisagreeingWithTheRecords).
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aWrongSizeToldFromTheRecordsIsNamedInTheErrorItCauses(SourceKind kind) {
        byte[] bytes = zeroPagesThenData(120_000, 4096, pattern(1024, 3));
        MalformedStreamException e = readFails(kind, bytes, ReadOptions.DEFAULT);
        assertTrue(e.problem().startsWith("expected one RAM_SAVE_FLAG"), e.problem());
        assertTrue(e.problem().endsWith("; the stream does not state its page size, and the one told from its first RAM"
                + " records, 4096 bytes, may be wrong (give it with --page-size N)"), e.problem());
    }

    /**
     * A size told from records that hold pages of data is not in doubt: a data page read whole
     * with the next record where it should be. An error further on (here an unknown flag past
     * the look ahead, as a stream cut short and read on into its description's bytes gives) is
     * then only what it is.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aSizeConfirmedByDataPagesIsNotDoubted(SourceKind kind) {
        int dataPages = 300; // 1.2 MB: past the 1 MiB look ahead
        byte[] bytes = ram((dataPages + 16L) * 4096, NO_PAGE_SIZE, b -> {
            for (int n = 0; n < dataPages; n++) {
                b.page(n * 4096L, n == 0 ? "ram" : null, pattern(4096, n));
            }
            b.u64(dataPages * 4096L | 0x1);
        });
        MalformedStreamException e = readFails(kind, bytes, ReadOptions.DEFAULT);
        assertEquals("expected one RAM_SAVE_FLAG (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH),"
                + " found flags 0x1", e.problem());
        MalformedStreamException given = readFails(kind, bytes, ReadOptions.builder().pageSize(4096).build());
        assertEquals(e.problem(), given.problem(), "a size given, confirmed the same way");
    }

    /**
     * On a stream the description comes last: a size given that the records did not contradict
     * is read with, and when the description then gives another, the error says it was given.
     */
    @Test
    void aSizeGivenThatTheDescriptionContradicts() {
        byte[] bytes = ram(0x10000, Json.description(1024), b -> b.zeroPage(0, "ram", 0).zeroPage(0x800, null, 0));
        ReadOptions twoKib = ReadOptions.builder().pageSize(2048).build();
        MalformedStreamException e = readFails(SourceKind.STREAM, bytes, twoKib);
        assertEquals("the JSON VM description gives page_size 1024, but the RAM records were read with pages of 2048"
                + " bytes, the size given (--page-size)", e.problem());
        assertEquals(List.of("ZERO_PAGE @0x0 size=1024 ram=1024", "ZERO_PAGE @0x800 size=1024 ram=1024"),
                pages(SourceKind.HEAP, bytes, twoKib), "a file reads the description first");
    }

    // ------------------------------------------------------------------ target-page-bits against the description

    /**
     * target-page-bits out of range is an error where it is read, whatever the kind: a file, which
     * knows the description's page_size first, must not skip the check.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void targetPageBitsOutOfRangeFailEveryKind(SourceKind kind) {
        StreamBuilder b = stream();
        long configurationAt = b.position();
        byte[] bytes = b.configuration("virt").targetPageBits(30).eof().description(Json.description(4096))
                .toByteArray();
        MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class,
                () -> trace(kind, bytes, ReadOptions.DEFAULT));
        assertEquals("expected target-page-bits from 9 to 20, found 30", e.problem());
        assertEquals(configurationAt, e.eventOffset());
    }

    /**
     * target-page-bits 16 and a description of 4 KiB pages: every kind fails, naming both sizes.
     * A file knows the description first and fails at the CONFIGURATION; a stream reads its RAM
     * with 64 KiB pages and fails when the description comes.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void targetPageBitsDisagreeingWithTheDescription(SourceKind kind) {
        StreamBuilder b = stream();
        long configurationAt = b.position();
        b.configuration("virt").targetPageBits(16);
        b.sectionStart(1, "ram", 0, 4).memSize(0x20000).block("ram", 0x20000).eos().footer(1);
        b.sectionEnd(1).page(0x10000, "ram", pattern(65536, 9)).eos().footer(1);
        long eofAt = b.position();
        byte[] bytes = b.eof().description(Json.description(4096)).toByteArray();
        MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class,
                () -> trace(kind, bytes, ReadOptions.DEFAULT));
        if (kind == SourceKind.STREAM) {
            assertEquals("the JSON VM description gives page_size 4096, but the RAM records were read with pages"
                    + " of 65536 bytes", e.problem());
            assertEquals(eofAt + 1 + 5, e.eventOffset());
        } else {
            assertEquals("target-page-bits 16 gives pages of 65536 bytes, but the JSON VM description gives"
                    + " page_size 4096", e.problem());
            assertEquals(configurationAt, e.eventOffset());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 256, 1000, 4095, 2 << 20, -4096})
    void pageSizeOptionMustBeAPowerOfTwoFrom512To1MiB(long size) {
        IllegalArgumentException e = assertThrowsExactly(IllegalArgumentException.class,
                () -> ReadOptions.builder().pageSize(size));
        assertEquals("expected a page size that is a power of two from 512 to 1048576, found " + size, e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {512, 1024, 4096, 65536, 1 << 20})
    void pageSizeOptionAcceptsEveryTargetPageSize(long size) {
        assertEquals(size, ReadOptions.builder().pageSize(size).build().pageSize());
    }
}
