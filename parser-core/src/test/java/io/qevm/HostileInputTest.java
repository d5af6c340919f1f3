package io.qevm;

import static io.qevm.CleanFailure.assertFailure;
import static io.qevm.CleanFailure.assertFailureStartsWith;
import static io.qevm.CleanFailure.assertFails;
import static io.qevm.CleanFailure.assertFailsApart;
import static io.qevm.CleanFailure.eventBound;
import static io.qevm.StreamBuilder.empty;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.CleanFailure.Apart;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.stream.Stream;
import tools.jackson.core.JsonToken;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Streams crafted to make the reader allocate, loop or index on the word of the file: huge
 * lengths and counts wherever one is read, offsets outside the file, descriptions that are not
 * what they claim. Each is read from every {@link SourceKind} and must fail with the one exception
 * class named, the problem of the one check meant to catch it (built from its {@link Messages}
 * template), at the byte offset of the record, field or page at fault, with a one-line message
 * and offsets inside the file ({@link CleanFailure#assertFails}); none may allocate from a length
 * it has not checked against the file.
 *
 * <p>A stream reads RAM before it has seen the JSON description (QEMU writes it last): the RAM
 * streams here give their page size in a CONFIGURATION record, as QEMU does, so that every kind
 * of source reads them alike. Where a stream legitimately fails otherwise (a length that runs
 * into the description, which a stream does not yet know is there), the test says so and asserts
 * what the stream does.
 */
final class HostileInputTest {

    private static final int PAGE = 4096;
    private static final long SECTION = 2;
    /** {"page_size": 4096, "devices": []}: enough for RAM-only streams. */
    private static final String NO_DEVICES = Json.description(PAGE);
    /** A SECTION_FULL header of device "dev": type, id, name, instance, version. */
    private static final int DEV_HEADER = 1 + 4 + 1 + 3 + 4 + 4;
    /** PageIndex.MAX_PAGES_PER_BLOCK - 1: the most pages a block may have. */
    private static final long MAX_BLOCK_PAGES = (1L << 40) - 1;

    /** The file header and a CONFIGURATION whose target-page-bits give the page size (4 KiB) before RAM. */
    private static StreamBuilder configured() {
        return stream().configuration("pc").targetPageBits(12);
    }

    /** A RAM section opened: START with the MEM_SIZE list of one block {@code pc.ram}. */
    private static StreamBuilder ram(long blockLength) {
        return configured().sectionStart(SECTION, "ram", 0, 4).memSize(blockLength).block("pc.ram", blockLength);
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

    /**
     * {@code b} stops where a record claims {@code length} bytes of {@code what} (from the record
     * at {@code eventOffset}), the description right after it. A file knows where the device
     * stream ends, the description's record, and stops the read there, the cursor at that end. A
     * stream finds the description only when it reaches the device state: it reads on into the
     * description's bytes and stops at the end of the input.
     */
    private static void assertPastTheEnd(StreamBuilder b, String description, long eventOffset, String what,
                                         long length) {
        long end = b.position();
        byte[] bytes = stopHere(b, description);
        Apart<TruncatedInputException> failed = assertFailsApart(TruncatedInputException.class, bytes);
        assertFailure(failed.file(), eventOffset, end,
                Messages.truncated(what, length, Messages.endOfRegion(Messages.DESCRIPTION_REGION, end)));
        assertEquals(TruncatedInputException.class, failed.stream().getClass(), failed.stream().getMessage());
        assertFailure(failed.stream(), eventOffset, bytes.length,
                Messages.truncated(what, length, Messages.endOfSource("input", bytes.length)));
    }

    private static void assertPastTheEnd(StreamBuilder b, long eventOffset, String what, long length) {
        assertPastTheEnd(b, NO_DEVICES, eventOffset, what, length);
    }

    // ================================================================== lengths past the end

    @Nested
    final class Lengths {

        @Test
        void sectionNameOf255BytesPastTheEnd() {
            StreamBuilder b = stream();
            long at = b.position();
            b.u8(StreamBuilder.QEMU_VM_SECTION_FULL).u32(1).u8(255).bytes("dev".getBytes(StandardCharsets.US_ASCII));
            assertPastTheEnd(b, at, "name", 255);
        }

        @Test
        void blockNameOf255BytesPastTheEnd() {
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE);
            long entry = b.position();
            b.u8(255).bytes("pc".getBytes(StandardCharsets.US_ASCII));
            assertPastTheEnd(b, entry, "block name", 255);
        }

        @Test
        void pageNameOf255BytesPastTheEnd() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            b.u64(StreamBuilder.RAM_SAVE_FLAG_PAGE).u8(255).u8('p');
            assertPastTheEnd(b, record, "block name", 255);
        }

        /** The description is known by the time a device is read: every kind stops at its record. */
        @Test
        void subsectionNameOf255BytesPastTheEnd() {
            String description = Json.description(PAGE, Json.deviceWithSubsections("dev", 0, 1,
                    new String[] {Json.field("a", "uint8", 1)},
                    Json.struct("dev/sub", 1, new String[] {Json.field("b", "uint8", 1)})));
            StreamBuilder b = stream().sectionFull(1, "dev", 0, 1).u8(7);
            long subsection = b.position();
            b.u8(StreamBuilder.QEMU_VM_SUBSECTION).u8(255).u8('d');
            long end = b.position();
            TruncatedInputException e = assertFails(TruncatedInputException.class, stopHere(b, description));
            assertFailure(e, subsection, end,
                    Messages.truncated("name", 255, Messages.endOfRegion(Messages.DESCRIPTION_REGION, end)));
            assertEquals("dev", e.sectionName());
        }

        @Test
        void configurationNameLengthOf4GiB() {
            StreamBuilder b = stream();
            long at = b.position();
            b.u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(0xffffffffL);
            long lengthRead = b.position();
            byte[] bytes = stopHere(b.bytes("pc".getBytes(StandardCharsets.US_ASCII)));
            LimitExceededException e = assertFails(LimitExceededException.class, bytes);
            assertFailure(e, at, lengthRead, Messages.limit("bytes in the machine name", 0xffffffffL,
                    ReadLimits.DEFAULT.maxNameBytes()));
        }

        @Test
        void configurationNameLengthUnderTheLimitPastTheEnd() {
            StreamBuilder b = stream();
            long at = b.position();
            b.u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(4000).bytes("pc".getBytes(StandardCharsets.US_ASCII));
            assertPastTheEnd(b, at, "machine name", 4000);
        }

        @Test
        void capabilityCountOf4GiBWithFewNames() {
            StreamBuilder b = stream();
            long at = b.position();
            b.configuration("pc").subsection("configuration/capabilities", 1).u32(0xffffffffL);
            long countRead = b.position();
            byte[] bytes = stopHere(b.str8("x-ignore-shared").str8("mapped-ram"));
            assertFailure(assertFails(LimitExceededException.class, bytes), at, countRead,
                    Messages.limit("capabilities", 0xffffffffL, ReadLimits.DEFAULT.maxCapabilities()));
        }

        @Test
        void capabilityCountUnderTheLimitPastTheEnd() {
            StreamBuilder b = stream();
            long at = b.position();
            b.configuration("pc").subsection("configuration/capabilities", 1).u32(100).str8("x-ignore-shared")
                    .u8(255).u8('m');
            assertPastTheEnd(b, at, "name", 255);
        }

        /**
         * u32 count, then count x (u8 len + name): an empty name is one byte of file, and a String
         * and a list slot on the heap. 4 Mi of them must not take 30 times their size: the count
         * is refused (ReadLimits.maxCapabilities) before any name is read.
         */
        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void capabilityCountOf4GiBWithMillionsOfEmptyNames(SourceKind kind) {
            byte[] names = new byte[4 << 20];
            StreamBuilder b = stream().configuration("pc").subsection("configuration/capabilities", 1)
                    .u32(0xffffffffL);
            long countRead = b.position();
            byte[] bytes = b.bytes(names).description(NO_DEVICES).toByteArray();
            MigrationReadException e = assertAllocatesInProportion(kind, bytes);
            assertEquals(LimitExceededException.class, e == null ? null : e.getClass());
            assertFailure(e, 8, countRead,
                    Messages.limit("capabilities", 0xffffffffL, ReadLimits.DEFAULT.maxCapabilities()));
        }

        @Test
        void commandPayloadOf64KiBPastTheEnd() {
            StreamBuilder b = stream();
            long at = b.position();
            b.u8(StreamBuilder.QEMU_VM_COMMAND).u16(StreamBuilder.MIG_CMD_PING).u16(0xffff).u32(1);
            assertPastTheEnd(b, at, "command payload", 0xffff);
        }

        @Test
        void fieldSizeOf2To40Bytes() {
            byte[] bytes = stopHere(stream().sectionFull(1, "dev", 0, 1).u8(1),
                    oneDevice("{\"name\": \"big\", \"type\": \"buffer\", \"size\": 1099511627776}"));
            LimitExceededException e = assertFails(LimitExceededException.class, bytes);
            assertFailure(e, 8 + DEV_HEADER, 8 + DEV_HEADER,
                    Messages.limit("bytes in field 'big'", 1L << 40, ReadLimits.DEFAULT.maxFieldBytes()));
        }

        @Test
        void fieldSizeOf1MiBPastTheEnd() {
            StreamBuilder b = stream().sectionFull(1, "dev", 0, 1).u8(1);
            long end = b.position();
            byte[] bytes = stopHere(b, oneDevice("{\"name\": \"big\", \"type\": \"buffer\", \"size\": 1048576}"));
            TruncatedInputException e = assertFails(TruncatedInputException.class, bytes);
            assertFailure(e, 8 + DEV_HEADER, end, Messages.truncated("field 'big'", 1 << 20,
                    Messages.endOfRegion(Messages.DESCRIPTION_REGION, end)));
        }

        @Test
        void fieldSizeNegative() {
            byte[] bytes = stopHere(stream().sectionFull(1, "dev", 0, 1).u8(1),
                    oneDevice("{\"name\": \"neg\", \"type\": \"buffer\", \"size\": -5}"));
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8 + DEV_HEADER, 8 + DEV_HEADER,
                    Messages.badFieldSize("neg", "buffer", -5));
        }

        /**
         * A configuration the description describes (QEMU 8.2+): a file reads it by the
         * description and stops in the capability's name at the description's record. A stream
         * has no description yet and reads the record by its known layout: the name of 200 bytes
         * takes in the description's bytes, and the next record's type is a byte of its JSON.
         */
        @Test
        void capabilityFieldLengthPastTheEnd() {
            String configuration = Json.struct("configuration", 1, new String[] {Json.field("len", "uint32", 4),
                Json.field("name", "buffer", 2)}, Json.struct("configuration/capabilities", 1,
                    new String[] {Json.field("caps_count", "uint32", 4), Json.field("capabilities", "capability", 1)}));
            String description = Json.descriptionWithConfiguration(PAGE, configuration);
            StreamBuilder b = stream().u8(StreamBuilder.QEMU_VM_CONFIGURATION).u32(2).bytes('p', 'c')
                    .subsection("configuration/capabilities", 1).u32(1);
            long capability = b.position();
            b.u8(200).u8('x');
            long end = b.position();
            byte[] bytes = stopHere(b, description);
            Apart<TruncatedInputException> failed = assertFailsApart(TruncatedInputException.class, bytes);
            assertFailure(failed.file(), capability, end, Messages.truncated("capability", 200,
                    Messages.endOfRegion(Messages.DESCRIPTION_REGION, end)));
            long nextRecord = capability + 1 + 200;
            assertFailure(failed.stream(), nextRecord, nextRecord + 1, Messages.unknownRecord(bytes[(int) nextRecord]));
        }
    }

    // ================================================================== RAM

    @Nested
    final class Ram {

        @Test
        void memSizeTotalOf2To63WithOneSmallBlock() {
            // the block lengths never add up: the EOS u64's first byte is read as an empty name
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize(1L << 63).block("pc.ram", PAGE);
            long eos = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class, closeRam(b));
            assertFailure(e, eos, eos + 1, Messages.blockListShort((1L << 63) - PAGE));
            assertEquals("RAM_BLOCK", e.event());
        }

        @Test
        void blockLengthAbove2To63() {
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize(-PAGE);
            long entry = b.position();
            b.block("pc.ram", -PAGE);
            long lengthRead = b.position();
            assertFailure(assertFails(MalformedStreamException.class, closeRam(b)), entry, lengthRead,
                    Messages.blockListOverrun("pc.ram", -PAGE, -PAGE));
        }

        @Test
        void blockOf2To50PagesIsRefused() {
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize(1L << 62);
            long entry = b.position();
            b.block("pc.ram", 1L << 62);
            long lengthRead = b.position();
            assertFailure(assertFails(LimitExceededException.class, closeRam(b)), entry,
                    lengthRead, Messages.limit("pages in RAM block 'pc.ram'", (1L << 62) / PAGE, MAX_BLOCK_PAGES));
        }

        /**
         * Before the page size is known a block is counted in the smallest pages (1 KiB): a
         * stream that gives no page size before its block list is refused a block that a file,
         * which knows the page size from the description, reads.
         */
        @Test
        void blockOf2To40SmallestPagesIsRefusedBeforeThePageSizeIsKnown() {
            long huge = 1L << 50;
            StreamBuilder b = stream().sectionStart(SECTION, "ram", 0, 4).memSize(huge);
            long entry = b.position();
            b.block("pc.ram", huge);
            long lengthRead = b.position();
            byte[] bytes = closeRam(b);
            for (SourceKind kind : new SourceKind[] {SourceKind.MAPPED, SourceKind.HEAP}) {
                assertNull(CleanFailure.readAll(kind, bytes, ReadOptions.DEFAULT, eventBound(bytes.length)), "" + kind);
            }
            MigrationReadException e = CleanFailure.readAll(SourceKind.STREAM, bytes, ReadOptions.DEFAULT, 1000);
            assertEquals(LimitExceededException.class, e == null ? null : e.getClass());
            assertFailure(e, entry, lengthRead, Messages.limit("pages in RAM block 'pc.ram'", huge >> 10,
                    MAX_BLOCK_PAGES));
        }

        @ParameterizedTest
        @EnumSource(SourceKind.class)
        void blockLengthOf2To50IsReadWithoutAllocatingFromIt(SourceKind kind) {
            long huge = 1L << 50;
            byte[] bytes = closeRam(ramPart(huge).eos().footer(SECTION).sectionPart(SECTION)
                    .page(huge - PAGE, "pc.ram", pattern(PAGE, 1)).zeroPage(huge / 2, null, 0));
            long before = allocatedBytes();
            try (MigrationReader reader = kind.open(bytes)) {
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
            StreamBuilder b = ramPart(huge);
            long record = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class,
                    closeRam(b.page(huge, "pc.ram", pattern(PAGE, 1))));
            assertFailure(e, record, record + 8 + 7, Messages.pageOutsideBlock(huge, "pc.ram", huge));
            assertEquals("RAM_PAGE", e.event());
        }

        @Test
        void pageIntoABlockOfLengthZero() {
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("empty", 0)
                    .block("pc.ram", PAGE).eos().footer(SECTION).sectionPart(SECTION);
            long record = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class, closeRam(b.zeroPage(0, "empty", 0)));
            assertFailure(e, record, record + 8 + 6, Messages.pageOutsideBlock(0, "empty", 0));
            assertEquals("ZERO_PAGE", e.event());
        }

        @Test
        void pageOfAnUnlistedBlock() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class, closeRam(b.zeroPage(0, "nowhere", 0)));
            assertFailure(e, record, record + 8 + 8, Messages.unknownBlock("nowhere"));
        }

        @Test
        void continueBeforeAnyBlock() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class, closeRam(b.zeroPage(0, null, 0)));
            assertFailure(e, record, record + 8, Messages.continueWithoutBlock());
        }

        /**
         * One flag each, or none: a combination is refused at its record, not decoded by one of
         * its bits (which would read the record as a page and fail, if at all, at a later one).
         */
        @ParameterizedTest
        @ValueSource(ints = {0x001, 0x00a, 0x080, 0x400, 0x800, 0x0c0, 0x102, 0x04a, 0x2c0})
        void unknownOrCombinedRamFlags(int flags) {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.u64(flags).str8("pc.ram").zeros(PAGE));
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            assertFailure(e, record, record + 8, flags == StreamBuilder.RAM_SAVE_FLAG_HOOK ? Messages.ramHook()
                    : Messages.unknownRamFlags(flags));
            assertEquals("ram", e.sectionName());
            assertEquals(SECTION, e.sectionId());
        }

        /** The flags of a stream with no page size yet are the bits below the smallest page: 0x400 is an address. */
        @ParameterizedTest
        @ValueSource(ints = {0x400, 0x800})
        void flagBitsAboveTheSmallestPageAreAnAddressOnAStreamWithoutPageSize(int bits) {
            StreamBuilder b = stream().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE).eos()
                    .footer(SECTION).sectionPart(SECTION);
            long record = b.position();
            byte[] bytes = closeRam(b.u64(bits).str8("pc.ram").zeros(PAGE));
            Apart<MalformedStreamException> failed = assertFailsApart(MalformedStreamException.class, bytes);
            assertFailure(failed.file(), record, record + 8, Messages.unknownRamFlags(bits));
            assertFailure(failed.stream(), record, record + 8, Messages.unknownRamFlags(0));
        }

        @Test
        void ramSectionOfVersion5() {
            StreamBuilder b = configured();
            long section = b.position();
            b.sectionStart(SECTION, "ram", 0, 5);
            long headerRead = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class,
                    closeRam(b.memSize(PAGE).block("pc.ram", PAGE)));
            assertFailure(e, section, headerRead, Messages.unsupportedVersion("RAM", 5, 4));
        }

        @Test
        void compressedPageLengthOf4GiB() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE, "pc.ram")
                    .u32(0xffffffffL).zeros(16));
            assertFailure(assertFails(LimitExceededException.class, bytes), record, record + 8 + 7 + 4,
                    Messages.limit("bytes in a compressed page", 0xffffffffL, ReadLimits.DEFAULT.maxCompressedPageBytes()));
        }

        @Test
        void compressedPageLengthPastTheEnd() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            b.ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_COMPRESS_PAGE, "pc.ram").u32(1 << 20).zeros(16);
            assertPastTheEnd(b, record, "compressed page", 1 << 20);
        }

        @Test
        void compressedPageThatIsNotZlib() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.compressedPage(0, "pc.ram", pattern(64, 3)));
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            assertFailureStartsWith(e, record, Messages.badZlib(""));
            assertEquals(record + 8 + 7 + 4 + 64, e.position());
        }

        @ParameterizedTest
        @ValueSource(ints = {1, PAGE - 1, PAGE + 1, 1 << 20})
        void compressedPageThatInflatesToTheWrongSize(int size) {
            byte[] zlib = StreamBuilder.zlib(new byte[size]);
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.compressedPage(0, "pc.ram", zlib));
            assertFailure(assertFails(MalformedStreamException.class, bytes), record, record + 8 + 7 + 4 + zlib.length,
                    Messages.badInflatedSize(size < PAGE ? "only " + size + " of" : "more than", PAGE));
        }

        @Test
        void xbzrleLengthAboveThePageSize() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram")
                    .u8(StreamBuilder.ENCODING_FLAG_XBZRLE).u16(0xffff).zeros(16));
            assertFailure(assertFails(MalformedStreamException.class, bytes), record, record + 8 + 7 + 3,
                    Messages.xbzrleTooLong(0xffff, PAGE));
        }

        @Test
        void xbzrleLengthPastTheEnd() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            b.ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram").u8(StreamBuilder.ENCODING_FLAG_XBZRLE)
                    .u16(PAGE).zeros(16);
            assertPastTheEnd(b, record, "XBZRLE data", PAGE);
        }

        @Test
        void xbzrleWithAnotherEncodingFlag() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram")
                    .u8(2).u16(3).bytes(0, 1, 0x55));
            assertFailure(assertFails(MalformedStreamException.class, bytes), record, record + 8 + 7 + 3,
                    Messages.badXbzrleEncoding(2));
        }

        /** The delta (hex) and what is wrong with it, as migration/xbzrle.c's decoder would find it. */
        static Stream<Arguments> badDeltas() {
            return Stream.of(
                    Arguments.of("ff7f0155", "at 2: unchanged run passes the end of the page"), // 16383 unchanged
                    Arguments.of("00ff7f55", "at 3: run of 16383 new bytes passes the end of the page"),
                    Arguments.of("0005aabb", "at 2: run of 5 new bytes passes the end of the delta"),
                    Arguments.of("00015500", "at 3: expected a run of unchanged bytes, found the end of the delta"),
                    Arguments.of("000155010055", "at 4: expected a run of new bytes, found a zero-length run"),
                    Arguments.of("000155000155", "at 3: expected a run of unchanged bytes, found a zero-length run"),
                    Arguments.of("ffff0155", "at 0: expected a count of one or two bytes, found a longer one"),
                    Arguments.of("00", "at 0: expected a run of unchanged bytes, found the end of the delta"),
                    Arguments.of("0000", "at 1: expected a run of new bytes, found the end of the delta"));
        }

        @ParameterizedTest
        @MethodSource("badDeltas")
        void xbzrleDeltaThatBreaksItsRules(String hex, String problem) {
            byte[] delta = HexFormat.of().parseHex(hex);
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            byte[] bytes = closeRam(b.xbzrlePage(0, "pc.ram", delta));
            assertFailure(assertFails(MalformedStreamException.class, bytes), record,
                    record + 8 + 7 + 3 + delta.length, Messages.badXbzrle(problem));
        }

        /**
         * A bitmap past the end: a file knows its size and refuses the header that points there;
         * a stream does not know it, skips towards the bitmap and finds the end of the input.
         */
        @Test
        void mappedRamBitmapPastTheEnd() {
            long bitmap = 1L << 40;
            assertMappedRamOutside(bitmap, bitmap + 8, bitmap, "the space before the mapped-ram bitmap");
        }

        @Test
        void mappedRamPagesPastTheEnd() {
            // the bitmap right after the header, in the file; the pages region far past its end
            long headerEnd = mappedRamEntry().position() + 28;
            long pages = Long.MAX_VALUE - PAGE;
            assertMappedRamOutside(headerEnd, pages, pages, "the space before the mapped-ram pages");
        }

        /**
         * A file refuses a header with a region outside it (at the header, the cursor at the
         * file's end); a stream skips to {@code skipTo} as {@code what} and finds the end of the
         * input, at the block's entry.
         */
        private static void assertMappedRamOutside(long bitmapOffset, long pagesOffset, long skipTo, String what) {
            StreamBuilder b = mappedRamEntry();
            long header = b.position();
            byte[] bytes = closeRam(b.mappedRamHeader(PAGE, bitmapOffset, pagesOffset));
            long entry = header - 1 - 6 - 8;
            Apart<TruncatedInputException> failed = assertFailsApart(TruncatedInputException.class, bytes);
            assertFailure(failed.file(), header, bytes.length,
                    Messages.mappedRamOutsideFile("pc.ram", bitmapOffset, pagesOffset, bytes.length));
            assertEquals(TruncatedInputException.class, failed.stream().getClass(), failed.stream().getMessage());
            long skipFrom = skipTo == bitmapOffset ? header + 28 : header + 28 + 8;
            assertFailure(failed.stream(), entry, bytes.length,
                    Messages.truncated(what, skipTo - skipFrom, Messages.endOfSource("input", bytes.length)));
        }

        /** Header, bitmap, pages, in that order (QEMU's layout): offsets before them are malformed. */
        @ParameterizedTest
        @ValueSource(strings = {"-4096 0", "0 -4096", "-9223372036854775808 -9223372036854775808",
            "64 1048576", // the bitmap inside the header
            "1048576 524288"}) // the pages before the bitmap
        void mappedRamOffsetsOutOfOrder(String offsets) {
            long bitmap = Long.parseLong(offsets.split(" ")[0]);
            long pages = Long.parseLong(offsets.split(" ")[1]);
            StreamBuilder b = mappedRamEntry();
            long header = b.position();
            long entry = header - 1 - 6 - 8;
            byte[] bytes = closeRam(b.mappedRamHeader(PAGE, bitmap, pages));
            assertFailure(assertFails(MalformedStreamException.class, bytes), entry, header + 28,
                    Messages.mappedRamLayout("pc.ram", header + 28, bitmap, 8, pages));
        }

        @Test
        void mappedRamHeaderOfVersion2() {
            StreamBuilder b = mappedRamEntry();
            long header = b.position();
            byte[] bytes = stopHere(b.u32(2).u64(PAGE).u64(0).u64(0));
            assertFailure(assertFails(MalformedStreamException.class, bytes), header - 1 - 6 - 8, header + 28,
                    Messages.mappedRamVersion(2));
        }

        /**
         * A mapped-ram header whose pages region ends where the block entry starts: "the stream
         * continues at pages_offset + used_length" would send the cursor back to read the same
         * entry again, for ever.
         */
        @Test
        void mappedRamPagesRegionThatSendsTheCursorBack() {
            StreamBuilder b = configured().capabilities("mapped-ram")
                    .sectionStart(SECTION, "ram", 0, 4).memSize(PAGE);
            long entry = b.position();
            b.block("zero", 0).mappedRamHeader(PAGE, 8, entry);
            long headerEnd = b.position();
            b.block("pc.ram", PAGE).mappedRamHeader(PAGE, 0, 0);
            byte[] bytes = closeRam(b);
            MalformedStreamException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertFails(MalformedStreamException.class, bytes),
                    "the cursor was sent back: it never reaches EOF");
            assertFailure(e, entry, headerEnd, Messages.mappedRamLayout("zero", headerEnd, 8, 0, entry));
        }

        /** A stream with capability mapped-ram, RAM opened, the entry of the 1-page block written. */
        private static StreamBuilder mappedRamEntry() {
            return configured().capabilities("mapped-ram")
                    .sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE);
        }

        @ParameterizedTest
        @ValueSource(ints = {8, 21, 40})
        void targetPageBitsOutOfRange(int bits) {
            StreamBuilder b = stream();
            long at = b.position();
            b.configuration("pc").targetPageBits(bits);
            long end = b.position();
            byte[] bytes = b.eof().description("{\"devices\": []}").toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), at, end, Messages.badPageBits(bits));
        }

        /** A page record and no page size to read it with, and none that reads the records: refused. */
        @Test
        void ramWhosePageSizeCannotBeTold() {
            StreamBuilder b = stream().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE);
            long record = b.position();
            byte[] bytes = b.u64(StreamBuilder.RAM_SAVE_FLAG_PAGE | StreamBuilder.RAM_SAVE_FLAG_CONTINUE)
                    .bytes(new byte[PAGE]).eos().footer(SECTION).eof().description("{\"devices\": []}").toByteArray();
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            assertFailure(e, record, record + 8, Messages.noPageSize());
            assertEquals("RAM_PAGE", e.event());
        }

        /**
         * Every XBZRLE page whose bytes are read keeps a decoded copy (a whole page) in memory,
         * for the next delta: 14 bytes of file each, 4096 bytes of heap.
         * {@link ReadLimits#maxDecodedPages()} bounds how many (by default 1 GiB of them): past
         * it the reader refuses, having kept no more than the bound. (A stream keeps no copies:
         * its consumer lends a {@link PageStore}.)
         */
        @ParameterizedTest
        @EnumSource(value = SourceKind.class, names = {"MAPPED", "HEAP"})
        void manyXbzrlePagesDoNotExhaustTheHeap(SourceKind kind) {
            int pages = 20_000;
            StreamBuilder b = ramPart((long) pages * PAGE);
            byte[] delta = {0, 1, 0x55};
            long first = b.position();
            b.xbzrlePage(0, "pc.ram", delta);
            long second = b.position();
            for (long p = 1; p < pages; p++) {
                b.xbzrlePage(p * PAGE, null, delta);
            }
            byte[] bytes = closeRam(b);
            ReadLimits limits = ReadLimits.builder().maxDecodedPages(1000).build();
            long before = allocatedBytes();
            LimitExceededException e = assertThrows(LimitExceededException.class, () -> {
                try (MigrationReader reader = kind.open(bytes, ReadOptions.builder().limits(limits).build())) {
                    for (MigrationEvent ev = reader.next(); ev != MigrationEvent.EOF; ev = reader.next()) {
                        if (ev == MigrationEvent.RAM_PAGE) {
                            reader.pageData();
                        }
                    }
                }
            });
            long allocated = allocatedBytes() - before;
            // records of 14 bytes (CONTINUE) after the first of 21: the 1001st page is the one refused
            long refused = second + 1000L * 14 - 14;
            assertFailure(e, refused, refused + 14, Messages.limit("pages kept decoded for XBZRLE", 1001, 1000));
            assertEquals(first + 21, second);
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
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize((long) blocks * PAGE);
            for (int i = 0; i < blocks; i++) {
                b.block(String.format("b%05d", i), PAGE);
            }
            b.eos().footer(SECTION).sectionPart(SECTION);
            for (int i = 0; i < 100_000; i++) {
                b.zeroPage(0, String.format("b%05d", blocks - 1 - (i & 1)), 0);
            }
            byte[] bytes = closeRam(b);
            for (SourceKind kind : SourceKind.values()) {
                assertNull(assertTimeoutPreemptively(Duration.ofSeconds(20),
                        () -> CleanFailure.readAll(kind, bytes, ReadOptions.DEFAULT, eventBound(bytes.length))),
                        kind.toString());
            }
        }

        @Test
        void oneBlockMoreThanTheLimit() {
            int blocks = ReadLimits.DEFAULT.maxBlocks() + 1;
            StreamBuilder b = configured().sectionStart(SECTION, "ram", 0, 4).memSize((long) blocks * PAGE);
            for (int i = 0; i < blocks - 1; i++) {
                b.block(String.format("b%05d", i), PAGE);
            }
            long last = b.position();
            b.block("last", PAGE);
            assertFailure(assertFails(LimitExceededException.class, closeRam(b)), last, last + 1 + 4 + 8,
                    Messages.limit("RAM blocks", blocks, blocks - 1));
        }
    }

    // ================================================================== other iterative sections

    @Nested
    final class OtherSections {

        /** The section record's offset: the iterative sections report their errors there. */
        private static final long S390_AT = 8;

        @Test
        void storageAttributesMoreCountOf2To63() {
            byte[] bytes = closeS390(0x02, Long.MIN_VALUE);
            assertFailure(assertFails(MalformedStreamException.class, bytes), S390_AT, s390Body() + 16,
                    Messages.negativeLength("storage attribute count", Long.MIN_VALUE));
        }

        @Test
        void storageAttributesMoreCountPastTheEnd() {
            StreamBuilder b = stream().sectionStart(3, "s390-storage_attributes", 0, 0).u64(0x02).u64(1L << 40)
                    .u64(0x01).footer(3).eof();
            assertPastTheEnd(b, S390_AT, "storage attributes", 1L << 40);
        }

        @Test
        void storageAttributesError() {
            assertFailure(assertFails(MalformedStreamException.class, closeS390(0x04, 0)), S390_AT, s390Body() + 8,
                    Messages.storageAttributesError());
        }

        @Test
        void storageAttributesUnknownFlags() {
            MalformedStreamException e = assertFails(MalformedStreamException.class, closeS390(0x40, 0));
            assertFailure(e, S390_AT, s390Body() + 8, Messages.unknownStorageAttributeFlags(0x40));
            assertEquals("s390-storage_attributes", e.sectionName());
        }

        private static long s390Body() {
            return stream().sectionStart(3, "s390-storage_attributes", 0, 0).position();
        }

        private static byte[] closeS390(int flags, long count) {
            return stream().sectionStart(3, "s390-storage_attributes", 0, 0).u64(flags).u64(count).u64(0x01)
                    .footer(3).eof().description(NO_DEVICES).toByteArray();
        }

        @Test
        void htabValidCountPastTheEnd() {
            StreamBuilder b = stream().sectionStart(4, "spapr/htab", 0, 1).u32(0).u32(0).u16(0xffff).u16(0).zeros(32);
            assertPastTheEnd(b, 8, "hash PTEs", 0xffffL * 16);
        }

        @Test
        void htabOfVersion2() {
            StreamBuilder b = stream().sectionStart(4, "spapr/htab", 0, 2);
            long headerRead = b.position();
            byte[] bytes = stopHere(b.u32(0xffffffffL));
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8, headerRead,
                    Messages.unsupportedVersion("spapr/htab", 2, 1));
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 7, 12, 0xffff})
        void unknownOrUnsupportedCommands(int command) {
            byte[] bytes = stream().command(command, new byte[0]).eof().description(NO_DEVICES).toByteArray();
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            assertFailure(e, 8, 8 + 5, command == StreamBuilder.MIG_CMD_PACKAGED ? Messages.packagedUnsupported()
                    : Messages.unknownCommand(command));
            assertEquals("COMMAND", e.event());
        }

        @ParameterizedTest
        @ValueSource(ints = {StreamBuilder.MIG_CMD_PING, StreamBuilder.MIG_CMD_POSTCOPY_ADVISE,
            StreamBuilder.MIG_CMD_SWITCHOVER_START, StreamBuilder.MIG_CMD_OPEN_RETURN_PATH})
        void commandsWithTheWrongPayloadLength(int command) {
            int length = command == StreamBuilder.MIG_CMD_POSTCOPY_ADVISE ? 8 : 3;
            int expected = switch (command) {
                case StreamBuilder.MIG_CMD_PING -> 4;
                case StreamBuilder.MIG_CMD_POSTCOPY_ADVISE -> 16;
                default -> 0;
            };
            byte[] bytes = stream().command(command, new byte[length]).eof().description(NO_DEVICES).toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8, 8 + 5 + length,
                    Messages.badCommandLength(command, length, expected));
        }
    }

    // ================================================================== records

    @Nested
    final class Records {

        @ParameterizedTest
        @ValueSource(ints = {0x05, 0x09, 0x7d, 0x7f, 0x80, 0xff})
        void unknownRecordTypes(int type) {
            MalformedStreamException e = assertFails(MalformedStreamException.class,
                    stream().u8(type).eof().description(NO_DEVICES).toByteArray());
            assertFailure(e, 8, 9, Messages.unknownRecord(type));
            assertNull(e.sectionName());
            assertEquals(-1, e.sectionId());
        }

        @Test
        void descriptionBeforeEof() {
            byte[] bytes = stream().description("{\"devices\": [1]}").eof().description(NO_DEVICES).toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8, 9, Messages.descriptionBeforeEof());
        }

        @Test
        void footerMismatch() {
            StreamBuilder b = ram(PAGE).eos();
            long footer = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class,
                    b.footer(SECTION + 1).eof().description(NO_DEVICES).toByteArray());
            assertFailure(e, footer, footer + 5, Messages.footerMismatch(SECTION + 1, SECTION));
            assertEquals("ram", e.sectionName());
            assertEquals("FOOTER", e.event());
        }

        @Test
        void footerBeforeAnySection() {
            assertFailure(assertFails(MalformedStreamException.class,
                    stream().footer(1).eof().description(NO_DEVICES).toByteArray()), 8, 13,
                    Messages.footerWithoutSection(1));
        }

        @Test
        void partOfASectionNeverStarted() {
            byte[] bytes = stream().sectionPart(9).eos().footer(9).eof().description(NO_DEVICES).toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8, 13,
                    Messages.unknownSectionId(9, RecordType.PART));
        }

        /** The description is found when a stream reaches the device state: every kind refuses the section alike. */
        @Test
        void deviceNotInTheDescription() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).footer(1).eof().description(NO_DEVICES)
                    .toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8, 8 + DEV_HEADER,
                    Messages.undescribedSection("dev", 0));
        }

        @Test
        void deviceWithoutAnyDescription() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).footer(1).eof().toByteArray();
            MissingDescriptionException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertFails(MissingDescriptionException.class, bytes, ReadOptions.builder()
                            .disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build()));
            assertFailure(e, 8, 8 + DEV_HEADER, Messages.deviceWithoutDescription("dev", 0));
            assertEquals("dev", e.sectionName());
            assertEquals(1, e.sectionId());
        }

        @Test
        void bytesBetweenEofAndTheDescription() {
            byte[] bytes = stream().eof().zeros(3).description(NO_DEVICES).toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8, 9, Messages.bytesAfterEof(3, true));
        }

        @Test
        void missingSubsection() {
            String description = Json.description(PAGE, Json.deviceWithSubsections("dev", 0, 1,
                    new String[] {Json.field("a", "uint8", 1)},
                    Json.struct("dev/sub", 1, new String[] {Json.field("b", "uint8", 1)})));
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(7).footer(1).eof().description(description)
                    .toByteArray();
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            long marker = 8 + DEV_HEADER + 1;
            assertFailure(e, marker, marker + 1, Messages.subsectionMissing("dev/sub", StreamBuilder.QEMU_VM_SECTION_FOOTER));
            assertEquals("SUBSECTION", e.event());
        }

        @Test
        void nullptrThatIsNotZero() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8('1').footer(1).eof()
                    .description(oneDevice(Json.field("p", "nullptr", 1))).toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 8 + DEV_HEADER, 8 + DEV_HEADER + 1,
                    Messages.badNullptr("p", (byte) '1'));
        }

        @Test
        void namesWithControlCharactersStayOnOneLine() {
            // the idstr comes from the stream and is quoted in the message
            byte[] bytes = stream().sectionFull(1, "evil\nname\r", 0, 1).footer(1).eof().description(NO_DEVICES)
                    .toByteArray();
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            assertFailure(e, 8, 8 + DEV_HEADER + 7, Messages.undescribedSection("evil\nname\r", 0));
            assertTrue(e.getMessage().endsWith("section 'evil\\x0aname\\x0d' instance 0 is not in the JSON VM description"),
                    e.getMessage());
        }

        @Test
        void blockNamesWithControlCharactersStayOnOneLine() {
            StreamBuilder b = ramPart(PAGE);
            long record = b.position();
            MalformedStreamException e = assertFails(MalformedStreamException.class,
                    closeRam(b.zeroPage(0, "no\nsuch\nblock", 0)));
            assertFailure(e, record, record + 8 + 1 + 13, Messages.unknownBlock("no\nsuch\nblock"));
            assertTrue(e.getMessage().endsWith("found 'no\\x0asuch\\x0ablock'"), e.getMessage());
        }

        @Test
        void fieldNamesWithControlCharactersStayOnOneLine() {
            byte[] bytes = stream().sectionFull(1, "dev", 0, 1).u8(1).footer(1).eof()
                    .description(oneDevice("{\"name\": \"a\\nb\", \"type\": \"bool\", \"size\": 0}")).toByteArray();
            MalformedStreamException e = assertFails(MalformedStreamException.class, bytes);
            assertFailure(e, 8 + DEV_HEADER, 8 + DEV_HEADER, Messages.badFieldSize("a\nb", "bool", 0));
            assertTrue(e.getMessage().contains("field 'a\\x0ab'"), e.getMessage());
        }
    }

    // ================================================================== file header and container

    @Nested
    final class Container {

        @Test
        void wrongMagic() {
            byte[] bytes = empty().header(0x5145564e, 3).eof().description(NO_DEVICES).toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 0, 0, Messages.badMagic(0x5145564e));
        }

        @Test
        void wrongVersion() {
            byte[] bytes = empty().header(StreamBuilder.QEMU_VM_FILE_MAGIC, 2).eof().description(NO_DEVICES)
                    .toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), 4, 4, Messages.badVersion(2));
        }

        @Test
        void emptyAndTinyFiles() {
            assertFailure(assertFails(TruncatedInputException.class, new byte[0]), 0, 0, Messages.empty("file"));
            assertFailure(assertFails(TruncatedInputException.class, new byte[] {0x51, 0x45, 0x56}), 0, 3,
                    Messages.truncated("a 32-bit value", 4, Messages.endOfSource("file", 3)));
        }

        /**
         * A file header and nothing else: a file sees at once that no description ends it; a
         * stream reads on for a record and finds the end of the input.
         */
        @Test
        void fileHeaderAlone() {
            Apart<MissingDescriptionException> failed = assertFailsApart(MissingDescriptionException.class,
                    stream().toByteArray());
            assertFailure(failed.file(), 8, 8, Messages.noDescription());
            assertEquals(TruncatedInputException.class, failed.stream().getClass(), failed.stream().getMessage());
            assertFailure(failed.stream(), 8, 8, Messages.truncated("a byte", 1, Messages.endOfSource("input", 8)));
        }

        /**
         * The XML's length past the end: a file knows its size and refuses the header's data_len;
         * a stream skips towards the QEMU stream and finds the end of the input.
         */
        @ParameterizedTest
        @ValueSource(strings = {"1048576 LITTLE_ENDIAN", "4294967295 LITTLE_ENDIAN", "4294967295 BIG_ENDIAN"})
        void libvirtDataLengthPastTheEnd(String lengthAndOrder) {
            long dataLength = Long.parseLong(lengthAndOrder.split(" ")[0]);
            ByteOrder order = lengthAndOrder.endsWith("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            byte[] bytes = libvirt(dataLength, 0, order);
            Apart<TruncatedInputException> failed = assertFailsApart(TruncatedInputException.class, bytes);
            assertFailure(failed.file(), 20, bytes.length, Messages.libvirtDataBeyondEnd(dataLength, bytes.length));
            assertEquals(TruncatedInputException.class, failed.stream().getClass(), failed.stream().getMessage());
            assertFailure(failed.stream(), 20, bytes.length, Messages.libvirtDataPastTheEnd(dataLength, "input",
                    bytes.length));
        }

        /** A compressed format whose payload is not that format's data: the payload's first bytes named. */
        @ParameterizedTest
        @ValueSource(ints = {1, 2, 3, 4, 5})
        void libvirtCompressedFormatOverARawStream(int format) {
            String[] names = {"raw", "gzip", "bzip2", "xz", "lzop", "zstd"};
            assertFailure(assertFails(MalformedStreamException.class, libvirt(0, format, ByteOrder.LITTLE_ENDIAN)),
                    StreamBuilder.LIBVIRT_HEADER_BYTES, StreamBuilder.LIBVIRT_HEADER_BYTES,
                    Messages.libvirtPayload(names[format], format, "bytes 51 45 56 4d 00 00 00 03 00"));
        }

        @ParameterizedTest
        @ValueSource(ints = {7, 99, -1})
        void libvirtUnknownFormat(int format) {
            assertFailure(assertFails(MalformedStreamException.class, libvirt(0, format, ByteOrder.LITTLE_ENDIAN)), 28,
                    28, Messages.libvirtFormat(Integer.toUnsignedLong(format)));
        }

        @Test
        void libvirtHeaderCutShort() {
            byte[] header = libvirt(0, 0, ByteOrder.LITTLE_ENDIAN);
            assertFailure(assertFails(TruncatedInputException.class, java.util.Arrays.copyOf(header, 40)), 0, 40,
                    Messages.truncated("libvirt save header", StreamBuilder.LIBVIRT_HEADER_BYTES,
                            Messages.endOfSource("file", 40)));
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

    /**
     * A stream finds the description at its QEMU_VM_EOF here (there is no device state), a file
     * when it is opened: the errors, which name offsets in the JSON, are the same.
     */
    @Nested
    final class Description {

        /** Where the JSON text of {@link #withDescription} starts: file header, EOF, record header. */
        private static final long JSON_AT = 8 + 1 + 5;

        private static byte[] withDescription(String json) {
            return stream().eof().description(json).toByteArray();
        }

        private static String quoted(String json) {
            return json.replace('\'', '"');
        }

        /** A case of {@link #notAVmDescription}: the token at fault is the first {@code token} in the text. */
        private static Arguments at(String json, String problem, String token) {
            String text = quoted(json);
            return Arguments.of(text, problem, text.indexOf(quoted(token)));
        }

        /** As {@link #at}, where Jackson's location is the end of the token (a value it fails to convert). */
        private static Arguments after(String json, String problem, String token) {
            String text = quoted(json);
            return Arguments.of(text, problem, text.indexOf(quoted(token)) + token.length());
        }

        /**
         * Descriptions (written with ' for ": every case is JSON text or meant to be), the
         * problem, and the offset of the token at fault in the text. A problem ending in ": " is
         * Jackson's message after ours, checked by its start.
         */
        static Stream<Arguments> notVmDescriptions() {
            String notJson = Messages.descriptionNotJson("");
            return Stream.of(
                    at("{garbage}", notJson, "g"),
                    Arguments.of(quoted("{'devices': []} {'devices': []}"), Messages.descriptionTrailingData(), 16),
                    at("{'devices': [}", notJson, "}"),
                    at("{'devices': 5}", Messages.descriptionWrongType("'devices' as a list", "'['",
                            JsonToken.VALUE_NUMBER_INT), "5"),
                    at("{'devices': [5]}", Messages.descriptionWrongType("a device object", "'{'",
                            JsonToken.VALUE_NUMBER_INT), "5"),
                    at("{'devices': [{'name': 'd'}]}", Messages.descriptionMissing("'instance_id' of device 'd'"), "}"),
                    at("{'devices': [{'instance_id': 0}]}", Messages.descriptionMissing("device 'name'"), "}"),
                    at("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': {}}]}",
                            Messages.descriptionWrongType("'fields' as a list", "'['", JsonToken.START_OBJECT), "{}"),
                    at("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 'f'}]}]}",
                            Messages.descriptionMissing("'type' of field 'f'"), "{'name': 'f'"),
                    at("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'type': 'uint8'}]}]}",
                            Messages.descriptionMissing("field 'name'"), "{'type'"),
                    at("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 's', 'type': 'struct'}]}]}",
                            Messages.descriptionMissing("'struct' of struct field 's'"), "{'name': 's'"),
                    at("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 5, 'type': 'uint8'}]}]}",
                            Messages.descriptionWrongType("field name", "a string", JsonToken.VALUE_NUMBER_INT), "5"),
                    at("{'devices': [{'name': 'd', 'instance_id': 99999999999999999999}]}",
                            Messages.descriptionWrongType("instance_id", "an integer of 64 bits",
                                    JsonToken.VALUE_NUMBER_INT), "9"),
                    after("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 'f', 'type': 'uint8',"
                            + " 'index': 1e30}]}]}", Messages.descriptionNotJson("Numeric value (1e30) out of range"),
                            "1e30"),
                    at("{'devices': [{'name': 'd', 'instance_id': 0, 'fields': [{'name': 'f', 'type': 'uint8', 'size': 1.5}]}]}",
                            Messages.descriptionWrongType("size", "an integer", JsonToken.VALUE_NUMBER_FLOAT), "1.5"),
                    // page_size is checked once the description is read: at the JSON's start
                    at("{'page_size': 3, 'devices': []}", Messages.badPageSize(3), "{"),
                    at("{'page_size': 1099511627776, 'devices': []}", Messages.badPageSize(1L << 40), "{"),
                    at("{'page_size': '4096', 'devices': []}", Messages.descriptionWrongType("page_size", "an integer",
                            JsonToken.VALUE_STRING), "'4096'"),
                    at("{'page_size': 4096.0, 'devices': []}", Messages.descriptionWrongType("page_size", "an integer",
                            JsonToken.VALUE_NUMBER_FLOAT), "4096.0"),
                    at("{}", Messages.descriptionMissing("devices"), "}"),
                    at("{'devices': null}", Messages.descriptionWrongType("'devices' as a list", "'['",
                            JsonToken.VALUE_NULL), "null"),
                    at("{'configuration': 5, 'devices': []}", Messages.descriptionWrongType("configuration as an object",
                            "'{'", JsonToken.VALUE_NUMBER_INT), "5"));
        }

        @ParameterizedTest
        @MethodSource("notVmDescriptions")
        void notAVmDescription(String json, String problem, int token) {
            MalformedStreamException e = assertFails(MalformedStreamException.class, withDescription(json));
            if (problem.startsWith(Messages.descriptionNotJson(""))) {
                assertFailureStartsWith(e, JSON_AT + token, problem);
            } else {
                assertFailure(e, JSON_AT + token, JSON_AT + token, problem);
            }
            assertNull(e.sectionName());
        }

        @Test
        void invalidUtf8() {
            byte[] json = "{\"devices\": [], \"x\": \"\u00ff\u00fe\"}".getBytes(StandardCharsets.ISO_8859_1);
            byte[] bytes = stream().eof().u8(StreamBuilder.QEMU_VM_VMDESCRIPTION).u32(json.length).bytes(json)
                    .toByteArray();
            int after = 23; // Jackson's location: the byte after the 0xff
            assertFailureStartsWith(assertFails(MalformedStreamException.class, bytes), JSON_AT + after,
                    Messages.descriptionNotJson("Invalid UTF-8 start byte 0xff"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"[{\"devices\": []}]", "{garbage", "{\"devices\": []", "\"{}\""})
        void notAnObjectIsNoDescription(String json) {
            byte[] bytes = withDescription(json);
            assertFailure(assertFails(MissingDescriptionException.class, bytes), bytes.length, bytes.length,
                    Messages.noDescription());
        }

        /** A negative page_size in the JSON is none: with pages that read as no page size, refused. */
        @Test
        void negativePageSizeIsNoPageSize() {
            StreamBuilder b = stream().sectionStart(SECTION, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE);
            long record = b.position();
            byte[] bytes = b.u64(StreamBuilder.RAM_SAVE_FLAG_PAGE | StreamBuilder.RAM_SAVE_FLAG_CONTINUE)
                    .bytes(new byte[PAGE]).eos().footer(SECTION).eof()
                    .description("{\"page_size\": -4096, \"devices\": []}").toByteArray();
            assertFailure(assertFails(MalformedStreamException.class, bytes), record, record + 8,
                    Messages.noPageSize());
        }

        @ParameterizedTest
        @ValueSource(longs = {1 << 30, 0xffffffffL})
        void lengthPointingBeforeTheFileIsNoDescription(long length) {
            byte[] json = NO_DEVICES.getBytes(StandardCharsets.UTF_8);
            byte[] bytes = stream().eof().u8(StreamBuilder.QEMU_VM_VMDESCRIPTION).u32(length).bytes(json)
                    .toByteArray();
            assertFailure(assertFails(MissingDescriptionException.class, bytes), bytes.length, bytes.length,
                    Messages.noDescription());
        }

        @ParameterizedTest
        @ValueSource(longs = {1L << 31, Long.MAX_VALUE, (16 << 20) + 1})
        void arrayLengthOverTheLimit(long arrayLen) {
            String json = oneDevice("{\"name\": \"a\", \"array_len\": " + arrayLen
                    + ", \"type\": \"uint8\", \"size\": 1}");
            int field = json.indexOf("{\"name\": \"a\"");
            assertFailure(assertFails(LimitExceededException.class, withDescription(json)), JSON_AT + field,
                    JSON_AT + field, Messages.limit("array_len of field 'a'", arrayLen, ReadLimits.DEFAULT.maxArrayLength()));
        }

        @Test
        void arrayOfTheLimitPastTheEnd() {
            String json = oneDevice(Json.arrayField("a", "uint8", 1, 16 << 20));
            StreamBuilder b = stream().sectionFull(1, "dev", 0, 1).u8(1).u8(2).footer(1).eof();
            long end = b.position();
            TruncatedInputException e = assertFails(TruncatedInputException.class, b.description(json).toByteArray());
            // the elements run on over the footer and the EOF byte, to the description's record
            assertFailure(e, end, end, Messages.truncated("field 'a'", 1,
                    Messages.endOfRegion(Messages.DESCRIPTION_REGION, end)));
            assertEquals("FIELD", e.event());
        }

        /** The {@code n}th (from 1) occurrence of {@code token} in {@code text}. */
        private static int nth(String text, String token, int n) {
            int at = -1;
            for (int i = 0; i < n; i++) {
                at = text.indexOf(token, at + 1);
            }
            return at;
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
            // the device's struct field is at depth 2, the nth "struct": at depth n + 1
            int max = ReadLimits.DEFAULT.maxNestingDepth();
            int refused = nth(description, "\"struct\": {", max) + "\"struct\": ".length();
            assertFailure(assertFails(LimitExceededException.class, withDescription(description)), JSON_AT + refused,
                    JSON_AT + refused, Messages.limit("struct nesting in the description", max + 1, max));
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
            // the device's subsections are at depth 2, the nth {"vmsd_name" at depth n + 1
            int max = ReadLimits.DEFAULT.maxNestingDepth();
            int refused = nth(description, "{\"vmsd_name\"", max);
            assertFailure(assertFails(LimitExceededException.class, withDescription(description)), JSON_AT + refused,
                    JSON_AT + refused, Messages.limit("struct nesting in the description", max + 1, max));
        }

        /** Nesting under a key the parser skips is bounded by Jackson's own constraint (3 JSON levels a struct level). */
        @Test
        void arraysNested10000DeepUnderAnUnknownKey() {
            String json = "{\"devices\": [], \"x\": " + "[".repeat(10_000) + "]".repeat(10_000) + "}";
            int jacksonDepth = ReadLimits.DEFAULT.maxNestingDepth() * 3 + 8;
            MalformedStreamException e = assertFails(MalformedStreamException.class, withDescription(json));
            // Jackson's constraint exceptions carry no location: the reader names the JSON's start
            assertFailureStartsWith(e, JSON_AT, Messages.descriptionNotJson("Document nesting depth ("
                    + (jacksonDepth + 1) + ") exceeds the maximum allowed (" + jacksonDepth));
        }

        /** A long string is valid JSON, and under Jackson's string limit: the description reads. */
        @Test
        void stringOf32MiB() {
            String json = "{\"devices\": [], \"x\": \"" + "a".repeat(32 << 20) + "\"}";
            byte[] bytes = withDescription(json);
            for (SourceKind kind : SourceKind.values()) {
                assertNull(assertTimeoutPreemptively(Duration.ofSeconds(30),
                        () -> CleanFailure.readAll(kind, bytes, ReadOptions.DEFAULT, 100)), kind.toString());
            }
        }

        /**
         * Zero-size elements consume no bytes: an array of them, or of empty structs, yields events
         * out of all proportion to the input. One device of 64 such arrays would take 2^30 events;
         * the reader refuses past {@link ReadLimits#maxEmptyValues()} of them, at the first field.
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
         * refuse within a fixed number of events, whatever the description says, at the record's
         * fields (which take no bytes: all start where the section header ends).
         */
        private static void assertRefusedInBoundedTime(byte[] bytes) {
            LimitExceededException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                    () -> assertFails(LimitExceededException.class, bytes, ReadOptions.DEFAULT, 64L << 20));
            int max = ReadLimits.DEFAULT.maxEmptyValues();
            assertFailure(e, 8 + DEV_HEADER, 8 + DEV_HEADER, Messages.limit("field values of no bytes", max + 1L, max));
        }
    }

    // ================================================================== helpers

    /**
     * Reads {@code bytes} from {@code kind} to the end (or a failure, returned) in this thread and
     * checks the heap it took: at most 16 MiB + 8 bytes per input byte. Reading the real samples
     * allocates 0.2 to 2.3 bytes per input byte.
     */
    private static MigrationReadException assertAllocatesInProportion(SourceKind kind, byte[] bytes) {
        long before = allocatedBytes();
        MigrationReadException e = CleanFailure.readAll(kind, bytes, ReadOptions.DEFAULT, eventBound(bytes.length));
        long allocated = allocatedBytes() - before;
        if (e != null) {
            CleanFailure.assertWellFormed(e, bytes.length);
        }
        long bound = (16L << 20) + 8L * bytes.length;
        assertTrue(allocated <= bound, () -> "reading " + bytes.length + " bytes allocated " + allocated
                + " bytes, over " + bound + (e == null ? " (read to EOF)" : " (then " + e.getMessage() + ")"));
        return e;
    }

    /** Bytes this thread has allocated so far (HotSpot's com.sun.management.ThreadMXBean). */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
