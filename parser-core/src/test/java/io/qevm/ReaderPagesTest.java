package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.deflate;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.lendPages;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A RAM_PAGE's bytes, whatever its encoding (raw, zlib, XBZRLE, mapped-ram) and whatever the
 * {@link SourceKind}: {@link MigrationReader#pageData()} and {@link MigrationReader#page()} as
 * views valid until {@link MigrationReader#next()}, the two {@code copyPage} helpers, and
 * {@link MigrationReader#isResend()}.
 */
final class ReaderPagesTest {

    private static final byte[] RAW = pattern(PAGE, 1);
    private static final byte[] INFLATED = pattern(PAGE, 2);
    private static final byte[] MAPPED = pattern(PAGE, 3);
    /** The XBZRLE page: {@link #RAW} with bytes 4 and 5 changed by the delta {@code 04 02 e1 e2}. */
    private static final byte[] DELTA_ON_RAW = withBytes(RAW, 4, 0xe1, 0xe2);

    static byte[] withBytes(byte[] page, int at, int... values) {
        byte[] changed = page.clone();
        for (int i = 0; i < values.length; i++) {
            changed[at + i] = (byte) values[i];
        }
        return changed;
    }

    /** RAM pages in every record encoding: raw at 0, zlib at 0x1000, then a delta on the raw one. */
    static byte[] recordEncodings() {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x2000L);
        b.sectionPart(1).page(0, "pc.ram", RAW).compressedPage(0x1000, null, deflate(INFLATED, 6))
                .xbzrlePage(0, null, new byte[] {0x04, 0x02, (byte) 0xe1, (byte) 0xe2}).eos().footer(1);
        return b.eof().description(desc()).toByteArray();
    }

    /** A mapped-ram stream whose one block holds {@link #MAPPED} at 0x1000. */
    static byte[] mappedRam() {
        StreamBuilder b = stream().configuration("pc-q35-9.0").capabilities("mapped-ram");
        b.sectionStart(1, "ram", 0, 4).memSize(2L * PAGE).block("pc.ram", 2L * PAGE);
        long bitmap = b.position() + 28;
        b.mappedRamHeader(PAGE, bitmap, bitmap + 8).u64le(1L << 1).zeros(PAGE).bytes(MAPPED).eos().footer(1);
        return b.eof().description(desc()).toByteArray();
    }

    /** Opens the stream holding {@code encoding}, lends a stream a store, and moves to the page. */
    static MigrationReader atPage(SourceKind kind, PageEncoding encoding, ReadOptions options) {
        MigrationReader reader = kind.open(encoding == PageEncoding.MAPPED ? mappedRam() : recordEncodings(), options);
        KeptPages kept = lendPages(reader);
        for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
            if (e == MigrationEvent.RAM_PAGE && reader.pageEncoding() == encoding) {
                return reader;
            }
            if (kept != null && e == MigrationEvent.RAM_PAGE) {
                kept.keep(reader);
            }
        }
        reader.close();
        throw new AssertionError("no " + encoding + " page");
    }

    static byte[] expected(PageEncoding encoding) {
        return switch (encoding) {
            case RAW -> RAW;
            case COMPRESSED -> INFLATED;
            case XBZRLE -> DELTA_ON_RAW;
            case MAPPED -> MAPPED;
        };
    }

    static Stream<Arguments> kindsAndEncodings() {
        List<Arguments> all = new ArrayList<>();
        for (SourceKind kind : SourceKind.values()) {
            for (PageEncoding encoding : PageEncoding.values()) {
                all.add(Arguments.of(kind, encoding));
            }
        }
        return all.stream();
    }

    // ------------------------------------------------------------------ views and copies

    /**
     * pageData() at pageDataOffset(), page(), and the same view asked again: the page's bytes,
     * unchanged by any other accessor until next() (an XBZRLE delta is applied once, when first
     * asked for).
     */
    @ParameterizedTest
    @MethodSource("kindsAndEncodings")
    void pageDataIsThePageUntilNext(SourceKind kind, PageEncoding encoding) {
        byte[] expected = expected(encoding);
        try (MigrationReader reader = atPage(kind, encoding, ReadOptions.DEFAULT)) {
            MemorySegment data = reader.pageData();
            long offset = reader.pageDataOffset();
            assertArrayEquals(expected, bytes(data.asSlice(offset, PAGE)));
            MemorySegment page = reader.page();
            assertEquals(PAGE, page.byteSize());
            assertArrayEquals(expected, bytes(page));
            // everything else a consumer may ask on the page, copies included
            reader.copyPage(new byte[PAGE], 0);
            reader.copyPage(ByteBuffer.allocateDirect(PAGE));
            assertEquals("pc.ram", reader.blockName());
            assertEquals(encoding, reader.pageEncoding());
            reader.pageSourceOffset();
            reader.pageOffset();
            reader.scope();
            reader.position();
            assertEquals(offset, reader.pageDataOffset());
            assertArrayEquals(expected, bytes(reader.pageData().asSlice(reader.pageDataOffset(), PAGE)),
                    "asked again");
            assertArrayEquals(expected, bytes(data.asSlice(offset, PAGE)), "the first view, still the page");
            assertArrayEquals(expected, bytes(page), "the first page(), still the page");
        }
    }

    /** copyPage(byte[], int) writes one page at the offset, nothing around it. */
    @ParameterizedTest
    @MethodSource("kindsAndEncodings")
    void copyPageIntoAnArrayAtAnOffset(SourceKind kind, PageEncoding encoding) {
        byte[] into = new byte[PAGE + 10];
        Arrays.fill(into, (byte) 0x77);
        try (MigrationReader reader = atPage(kind, encoding, ReadOptions.DEFAULT)) {
            reader.copyPage(into, 3);
            assertArrayEquals(expected(encoding), Arrays.copyOfRange(into, 3, 3 + PAGE));
            assertArrayEquals(new byte[] {0x77, 0x77, 0x77}, Arrays.copyOfRange(into, 0, 3));
            assertArrayEquals(StreamBuilder.filled(7, 0x77), Arrays.copyOfRange(into, 3 + PAGE, into.length));
            byte[] exact = new byte[PAGE];
            reader.copyPage(exact, 0);
            assertArrayEquals(expected(encoding), exact);
            assertThrows(IndexOutOfBoundsException.class, () -> reader.copyPage(new byte[PAGE], 1));
            assertThrows(IndexOutOfBoundsException.class, () -> reader.copyPage(new byte[PAGE - 1], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> reader.copyPage(new byte[2 * PAGE], -1));
        }
    }

    /** copyPage(ByteBuffer) writes at the buffer's position, which moves past the page; heap or direct. */
    @ParameterizedTest
    @MethodSource("kindsAndEncodings")
    void copyPageIntoAByteBufferMovesItsPosition(SourceKind kind, PageEncoding encoding) {
        try (MigrationReader reader = atPage(kind, encoding, ReadOptions.DEFAULT)) {
            for (ByteBuffer into : new ByteBuffer[] {ByteBuffer.allocate(PAGE + 9), ByteBuffer.allocateDirect(PAGE + 9)}) {
                into.position(5);
                reader.copyPage(into);
                assertEquals(5 + PAGE, into.position());
                assertEquals(PAGE + 9, into.limit());
                byte[] written = new byte[PAGE];
                into.get(5, written);
                assertArrayEquals(expected(encoding), written);
                assertEquals(0, into.get(4));
                assertEquals(0, into.get(5 + PAGE));
            }
            ByteBuffer small = ByteBuffer.allocate(2 * PAGE).position(PAGE + 1);
            assertThrows(IndexOutOfBoundsException.class, () -> reader.copyPage(small));
            assertEquals(PAGE + 1, small.position(), "not moved when nothing was copied");
            ByteBuffer readOnly = ByteBuffer.allocate(PAGE).asReadOnlyBuffer();
            assertThrows(IllegalArgumentException.class, () -> reader.copyPage(readOnly), "as a channel's read()");
            assertEquals(0, readOnly.position(), "not moved when nothing was copied");
        }
    }

    /**
     * Pages of one encoding one after another share the reader's buffers: each view is its own
     * page when it is handed out.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void successivePagesOfOneEncodingEachReadRight(SourceKind kind) {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x3000L);
        b.sectionPart(1).page(0, "pc.ram", pattern(PAGE, 10)).page(0x1000, null, pattern(PAGE, 11))
                .compressedPage(0x2000, null, deflate(pattern(PAGE, 12), 6))
                .compressedPage(0x1000, null, deflate(pattern(PAGE, 13), 1))
                .xbzrlePage(0, null, new byte[] {0x00, 0x01, 0x01})
                .xbzrlePage(0x1000, null, new byte[] {0x01, 0x01, 0x02})
                .xbzrlePage(0, null, new byte[] {0x02, 0x01, 0x03})
                .eos().footer(1);
        byte[][] expected = {pattern(PAGE, 10), pattern(PAGE, 11), pattern(PAGE, 12), pattern(PAGE, 13),
            withBytes(pattern(PAGE, 10), 0, 1), withBytes(pattern(PAGE, 13), 1, 2),
            withBytes(withBytes(pattern(PAGE, 10), 0, 1), 2, 3)};
        try (MigrationReader reader = kind.open(b.eof().description(desc()).toByteArray())) {
            KeptPages kept = lendPages(reader);
            ReaderTests.skip(reader, 5);
            for (int i = 0; i < expected.length; i++) {
                expect(reader, MigrationEvent.RAM_PAGE, kept);
                assertArrayEquals(expected[i], bytes(reader.page()), "page " + i + " " + reader.pageEncoding());
            }
        }
    }

    /**
     * A delta on a delta whose bytes no one asked for: a file or an array applies both from the
     * source. (A stream's store must be handed every page, so there every page is decoded.)
     */
    @ParameterizedTest
    @EnumSource(value = SourceKind.class, names = {"MAPPED", "HEAP"})
    void aDeltaOnADeltaNobodyAskedFor(SourceKind kind) {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x1000L);
        b.sectionPart(1).page(0, "pc.ram", pattern(PAGE, 20)).eos().footer(1);
        b.sectionPart(1).xbzrlePage(0, "pc.ram", new byte[] {0x00, 0x01, 0x31}).eos().footer(1);
        b.sectionEnd(1).xbzrlePage(0, "pc.ram", new byte[] {0x01, 0x01, 0x32}).eos().footer(1);
        try (MigrationReader reader = kind.open(b.eof().description(desc()).toByteArray())) {
            ReaderTests.skip(reader, 13);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(PageEncoding.XBZRLE, reader.pageEncoding());
            assertArrayEquals(withBytes(pattern(PAGE, 20), 0, 0x31, 0x32), bytes(reader.page()));
        }
    }

    // ------------------------------------------------------------------ resends

    /**
     * With TRACK_RESENDS, isResend() tells a page's first copy from a later one, whatever the
     * encodings of the two; a page is a block and an offset (the same offset in another block is
     * another page), and counting pages by !isResend() counts each page once.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void isResendTellsALaterCopyOfAPage(SourceKind kind) {
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x3000L, "pc.bios", 0x1000L);
        b.sectionPart(1).page(0, "pc.ram", RAW).zeroPage(0x1000, null, 0).page(0, "pc.bios", RAW)
                .compressedPage(0x2000, "pc.ram", deflate(INFLATED, 6))
                .xbzrlePage(0, null, new byte[] {0x00, 0x01, 0x05}).eos().footer(1);
        b.sectionEnd(1).zeroPage(0, "pc.ram", 0).page(0x1000, null, RAW).zeroPage(0x2000, null, 0)
                .zeroPage(0, "pc.bios", 0).eos().footer(1);
        byte[] bytes = b.eof().description(desc()).toByteArray();
        ReadOptions options = ReadOptions.builder().enable(ReadOptions.Feature.TRACK_RESENDS).build();
        List<String> pages = new ArrayList<>();
        int distinct = 0;
        try (MigrationReader reader = kind.open(bytes, options)) {
            KeptPages kept = lendPages(reader);
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                    if (kept != null) {
                        kept.keep(reader);
                    }
                    pages.add(reader.blockName() + "@" + Long.toHexString(reader.pageOffset())
                            + (reader.isResend() ? " again" : " first"));
                    distinct += reader.isResend() ? 0 : 1;
                }
            }
        }
        assertEquals(List.of("pc.ram@0 first", "pc.ram@1000 first", "pc.bios@0 first", "pc.ram@2000 first",
                "pc.ram@0 again", "pc.ram@0 again", "pc.ram@1000 again", "pc.ram@2000 again", "pc.bios@0 again"),
                pages);
        assertEquals(4, distinct);
    }

    /** Every page of a mapped-ram stream is sent once. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void mappedRamPagesAreNeverResends(SourceKind kind) {
        ReadOptions options = ReadOptions.builder().enable(ReadOptions.Feature.TRACK_RESENDS).build();
        try (MigrationReader reader = atPage(kind, PageEncoding.MAPPED, options)) {
            assertFalse(reader.isResend());
            expect(reader, MigrationEvent.SECTION_END);
        }
    }

    /** Without TRACK_RESENDS (the default), isResend() is a misuse on the pages it is valid on. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void isResendNeedsTheFeature(SourceKind kind) {
        String needs = "isResend() needs the reader opened with ReadOptions.Feature.TRACK_RESENDS";
        StreamBuilder b = stream();
        ramSetup(b, 1, "pc.ram", 0x2000L);
        b.sectionEnd(1).page(0, "pc.ram", RAW).zeroPage(0x1000, null, 0).eos().footer(1);
        try (MigrationReader reader = kind.open(b.eof().description(desc()).toByteArray())) {
            expect(reader, MigrationEvent.SECTION_START);
            expect(reader, MigrationEvent.RAM_BLOCK);
            assertEquals("isResend() is not valid on RAM_BLOCK; valid on RAM_PAGE, ZERO_PAGE",
                    assertThrowsExactly(IllegalStateException.class, reader::isResend).getMessage());
            ReaderTests.skip(reader, 3);
            expect(reader, MigrationEvent.RAM_PAGE);
            assertEquals(needs, assertThrowsExactly(IllegalStateException.class, reader::isResend).getMessage());
            expect(reader, MigrationEvent.ZERO_PAGE);
            assertEquals(needs, assertThrowsExactly(IllegalStateException.class, reader::isResend).getMessage());
            expect(reader, MigrationEvent.SECTION_END);
        }
    }

    @Test
    void featuresDefaultToRequireTheDescriptionAndNotTrackResends() {
        assertEquals(true, ReadOptions.DEFAULT.isEnabled(ReadOptions.Feature.REQUIRE_DESCRIPTION));
        assertEquals(false, ReadOptions.DEFAULT.isEnabled(ReadOptions.Feature.TRACK_RESENDS));
        ReadOptions both = ReadOptions.builder().enable(ReadOptions.Feature.TRACK_RESENDS)
                .disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        assertEquals(false, both.isEnabled(ReadOptions.Feature.REQUIRE_DESCRIPTION));
        assertEquals(true, both.isEnabled(ReadOptions.Feature.TRACK_RESENDS));
        for (ReadOptions.Feature feature : ReadOptions.Feature.values()) {
            assertEquals(feature.enabledByDefault(), ReadOptions.DEFAULT.isEnabled(feature), feature.name());
        }
    }
}
