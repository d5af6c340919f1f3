package io.qevm;

import static io.qevm.CleanFailure.assertFails;
import static io.qevm.CleanFailure.drain;
import static io.qevm.CleanFailure.eventBound;
import static io.qevm.StreamBuilder.empty;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.TruncatedInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Streams crafted to make the reader allocate, loop or index on the word of the file: huge
 * lengths and counts wherever one is read, offsets outside the file, descriptions that are not
 * what they claim. Each must fail with the one exception class named, a one-line message and
 * offsets inside the file ({@link CleanFailure#assertFails}); none may allocate from a length it
 * has not checked against the file.
 */
final class HostileInputTest {

    private static final int PAGE = 4096;
    private static final long SECTION = 2;
    /** {"page_size": 4096, "devices": []}: enough for RAM-only streams. */
    private static final String NO_DEVICES = Json.description(PAGE);

    /** A RAM section opened: START with the MEM_SIZE list of one block {@code pc.ram}. */
    private static StreamBuilder ram(long blockLength) {
        return stream().sectionStart(SECTION, "ram", 0, 4).memSize(blockLength).block("pc.ram", blockLength);
    }

    /** {@link #ram} with its first part closed, and a PART opened. */
    private static StreamBuilder ramPart(long blockLength) {
        return ram(blockLength).eos().footer(SECTION).sectionPart(SECTION);
    }

    /** The stream closed: EOS, footer, EOF, and the description. */
    private static byte[] closeRam(StreamBuilder b) {
        return b.eos().footer(SECTION).eof().description(NO_DEVICES).toByteArray();
    }

    /** The stream stops here: the description follows at once, so the device stream ends early. */
    private static byte[] stopHere(StreamBuilder b) {
        return b.description(NO_DEVICES).toByteArray();
    }

    private static byte[] stopHere(StreamBuilder b, String description) {
        return b.description(description).toByteArray();
    }

    private static String oneDevice(String... fields) {
        return Json.description(PAGE, Json.device("dev", 0, 1, fields));
    }

    // ================================================================== lengths past the end

    @Nested
    final class Lengths {

        @Test
        void sectionNameOf255BytesPastTheEnd() {
            byte[] bytes = stopHere(stream().u8(StreamBuilder.QEMU_VM_SECTION_FULL).u32(1).u8(255)
                    .bytes("dev".getBytes(StandardCharsets.US_ASCII)));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void blockNameOf255BytesPastTheEnd() {
            byte[] bytes = stopHere(stream().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).u8(255)
                    .bytes("pc".getBytes(StandardCharsets.US_ASCII)));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void pageNameOf255BytesPastTheEnd() {
            byte[] bytes = stopHere(ramPart(PAGE).u64(StreamBuilder.RAM_SAVE_FLAG_PAGE).u8(255).u8('p'));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void subsectionNameOf255BytesPastTheEnd() {
            String description = Json.description(PAGE, Json.deviceWithSubsections("dev", 0, 1,
                    new String[] {Json.field("a", "uint8", 1)},
                    Json.struct("dev/sub", 1, new String[] {Json.field("b", "uint8", 1)})));
            byte[] bytes = stopHere(stream().sectionFull(1, "dev", 0, 1).u8(7)
                    .u8(StreamBuilder.QEMU_VM_SUBSECTION).u8(255).u8('d'), description);
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void configurationNameLengthOf4GiB() {
            byte[] bytes = stopHere(stream().u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(0xffffffffL)
                    .bytes("pc".getBytes(StandardCharsets.US_ASCII)));
            LimitExceededException e = assertFails(LimitExceededException.class, bytes);
            assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
        }

        @Test
        void configurationNameLengthUnderTheLimitPastTheEnd() {
            byte[] bytes = stopHere(stream().u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(4000)
                    .bytes("pc".getBytes(StandardCharsets.US_ASCII)));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void capabilityCountOf4GiBWithFewNames() {
            byte[] bytes = stopHere(stream().configuration("pc").subsection("configuration/capabilities", 1)
                    .u32(0xffffffffL).str8("x-ignore-shared").str8("mapped-ram"));
            assertFails(LimitExceededException.class, bytes);
        }

        @Test
        void capabilityCountUnderTheLimitPastTheEnd() {
            byte[] bytes = stopHere(stream().configuration("pc").subsection("configuration/capabilities", 1)
                    .u32(100).str8("x-ignore-shared").u8(255).u8('m'));
            assertFails(TruncatedInputException.class, bytes);
        }

        /**
         * u32 count, then count x (u8 len + name): an empty name is one byte of file, and a String
         * and a list slot on the heap. 4 Mi of them must not take 30 times their size.
         */
        @Test
        void capabilityCountOf4GiBWithMillionsOfEmptyNames() {
            byte[] names = new byte[4 << 20];
            byte[] bytes = stream().configuration("pc").subsection("configuration/capabilities", 1)
                    .u32(0xffffffffL).bytes(names).description(NO_DEVICES).toByteArray();
            assertAllocatesInProportion(bytes, TruncatedInputException.class, MalformedStreamException.class,
                    LimitExceededException.class);
        }

        @Test
        void commandPayloadOf64KiBPastTheEnd() {
            byte[] bytes = stopHere(stream().u8(StreamBuilder.QEMU_VM_COMMAND).u16(StreamBuilder.MIG_CMD_PING)
                    .u16(0xffff).u32(1));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void fieldSizeOf2To40Bytes() {
            byte[] bytes = stopHere(stream().sectionFull(1, "dev", 0, 1).u8(1),
                    oneDevice("{\"name\": \"big\", \"type\": \"buffer\", \"size\": 1099511627776}"));
            assertFails(LimitExceededException.class, bytes);
        }

        @Test
        void fieldSizeOf1MiBPastTheEnd() {
            byte[] bytes = stopHere(stream().sectionFull(1, "dev", 0, 1).u8(1),
                    oneDevice("{\"name\": \"big\", \"type\": \"buffer\", \"size\": 1048576}"));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void fieldSizeNegative() {
            byte[] bytes = stopHere(stream().sectionFull(1, "dev", 0, 1).u8(1),
                    oneDevice("{\"name\": \"neg\", \"type\": \"buffer\", \"size\": -5}"));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void capabilityFieldLengthPastTheEnd() {
            String configuration = Json.struct("configuration", 1, new String[] {Json.field("len", "uint32", 4),
                Json.field("name", "buffer", 2)}, Json.struct("configuration/capabilities", 1,
                    new String[] {Json.field("caps_count", "uint32", 4), Json.field("capabilities", "capability", 1)}));
            byte[] bytes = stopHere(stream().u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(2).bytes('p', 'c')
                    .subsection("configuration/capabilities", 1).u32(1).u8(200).u8('x'),
                    Json.descriptionWithConfiguration(PAGE, configuration));
            assertFails(TruncatedInputException.class, bytes);
        }
    }

    // ================================================================== RAM

    @Nested
    final class Ram {

        @Test
        void memSizeTotalOf2To63WithOneSmallBlock() {
            // the block lengths never add up: the EOS u64's first byte is read as an empty name
            byte[] bytes = closeRam(stream().sectionStart(SECTION, "ram", 0, 4).memSize(1L << 63)
                    .block("pc.ram", PAGE));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void blockLengthAbove2To63() {
            byte[] bytes = closeRam(stream().sectionStart(SECTION, "ram", 0, 4).memSize(-PAGE)
                    .block("pc.ram", -PAGE));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void blockOf2To40PagesIsRefused() {
            byte[] bytes = closeRam(ramPart(1L << 62).eos().footer(SECTION));
            assertFails(LimitExceededException.class, bytes);
        }

        @Test
        void blockLengthOf2To50IsReadWithoutAllocatingFromIt() {
            long huge = 1L << 50;
            byte[] bytes = closeRam(ramPart(huge).eos().footer(SECTION).sectionPart(SECTION)
                    .page(huge - PAGE, "pc.ram", pattern(PAGE, 1)).zeroPage(huge / 2, null, 0));
            long before = allocatedBytes();
            try (MigrationReader reader = CleanFailure.reader(bytes)) {
                int blocks = 0;
                int pages = 0;
                for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                    if (e == MigrationEvent.RAM_BLOCK) {
                        blocks++;
                        assertEquals(huge, reader.blockLength());
                    } else if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                        pages++;
                    }
                }
                assertEquals(1, blocks);
                assertEquals(2, pages);
            }
            long allocated = allocatedBytes() - before;
            assertTrue(allocated < 8 << 20, "reading a 2^50-byte block's list allocated " + allocated + " bytes");
        }

        @Test
        void pageAtTheEndOfA2To50Block() {
            long huge = 1L << 50;
            byte[] bytes = closeRam(ramPart(huge).page(huge, "pc.ram", pattern(PAGE, 1)));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void pageIntoABlockOfLengthZero() {
            byte[] bytes = closeRam(stream().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("empty", 0)
                    .block("pc.ram", PAGE).eos().footer(SECTION).sectionPart(SECTION)
                    .zeroPage(0, "empty", 0));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void pageOfAnUnlistedBlock() {
            byte[] bytes = closeRam(ramPart(PAGE).zeroPage(0, "nowhere", 0));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void continueBeforeAnyBlock() {
            byte[] bytes = closeRam(ramPart(PAGE).zeroPage(0, null, 0));
            assertFails(MalformedStreamException.class, bytes);
        }

        @ParameterizedTest
        @ValueSource(ints = {0x001, 0x00a, 0x080, 0x400, 0x800, 0x0c0, 0x102})
        void unknownOrCombinedRamFlags(int flags) {
            byte[] bytes = closeRam(ramPart(PAGE).u64(flags).str8("pc.ram").zeros(PAGE));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void ramSectionOfVersion5() {
            byte[] bytes = closeRam(stream().sectionStart(SECTION, "ram", 0, 5).memSize(PAGE).block("pc.ram", PAGE));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void compressedPageLengthOf4GiB() {
            byte[] bytes = closeRam(ramPart(PAGE).ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE, "pc.ram")
                    .u32(0xffffffffL).zeros(16));
            assertFails(LimitExceededException.class, bytes);
        }

        @Test
        void compressedPageLengthPastTheEnd() {
            byte[] bytes = stopHere(ramPart(PAGE).ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE, "pc.ram")
                    .u32(1 << 20).zeros(16));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void compressedPageThatIsNotZlib() {
            byte[] bytes = closeRam(ramPart(PAGE).compressedPage(0, "pc.ram", pattern(64, 3)));
            assertFails(MalformedStreamException.class, bytes);
        }

        @ParameterizedTest
        @ValueSource(ints = {1, PAGE - 1, PAGE + 1, 1 << 20})
        void compressedPageThatInflatesToTheWrongSize(int size) {
            byte[] bytes = closeRam(ramPart(PAGE).compressedPage(0, "pc.ram", StreamBuilder.zlib(new byte[size])));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void xbzrleLengthAboveThePageSize() {
            byte[] bytes = closeRam(ramPart(PAGE).ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram")
                    .u8(StreamBuilder.ENCODING_FLAG_XBZRLE).u16(0xffff).zeros(16));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void xbzrleLengthPastTheEnd() {
            byte[] bytes = stopHere(ramPart(PAGE).ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram")
                    .u8(StreamBuilder.ENCODING_FLAG_XBZRLE).u16(PAGE).zeros(16));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void xbzrleWithAnotherEncodingFlag() {
            byte[] bytes = closeRam(ramPart(PAGE).ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram")
                    .u8(2).u16(3).bytes(0, 1, 0x55));
            assertFails(MalformedStreamException.class, bytes);
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "ff7f0155", // unchanged run of 16383 bytes: past the page end
            "00ff7f55", // new run of 16383 bytes: past the page end
            "0005aabb", // new run of 5 bytes, 2 in the delta
            "00015500", // a second pair with an empty unchanged run... and no new bytes
            "000155010055", // a second pair whose new run is empty
            "ffff0155", // a count of three bytes
            "00"})
        void xbzrleDeltaThatBreaksItsRules(String hex) {
            byte[] delta = java.util.HexFormat.of().parseHex(hex);
            byte[] bytes = closeRam(ramPart(PAGE).xbzrlePage(0, "pc.ram", delta));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void mappedRamBitmapPastTheEnd() {
            assertFails(TruncatedInputException.class, mappedRam(1L << 40, (1L << 40) + 8));
        }

        /** Header, bitmap, pages, in that order (QEMU's layout): offsets before them are malformed. */
        @Test
        void mappedRamOffsetsOutOfOrder() {
            assertFails(MalformedStreamException.class, mappedRam(-PAGE, 0));
            assertFails(MalformedStreamException.class, mappedRam(0, -PAGE));
            assertFails(MalformedStreamException.class, mappedRam(Long.MIN_VALUE, Long.MIN_VALUE));
            assertFails(MalformedStreamException.class, mappedRam(64, 1L << 20)); // bitmap inside the header
            assertFails(MalformedStreamException.class, mappedRam(1L << 20, 1L << 19)); // pages before the bitmap
        }

        @Test
        void mappedRamPagesPastTheEnd() {
            // the bitmap right after the header, in the file; the pages region far past its end
            long headerEnd = stream().configuration("pc").capabilities("mapped-ram")
                    .sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE).position() + 28;
            assertFails(TruncatedInputException.class, mappedRam(headerEnd, Long.MAX_VALUE - PAGE));
        }

        @Test
        void mappedRamHeaderOfVersion2() {
            byte[] bytes = stopHere(stream().configuration("pc").capabilities("mapped-ram")
                    .sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE)
                    .u32(2).u64(PAGE).u64(0).u64(0));
            assertFails(MalformedStreamException.class, bytes);
        }

        /**
         * A mapped-ram header whose pages region ends where the block entry starts: "the stream
         * continues at pages_offset + used_length" would send the cursor back to read the same
         * entry again, for ever.
         */
        @Test
        void mappedRamPagesRegionThatSendsTheCursorBack() {
            StreamBuilder b = stream().configuration("pc").capabilities("mapped-ram")
                    .sectionStart(SECTION, "ram", 0, 4).memSize(PAGE);
            long entry = b.position();
            b.block("zero", 0).mappedRamHeader(PAGE, 8, entry);
            b.block("pc.ram", PAGE).mappedRamHeader(PAGE, 0, 0);
            byte[] bytes = closeRam(b);
            MigrationReadException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> CleanFailure.readAll(bytes), "the cursor was sent back: it never reaches EOF");
            assertTrue(e != null, "a pages region before the header cannot be right");
            CleanFailure.assertWellFormed(e, bytes.length);
        }

        /** A stream with capability mapped-ram and one 1-page block whose header has the given offsets. */
        private static byte[] mappedRam(long bitmapOffset, long pagesOffset) {
            return closeRam(stream().configuration("pc").capabilities("mapped-ram")
                    .sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE)
                    .mappedRamHeader(PAGE, bitmapOffset, pagesOffset));
        }

        @Test
        void targetPageBitsOutOfRange() {
            for (int bits : new int[] {8, 21, 40}) {
                byte[] bytes = stream().configuration("pc").targetPageBits(bits).eof()
                        .description("{\"devices\": []}").toByteArray();
                assertFails(MalformedStreamException.class, bytes);
            }
        }

        /** A page record and no page size to read it with, and none that reads the records: refused. */
        @Test
        void ramWhosePageSizeCannotBeTold() {
            byte[] bytes = ram(PAGE).u64(StreamBuilder.RAM_SAVE_FLAG_PAGE | StreamBuilder.RAM_SAVE_FLAG_CONTINUE)
                    .bytes(new byte[PAGE]).eos().footer(SECTION).eof().description("{\"devices\": []}").toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        /**
         * Every XBZRLE page whose bytes are read keeps a decoded copy (a whole page) in memory,
         * for the next delta: 14 bytes of file each, 4096 bytes of heap.
         * {@link ReadLimits#maxDecodedPages()} bounds how many (by default 1 GiB of them): past
         * it the reader refuses, having kept no more than the bound.
         */
        @Test
        void manyXbzrlePagesDoNotExhaustTheHeap() {
            int pages = 20_000;
            StreamBuilder b = ramPart((long) pages * PAGE);
            byte[] delta = {0, 1, 0x55};
            b.xbzrlePage(0, "pc.ram", delta);
            for (long p = 1; p < pages; p++) {
                b.xbzrlePage(p * PAGE, null, delta);
            }
            byte[] bytes = closeRam(b);
            ReadLimits limits = ReadLimits.builder().maxDecodedPages(1000).build();
            long before = allocatedBytes();
            LimitExceededException e = assertThrows(LimitExceededException.class, () -> {
                try (MigrationReader reader = MigrationReader.open(bytes, ReadOptions.builder().limits(limits).build())) {
                    for (MigrationEvent ev = reader.next(); ev != MigrationEvent.EOF; ev = reader.next()) {
                        if (ev == MigrationEvent.RAM_PAGE) {
                            reader.pageData();
                        }
                    }
                }
            });
            long allocated = allocatedBytes() - before;
            assertTrue(e.getMessage().contains("pages kept decoded for XBZRLE"), e.getMessage());
            assertTrue(allocated < 1000L * PAGE + (16L << 20),
                    "1000 decoded pages at most, but " + allocated + " bytes were allocated");
        }

        /**
         * A MEM_SIZE list of 65536 blocks (the limit), then pages that alternate between the last
         * two: a lookup by name that scans the list makes this 2.5 MB file take minutes.
         */
        @Test
        void blockLookupsDoNotScanTheList() {
            int blocks = ReadLimits.DEFAULT.maxBlocks();
            StreamBuilder b = stream().sectionStart(SECTION, "ram", 0, 4).memSize((long) blocks * PAGE);
            for (int i = 0; i < blocks; i++) {
                b.block(String.format("b%05d", i), PAGE);
            }
            b.eos().footer(SECTION).sectionPart(SECTION);
            for (int i = 0; i < 100_000; i++) {
                b.zeroPage(0, String.format("b%05d", blocks - 1 - (i & 1)), 0);
            }
            byte[] bytes = closeRam(b);
            assertNull(assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CleanFailure.readAll(bytes)));
        }
    }

    // ================================================================== other iterative sections

    @Nested
    final class OtherSections {

        @Test
        void storageAttributesMoreCountOf2To63() {
            byte[] bytes = closeS390(0x02, Long.MIN_VALUE);
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void storageAttributesMoreCountPastTheEnd() {
            byte[] bytes = closeS390(0x02, 1L << 40);
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void storageAttributesError() {
            byte[] bytes = closeS390(0x04, 0);
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void storageAttributesUnknownFlags() {
            byte[] bytes = closeS390(0x40, 0);
            assertFails(MalformedStreamException.class, bytes);
        }

        private static byte[] closeS390(int flags, long count) {
            return stream().sectionStart(3, "s390-storage_attributes", 0, 0).u64(flags).u64(count).u64(0x01)
                    .footer(3).eof().description(NO_DEVICES).toByteArray();
        }

        @Test
        void htabValidCountPastTheEnd() {
            byte[] bytes = stopHere(stream().sectionStart(4, "spapr/htab", 0, 1).u32(0)
                    .u32(0).u16(0xffff).u16(0).zeros(32));
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void htabOfVersion2() {
            byte[] bytes = stopHere(stream().sectionStart(4, "spapr/htab", 0, 2).u32(0xffffffffL));
            assertFails(MalformedStreamException.class, bytes);
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 7, 12, 0xffff})
        void unknownOrUnsupportedCommands(int command) {
            byte[] bytes = stream().command(command, new byte[0]).eof().description(NO_DEVICES).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void commandsWithTheWrongPayloadLength() {
            assertFails(MalformedStreamException.class, stream().command(StreamBuilder.MIG_CMD_PING, new byte[3])
                    .eof().description(NO_DEVICES).toByteArray());
            assertFails(MalformedStreamException.class, stream().command(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE,
                    new byte[8]).eof().description(NO_DEVICES).toByteArray());
            assertFails(MalformedStreamException.class, stream()
                    .command(StreamBuilder.MIG_CMD_SWITCHOVER_START, new byte[1]).eof().description(NO_DEVICES)
                    .toByteArray());
        }
    }

    // ================================================================== records

    @Nested
    final class Records {

        @ParameterizedTest
        @ValueSource(ints = {0x05, 0x09, 0x7d, 0x7f, 0x80, 0xff})
        void unknownRecordTypes(int type) {
            assertFails(MalformedStreamException.class, stream().u8(type).eof().description(NO_DEVICES).toByteArray());
        }

        @Test
        void descriptionBeforeEof() {
            byte[] bytes = stream().description("{\"devices\": [1]}").eof().description(NO_DEVICES).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void footerMismatch() {
            byte[] bytes = ram(PAGE).eos().footer(SECTION + 1).eof().description(NO_DEVICES).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void footerBeforeAnySection() {
            assertFails(MalformedStreamException.class, stream().footer(1).eof().description(NO_DEVICES).toByteArray());
        }

        @Test
        void partOfASectionNeverStarted() {
            byte[] bytes = stream().sectionPart(9).eos().footer(9).eof().description(NO_DEVICES).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void deviceNotInTheDescription() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).footer(1).eof().description(NO_DEVICES)
                    .toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void deviceWithoutAnyDescription() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).footer(1).eof().toByteArray();
            MigrationReadException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try (MigrationReader reader = MigrationReader.open(bytes, ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build())) {
                    drain(reader, eventBound(bytes.length));
                    return null;
                } catch (MigrationReadException failure) {
                    return failure;
                }
            });
            assertEquals(MissingDescriptionException.class, e == null ? null : e.getClass());
            CleanFailure.assertWellFormed(e, bytes.length);
        }

        @Test
        void bytesBetweenEofAndTheDescription() {
            byte[] bytes = stream().eof().zeros(3).description(NO_DEVICES).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void missingSubsection() {
            String description = Json.description(PAGE, Json.deviceWithSubsections("dev", 0, 1,
                    new String[] {Json.field("a", "uint8", 1)},
                    Json.struct("dev/sub", 1, new String[] {Json.field("b", "uint8", 1)})));
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(7).footer(1).eof().description(description)
                    .toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void nullptrThatIsNotZero() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8('1').footer(1).eof()
                    .description(oneDevice(Json.field("p", "nullptr", 1))).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void namesWithControlCharactersStayOnOneLine() {
            // the idstr comes from the stream and is quoted in the message
            byte[] bytes = stream().sectionFull(1, "evil\nname\r", 0, 1).footer(1).eof().description(NO_DEVICES)
                    .toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void blockNamesWithControlCharactersStayOnOneLine() {
            byte[] bytes = closeRam(ramPart(PAGE).zeroPage(0, "no\nsuch\nblock", 0));
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void fieldNamesWithControlCharactersStayOnOneLine() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).footer(1).eof()
                    .description(oneDevice("{\"name\": \"a\\nb\", \"type\": \"bool\", \"size\": 0}")).toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }
    }

    // ================================================================== file header and container

    @Nested
    final class Container {

        @Test
        void wrongMagic() {
            assertFails(MalformedStreamException.class, StreamBuilder.empty().header(0x5145564e, 3).eof()
                    .description(NO_DEVICES).toByteArray());
        }

        @Test
        void wrongVersion() {
            assertFails(MalformedStreamException.class, StreamBuilder.empty().header(StreamBuilder.QEMU_VM_FILE_MAGIC,
                    2).eof().description(NO_DEVICES).toByteArray());
        }

        @Test
        void emptyAndTinyFiles() {
            assertFails(TruncatedInputException.class, new byte[0]);
            assertFails(TruncatedInputException.class, new byte[] {0x51, 0x45, 0x56});
            assertFails(MissingDescriptionException.class, stream().toByteArray());
        }

        @Test
        void libvirtDataLengthPastTheEnd() {
            assertFails(TruncatedInputException.class, libvirt(1 << 20, 0, ByteOrder.LITTLE_ENDIAN));
            assertFails(TruncatedInputException.class, libvirt(0xffffffffL, 0, ByteOrder.LITTLE_ENDIAN));
            assertFails(TruncatedInputException.class, libvirt(0xffffffffL, 0, ByteOrder.BIG_ENDIAN));
        }

        @ParameterizedTest
        @ValueSource(ints = {1, 2, 3, 4, 5, 7, 99, -1})
        void libvirtCompressedOrUnknownFormat(int format) {
            assertFails(MalformedStreamException.class, libvirt(0, format, ByteOrder.LITTLE_ENDIAN));
        }

        @Test
        void libvirtHeaderCutShort() {
            byte[] header = libvirt(0, 0, ByteOrder.LITTLE_ENDIAN);
            assertFails(TruncatedInputException.class, java.util.Arrays.copyOf(header, 40));
        }

        /** A libvirt save header announcing {@code dataLength} bytes of XML, then an empty stream. */
        private static byte[] libvirt(long dataLength, int format, ByteOrder order) {
            ByteBuffer header = ByteBuffer.allocate(StreamBuilder.LIBVIRT_HEADER_BYTES).order(order);
            header.put(StreamBuilder.LIBVIRT_MAGIC.getBytes(StandardCharsets.US_ASCII));
            header.putInt(2).putInt((int) dataLength).putInt(1).putInt(format).putInt(0);
            return empty().bytes(header.array()).header().eof().description(NO_DEVICES).toByteArray();
        }
    }

    // ================================================================== the JSON description

    @Nested
    final class Description {

        private byte[] withDescription(String json) {
            return stream().eof().description(json).toByteArray();
        }

        @ParameterizedTest
        @ValueSource(strings = {
            "{garbage}",
            "{'devices': []} {'devices': []}",
            "{'devices': [}",
            "{'devices': 5}",
            "{'devices': [5]}",
            "{'devices': [{'name': 'd'}]}",
            "{'devices': [{'instance_id': 0}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': {}}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 'f'}]}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'type': 'uint8'}]}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 's', 'type': 'struct'}]}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 5, 'type': 'uint8'}]}]}",
            "{'devices': [{'name': 'd', 'instance_id': 99999999999999999999}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 'f', 'type': 'uint8', 'index': 1e30}]}]}",
            "{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 'f', 'type': 'uint8', 'size': 1.5}]}]}",
            "{'page_size': 3, 'devices': []}",
            "{'page_size': 1099511627776, 'devices': []}",
            "{'page_size': '4096', 'devices': []}",
            "{'page_size': 4096.0, 'devices': []}",
            "{}",
            "{'devices': null}",
            "{'configuration': 5, 'devices': []}",
        })
        void notAVmDescription(String json) {
            // written with ' for ": every case is JSON text or meant to be
            assertFails(MalformedStreamException.class, withDescription(json.replace('\'', '"')));
        }

        @Test
        void invalidUtf8() {
            byte[] json = "{\"devices\": [], \"x\": \"\u00ff\u00fe\"}".getBytes(StandardCharsets.ISO_8859_1);
            byte[] bytes = stream().eof().u8(StreamBuilder.QEMU_VM_VMDESCRIPTION).u32(json.length).bytes(json)
                    .toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @ParameterizedTest
        @ValueSource(strings = {"[{\"devices\": []}]", "{garbage", "{\"devices\": []", "\"{}\""})
        void notAnObjectIsNoDescription(String json) {
            assertFails(MissingDescriptionException.class, withDescription(json));
        }

        /** A negative page_size in the JSON is none: with pages that read as no page size, refused. */
        @Test
        void negativePageSizeIsNoPageSize() {
            byte[] bytes = ram(PAGE).u64(StreamBuilder.RAM_SAVE_FLAG_PAGE | StreamBuilder.RAM_SAVE_FLAG_CONTINUE)
                    .bytes(new byte[PAGE]).eos().footer(SECTION).eof()
                    .description("{\"page_size\": -4096, \"devices\": []}").toByteArray();
            assertFails(MalformedStreamException.class, bytes);
        }

        @Test
        void lengthOf1GiBPointingBeforeTheFile() {
            byte[] json = NO_DEVICES.getBytes(StandardCharsets.UTF_8);
            byte[] bytes = stream().eof().u8(StreamBuilder.QEMU_VM_VMDESCRIPTION).u32(1 << 30).bytes(json)
                    .toByteArray();
            assertFails(MissingDescriptionException.class, bytes);
        }

        @Test
        void lengthOf4GiB() {
            byte[] json = NO_DEVICES.getBytes(StandardCharsets.UTF_8);
            byte[] bytes = stream().eof().u8(StreamBuilder.QEMU_VM_VMDESCRIPTION).u32(0xffffffffL).bytes(json)
                    .toByteArray();
            assertFails(MissingDescriptionException.class, bytes);
        }

        @ParameterizedTest
        @ValueSource(longs = {1L << 31, Long.MAX_VALUE, (16 << 20) + 1})
        void arrayLengthOverTheLimit(long arrayLen) {
            String json = oneDevice("{\"name\": \"a\", \"array_len\": " + arrayLen
                    + ", \"type\": \"uint8\", \"size\": 1}");
            assertFails(LimitExceededException.class, withDescription(json));
        }

        @Test
        void arrayOfTheLimitPastTheEnd() {
            String json = oneDevice(Json.arrayField("a", "uint8", 1, 16 << 20));
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).u8(2).footer(1).eof().description(json)
                    .toByteArray();
            assertFails(TruncatedInputException.class, bytes);
        }

        @Test
        void structsNested10000Deep() {
            String body = Json.struct("leaf", 1, new String[] {Json.field("x", "uint8", 1)});
            StringBuilder json = new StringBuilder();
            for (int i = 0; i < 10_000; i++) {
                json.append("{\"vmsd_name\": \"s\", \"fields\": [{\"name\": \"s\", \"type\": \"struct\", \"struct\": ");
            }
            json.append(body);
            json.append("}]}".repeat(10_000));
            String description = Json.description(PAGE, "{\"name\": \"dev\", \"instance_id\": 0, \"fields\": "
                    + "[{\"name\": \"s\", \"type\": \"struct\", \"struct\": " + json + "}]}");
            assertFails(LimitExceededException.class, withDescription(description));
        }

        @Test
        void subsectionsNested10000Deep() {
            StringBuilder json = new StringBuilder();
            for (int i = 0; i < 10_000; i++) {
                json.append("{\"vmsd_name\": \"s\", \"fields\": [], \"subsections\": [");
            }
            json.append("]}".repeat(10_000));
            String description = Json.description(PAGE, "{\"name\": \"dev\", \"instance_id\": 0, \"fields\": [], "
                    + "\"subsections\": [" + json + "]}");
            assertFails(LimitExceededException.class, withDescription(description));
        }

        @Test
        void arraysNested10000DeepUnderAnUnknownKey() {
            String json = "{\"devices\": [], \"x\": " + "[".repeat(10_000) + "]".repeat(10_000) + "}";
            MigrationReadException e = CleanFailure.readAll(withDescription(json));
            assertTrue(e instanceof MalformedStreamException || e instanceof LimitExceededException,
                    () -> "expected a malformed or over-limit description, got " + e);
            CleanFailure.assertWellFormed(e, withDescription(json).length);
        }

        @Test
        void stringOf32MiB() {
            String json = "{\"devices\": [], \"x\": \"" + "a".repeat(32 << 20) + "\"}";
            MigrationReadException e = assertTimeoutPreemptively(Duration.ofSeconds(30),
                    () -> CleanFailure.readAll(withDescription(json)));
            // a long string is valid JSON; over jackson's string limit it is refused: either is clean
            if (e != null) {
                CleanFailure.assertWellFormed(e, json.length() + 13);
            }
        }

        /**
         * Zero-size elements consume no bytes: an array of them, or of empty structs, yields events
         * out of all proportion to the input. One device of 64 such arrays would take 2^30 events;
         * the reader must refuse the description or bound the events by the input.
         */
        @Test
        void arraysOfZeroSizeElementsDoNotMultiplyEvents() {
            String[] fields = new String[64];
            for (int i = 0; i < fields.length; i++) {
                fields[i] = Json.arrayField("z" + i, "buffer", 0, 16 << 20);
            }
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).footer(1).eof()
                    .description(oneDevice(fields)).toByteArray();
            assertRefusedInBoundedTime(bytes);
        }

        @Test
        void nestedStructArraysOfEmptyStructs() {
            String empty = Json.struct("e", 1, new String[0]);
            String inner = "{\"name\": \"i\", \"array_len\": 16777216, \"type\": \"struct\", \"struct\": " + empty
                    + ", \"size\": 0}";
            String outer = "{\"name\": \"o\", \"array_len\": 16777216, \"type\": \"struct\", \"struct\": "
                    + Json.struct("m", 1, new String[] {inner}) + ", \"size\": 0}";
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).footer(1).eof().description(oneDevice(outer))
                    .toByteArray();
            assertRefusedInBoundedTime(bytes);
        }

        /**
         * The description makes a 5-byte record stand for billions of events: the reader must
         * refuse (the description, or a bound on values of no bytes) within a fixed number of
         * events, whatever the description says.
         */
        private static void assertRefusedInBoundedTime(byte[] bytes) {
            MigrationReadException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> CleanFailure.readAll(bytes, 64L << 20));
            assertTrue(e != null && (e.getClass() == MalformedStreamException.class
                    || e.getClass() == LimitExceededException.class), () -> "expected a refusal, got " + e);
            CleanFailure.assertWellFormed(e, bytes.length);
        }
    }

    // ================================================================== helpers

    /**
     * Reads {@code bytes} to the end (or one of the {@code allowed} failures) in this thread and
     * checks the heap it took: at most 16 MiB + 8 bytes per input byte. Reading the real samples
     * allocates 0.2 to 2.3 bytes per input byte.
     */
    @SafeVarargs
    private static void assertAllocatesInProportion(byte[] bytes, Class<? extends MigrationReadException>... allowed) {
        long before = allocatedBytes();
        MigrationReadException e = CleanFailure.readAll(bytes);
        long allocated = allocatedBytes() - before;
        if (e != null) {
            boolean expected = false;
            for (Class<? extends MigrationReadException> kind : allowed) {
                expected |= kind == e.getClass();
            }
            assertTrue(expected, () -> "unexpected " + e);
            CleanFailure.assertWellFormed(e, bytes.length);
        }
        long bound = (16L << 20) + 8L * bytes.length;
        assertTrue(allocated <= bound, () -> "reading " + bytes.length + " bytes allocated " + allocated
                + " bytes, over " + bound + (e == null ? " (read to EOF)" : " (then " + e.getMessage() + ")"));
    }

    /** Bytes this thread has allocated so far (HotSpot's com.sun.management.ThreadMXBean). */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
