package io.qevm;

import static io.qevm.StreamBuilder.filled;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input gives the documented exception class, exactly, with the byte offset of the record,
 * field or page at fault ({@code eventOffset()}), the cursor ({@code position()}; for a
 * truncation, where the data ends) and a one-line message that starts with that offset; from
 * every {@link SourceKind} alike ({@link CleanFailure#assertFails}). RAM streams give their page
 * size in CONFIGURATION, as QEMU does, so that a stream, which finds the description only at the
 * device state, reads them as a file does; where a stream must differ, the test says how.
 */
final class MigrationReaderErrorTest {

    private static final int PAGE = 4096;

    // ------------------------------------------------------------------ helpers

    static ReadOptions options(ReadLimits limits, boolean requireDescription) {
        ReadOptions.Builder options = ReadOptions.builder().limits(limits);
        return (requireDescription ? options : options.disable(ReadOptions.Feature.REQUIRE_DESCRIPTION)).build();
    }

    static <T extends MigrationReadException> T fails(Class<T> type, byte[] bytes) {
        return fails(type, bytes, ReadLimits.DEFAULT, true);
    }

    static <T extends MigrationReadException> T fails(Class<T> type, byte[] bytes, ReadLimits limits,
                                                      boolean requireDescription) {
        return CleanFailure.assertFails(type, bytes, options(limits, requireDescription));
    }

    /** Asserts where the failure is: the event's offset and the cursor's. */
    static void assertAt(MigrationReadException e, long eventOffset, long position) {
        assertEquals(eventOffset, e.eventOffset(), "eventOffset of: " + e.getMessage());
        assertEquals(position, e.position(), "position of: " + e.getMessage());
    }

    static void assertMentions(MigrationReadException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.problem().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }

    static String desc(String... devices) {
        return Json.description(PAGE, devices);
    }

    /** The device stream cut at {@code cut}, then the description: the stream ends at {@code cut}. */
    static byte[] cutBeforeDescription(StreamBuilder b, long cut, String json) {
        byte[] head = b.cut(cut);
        byte[] tail = StreamBuilder.empty().description(json).toByteArray();
        byte[] bytes = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, bytes, head.length, tail.length);
        return bytes;
    }

    /**
     * The file header and a CONFIGURATION whose target-page-bits give the page size (4 KiB) before
     * RAM, as QEMU sends it: a stream, which finds the JSON description (and its page_size) only
     * at the device state, then reads RAM as a file does.
     */
    static StreamBuilder configured() {
        return stream().configuration("pc").targetPageBits(12);
    }

    /**
     * The device stream cut at {@code cut}, inside a record before the device state (RAM,
     * CONFIGURATION, COMMAND, the iterative sections). A file, the description after the cut,
     * stops at the cut: the device stream ends where the description starts. A stream finds the
     * description only when it reaches the device state, so it reads on into the description's
     * bytes (and fails as they make it); cut plainly, it stops at the end of the input, at the
     * same record, with the same problem but for the words that name the end. Returns the file's
     * failure.
     */
    static TruncatedInputException cutBeforeDeviceState(StreamBuilder b, long cut, String json) {
        CleanFailure.Apart<TruncatedInputException> failed = CleanFailure.assertFailsApart(TruncatedInputException.class,
                cutBeforeDescription(b, cut, json));
        TruncatedInputException file = failed.file();
        assertEquals(cut, file.position(), "a truncation's position is where the data ends: " + file.getMessage());
        String fileEnd = Messages.endOfRegion(Messages.DESCRIPTION_REGION, cut);
        assertTrue(file.problem().endsWith(fileEnd), file.getMessage());
        byte[] plain = b.cut(cut);
        MigrationReadException stream = CleanFailure.readAll(SourceKind.STREAM, plain, ReadOptions.DEFAULT, 100_000);
        assertEquals(TruncatedInputException.class, stream == null ? null : stream.getClass(),
                () -> "cut plainly, from a stream: " + stream);
        CleanFailure.assertWellFormed(stream, plain.length);
        assertAt(stream, file.eventOffset(), cut);
        assertEquals(file.problem().replace(fileEnd, Messages.endOfSource("input", cut)), stream.problem());
        assertEquals(file.sectionName(), stream.sectionName());
        assertEquals(file.event(), stream.event());
        return file;
    }

    /** A RAM START with one block of {@code length} bytes, EOS and footer, then a PART header. */
    static StreamBuilder ramPart(long length) {
        return configured().sectionStart(1, "ram", 0, 4).memSize(length).block("pc.ram", length).eos().footer(1)
                .sectionPart(1);
    }

    static final String DEV = Json.device("dev", 0, 1, Json.field("a", "uint32", 4), Json.field("b", "uint8", 1));

    // ================================================================== file header and description

    @Nested
    final class Header {

        @Test
        void wrongMagic() {
            byte[] bytes = StreamBuilder.empty().header(0x5145564e, 3).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, 0, 0);
            assertMentions(e, "0x5145564e");
            assertNull(e.sectionName());
            assertEquals(-1, e.sectionId());
        }

        @Test
        void notAMigrationStreamAtAll() {
            byte[] bytes = "{\"hello\": \"world\"}\n".getBytes(StandardCharsets.US_ASCII);
            assertAt(fails(MalformedStreamException.class, bytes), 0, 0);
        }

        @Test
        void wrongVersion() {
            byte[] bytes = StreamBuilder.empty().header(StreamBuilder.QEMU_VM_FILE_MAGIC, 2).eof()
                    .description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, 4, 4);
            assertMentions(e, "version 3", "2");
        }

        @Test
        void noDescription() {
            byte[] bytes = stream().sectionStart(1, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE).eos().footer(1)
                    .eof().toByteArray();
            MissingDescriptionException e = fails(MissingDescriptionException.class, bytes);
            assertAt(e, bytes.length, bytes.length);
            assertMentions(e, "JSON VM description");
        }

        @Test
        void descriptionCutShortIsNoDescription() {
            byte[] whole = stream().eof().description(desc()).toByteArray();
            byte[] bytes = Arrays.copyOf(whole, whole.length - 3);
            assertAt(fails(MissingDescriptionException.class, bytes), bytes.length, bytes.length);
        }

        @Test
        void deviceSectionWithoutDescriptionWhenNotRequired() {
            StreamBuilder b = stream().configuration("pc").targetPageBits(12);
            long sectionAt = b.position();
            byte[] bytes = b.sectionFull(3, "dev", 0, 1).u32(1).u8(2).footer(3).eof().toByteArray();
            MissingDescriptionException e = fails(MissingDescriptionException.class, bytes, ReadLimits.DEFAULT, false);
            assertEquals(sectionAt, e.eventOffset());
            assertEquals("dev", e.sectionName());
            assertEquals(3, e.sectionId());
            assertMentions(e, "dev");
        }

        @Test
        void descriptionThatIsNotJson() {
            StreamBuilder b = stream().eof();
            long jsonAt = b.position() + 5;
            byte[] bytes = b.description("{\"page_size\": 4096, \"devices\": [}").toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertTrue(e.eventOffset() >= jsonAt && e.eventOffset() < bytes.length, e.getMessage());
        }

        @Test
        void descriptionWithoutDevices() {
            byte[] bytes = stream().eof().description("{\"page_size\": 4096}").toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertMentions(e, "devices");
        }

        @Test
        void bytesBetweenEofAndDescription() {
            StreamBuilder b = stream();
            long eofAt = b.position();
            byte[] bytes = b.eof().bytes(0, 0, 0).description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, eofAt, eofAt + 1);
            assertMentions(e, "3 more bytes");
        }

        @Test
        void truncatedFileHeader() {
            byte[] bytes = Arrays.copyOf(stream().toByteArray(), 6);
            assertAt(fails(TruncatedInputException.class, bytes), 0, 6);
            assertAt(fails(TruncatedInputException.class, new byte[0]), 0, 0);
        }

        /** A gzip format (1) whose payload is not gzip data: named where the payload starts. */
        @Test
        void compressedLibvirtImage() {
            byte[] xml = "<domain/>".getBytes(StandardCharsets.US_ASCII);
            byte[] bytes = StreamBuilder.empty().libvirtHeader(xml, ByteOrder.LITTLE_ENDIAN, 1).bytes(filled(64, 0x1f))
                    .toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(92 + xml.length, e.eventOffset(), "the payload");
            assertMentions(e, "gzip", "format 1");
        }

        @Test
        void libvirtHeaderCutShort() {
            byte[] whole = StreamBuilder.libvirt("<domain/>").eof().description(desc()).toByteArray();
            byte[] bytes = Arrays.copyOf(whole, 40);
            assertAt(fails(TruncatedInputException.class, bytes), 0, 40);
        }

        /**
         * A file knows its size and refuses the header's data_len (at byte 20); a stream reads
         * the XML and finds the end of the input, named at the same field.
         */
        @Test
        void libvirtXmlPastTheEnd() {
            String xml = "<domain>" + "x".repeat(200) + "</domain>";
            byte[] whole = StreamBuilder.libvirt(xml).toByteArray();
            byte[] bytes = Arrays.copyOf(whole, 150);
            CleanFailure.Apart<TruncatedInputException> failed = CleanFailure.assertFailsApart(
                    TruncatedInputException.class, bytes);
            assertAt(failed.file(), 20, 150);
            assertEquals(Messages.libvirtDataBeyondEnd(xml.length(), 150), failed.file().problem());
            assertEquals(TruncatedInputException.class, failed.stream().getClass());
            assertAt(failed.stream(), 20, 150);
            assertEquals(Messages.libvirtDataPastTheEnd(xml.length(), "input", 150), failed.stream().problem());
        }

        /**
         * A description over {@code maxDescriptionBytes} is there: saying the file has none
         * (suppress-vmdesc) misleads; the limit should be named.
         */
        @Test
        void descriptionOverTheLimitIsNamedAsSuch() {
            byte[] bytes = stream().eof().description(desc()).toByteArray();
            LimitExceededException e = fails(LimitExceededException.class, bytes,
                    ReadLimits.builder().maxDescriptionBytes(16).build(), true);
            assertMentions(e, "description");
        }
    }

    // ================================================================== records and sections

    @Nested
    final class Records {

        @ParameterizedTest
        @ValueSource(ints = {0x05, 0x09, 0x7d, 0x7f, 0xff})
        void unknownRecordType(int type) {
            StreamBuilder b = stream().switchoverStart();
            long at = b.position();
            byte[] bytes = b.u8(type).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 1);
            assertMentions(e, "0x" + Integer.toHexString(type));
        }

        @Test
        void descriptionRecordBeforeEof() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.description(desc()).eof().description(desc()).toByteArray();
            assertAt(fails(MalformedStreamException.class, bytes), at, at + 1);
        }

        @Test
        void mismatchedFooter() {
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u32(1).u8(2);
            long footerAt = b.position();
            byte[] bytes = b.footer(4).eof().description(desc(DEV)).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, footerAt, footerAt + 5);
            assertMentions(e, "3", "4");
        }

        @Test
        void footerBeforeAnySection() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.footer(1).eof().description(desc()).toByteArray();
            assertAt(fails(MalformedStreamException.class, bytes), at, at + 5);
        }

        @Test
        void partOfASectionNeverStarted() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.sectionPart(77).eos().footer(77).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 5);
            assertMentions(e, "77");
        }

        @Test
        void endOfASectionNeverStarted() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE).eos().footer(1);
            long at = b.position();
            byte[] bytes = b.sectionEnd(2).eos().footer(2).eof().description(desc()).toByteArray();
            assertAt(fails(MalformedStreamException.class, bytes), at, at + 5);
        }

        @Test
        void fullSectionNotInTheDescription() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.sectionFull(3, "mystery", 0, 1).u8(1).footer(3).eof().description(desc(DEV))
                    .toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "mystery");
        }

        @Test
        void fullSectionWithAnInstanceNotInTheDescription() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.sectionFull(3, "dev", 1, 1).u32(1).u8(2).footer(3).eof().description(desc(DEV))
                    .toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "dev", "1");
        }

        @Test
        void ramSectionOfAnotherVersion() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.sectionStart(1, "ram", 0, 3).eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "4", "3");
        }

        /**
         * No page size anywhere and a page record that reads as no page size (CONTINUE before any
         * block was named): the reader cannot tell the page size, and says so at the record.
         */
        @Test
        void ramWhosePageSizeCannotBeTold() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE);
            long at = b.position();
            byte[] bytes = b.u64(StreamBuilder.RAM_SAVE_FLAG_PAGE | StreamBuilder.RAM_SAVE_FLAG_CONTINUE)
                    .bytes(new byte[PAGE]).eos().footer(1).eof().description("{\"devices\": []}").toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertTrue(e.problem().startsWith("cannot tell the RAM page size"), e.problem());
        }

        /** A RAM section of a block list and no pages needs no page size: nothing to tell it from, nothing wrong. */
        @Test
        void ramWithoutPagesNeedsNoPageSize() {
            byte[] bytes = stream().sectionStart(1, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE).eos().footer(1)
                    .eof().description("{\"devices\": []}").toByteArray();
            for (SourceKind kind : SourceKind.values()) {
                assertNull(CleanFailure.readAll(kind, bytes, ReadOptions.DEFAULT, 1000), kind.toString());
            }
        }

        @Test
        void unknownConfigurationSubsection() {
            StreamBuilder b = stream().configuration("pc").targetPageBits(12);
            long at = b.position();
            byte[] bytes = b.subsection("configuration/colour", 1).u32(0).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "configuration/colour");
        }
    }

    // ================================================================== commands

    @Nested
    final class Commands {

        @ParameterizedTest
        @ValueSource(ints = {0, 12, 0xffff})
        void unknownCommandNumber(int command) {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.command(command, new byte[0]).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 5);
            assertMentions(e, String.valueOf(command));
        }

        @Test
        void packagedIsRefused() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.command(StreamBuilder.MIG_CMD_PACKAGED, new byte[] {0, 0, 0, 8}).header().eof()
                    .eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 5); // refused as soon as the command number is read
            assertMentions(e, "PACKAGED");
        }

        @ParameterizedTest
        @ValueSource(ints = {1, 4, 16})
        void switchoverStartWithAPayload(int length) {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.command(StreamBuilder.MIG_CMD_SWITCHOVER_START, new byte[length]).eof()
                    .description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 5 + length);
            assertMentions(e, "11", String.valueOf(length));
        }

        @Test
        void pingAndAdviseOfTheWrongLength() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] ping = b.command(StreamBuilder.MIG_CMD_PING, new byte[2]).eof().description(desc()).toByteArray();
            assertAt(fails(MalformedStreamException.class, ping), at, at + 7);
            byte[] advise = stream().command(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE, new byte[8]).eof()
                    .description(desc()).toByteArray();
            assertAt(fails(MalformedStreamException.class, advise), at, at + 13);
            byte[] open = stream().command(StreamBuilder.MIG_CMD_OPEN_RETURN_PATH, new byte[1]).eof()
                    .description(desc()).toByteArray();
            assertAt(fails(MalformedStreamException.class, open), at, at + 6);
        }
    }

    // ================================================================== RAM

    @Nested
    final class Ram {

        @ParameterizedTest
        @ValueSource(ints = {0x080, 0x400, 0x800, 0x020, 0x000, 0x00a, 0x018})
        void unknownRamFlags(int flags) {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.u64(0x1000 | flags).eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 8);
            assertEquals("ram", e.sectionName());
            assertEquals(1, e.sectionId());
        }

        @Test
        void hookIsNamed() {
            StreamBuilder b = ramPart(0x4000);
            byte[] bytes = b.u64(StreamBuilder.RAM_SAVE_FLAG_HOOK).eos().footer(1).eof().description(desc())
                    .toByteArray();
            assertMentions(fails(MalformedStreamException.class, bytes), "HOOK");
        }

        @Test
        void pageOfABlockNotInTheList() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.page(0, "pc.rom", filled(PAGE, 1)).eos().footer(1).eof().description(desc())
                    .toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 8 + 1 + 6);
            assertMentions(e, "pc.rom");
        }

        @Test
        void continueBeforeAnyBlock() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.zeroPage(0x1000, null, 0).eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 8);
            assertMentions(e, "CONTINUE");
        }

        @ParameterizedTest
        @ValueSource(longs = {0x4000L, 0x5000L, 0x7ffffffffffff000L})
        void pageBeyondTheBlockLength(long address) {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.zeroPage(address, "pc.ram", 0).eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "0x" + Long.toHexString(address), "pc.ram");
        }

        /** An address with bit 63 set is far beyond any block, not a negative offset. */
        @Test
        void pageAddressWithTheTopBitSet() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.page(0x8000000000000000L, "pc.ram", filled(PAGE, 1)).eos().footer(1).eof()
                    .description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
        }

        @Test
        void blockLengthsExceedingTheTotal() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(0x3000).block("a", 0x1000);
            long at = b.position();
            byte[] bytes = b.block("b", 0x4000).eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 2 + 8);
            assertMentions(e, "'b'", "16384", "8192");
        }

        @Test
        void blockListShortOfTheTotal() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(0x3000).block("a", 0x1000);
            long at = b.position();
            byte[] bytes = b.eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 1);
            assertMentions(e, "8192");
        }

        @Test
        void xbzrleWithAnotherEncodingFlag() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram").u8(2).u16(3).bytes(0, 1, 5)
                    .eos().footer(1).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "0x2");
        }

        @Test
        void xbzrleLongerThanAPage() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.xbzrlePage(0, "pc.ram", new byte[PAGE + 1]).eos().footer(1).eof().description(desc())
                    .toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, String.valueOf(PAGE + 1));
        }

        @Test
        void xbzrleRunPastThePageEnd() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            // unchanged 4095 bytes, then 2 new bytes: one past the page
            byte[] bytes = b.xbzrlePage(0, "pc.ram", new byte[] {(byte) 0xff, 0x1f, 0x02, 1, 2}).eos().footer(1).eof()
                    .description(desc()).toByteArray();
            assertEquals(at, fails(MalformedStreamException.class, bytes).eventOffset());
        }

        @Test
        void compressedPageThatIsNotZlib() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.compressedPage(0, "pc.ram", filled(40, 0x55)).eos().footer(1).eof().description(desc())
                    .toByteArray();
            assertEquals(at, fails(MalformedStreamException.class, bytes).eventOffset());
        }

        @ParameterizedTest
        @ValueSource(ints = {PAGE - 1, PAGE + 1})
        void compressedPageInflatingToAnotherSize(int size) {
            byte[] zlib = StreamBuilder.zlib(new byte[size]);
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.compressedPage(0, "pc.ram", zlib).eos().footer(1).eof().description(desc())
                    .toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, String.valueOf(PAGE));
        }

        @Test
        void mappedRamHeaderOfAnotherVersionOrPageSize() {
            StreamBuilder b = configured().capabilities("mapped-ram")
                    .sectionStart(1, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE);
            long headerAt = b.position();
            long bitmap = headerAt + 28;
            byte[] version2 = configured().capabilities("mapped-ram")
                    .sectionStart(1, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE)
                    .u32(2).u64(PAGE).u64(bitmap).u64(bitmap + 8).u64le(1).bytes(filled(PAGE, 1))
                    .eos().footer(1).eof().description(desc()).toByteArray();
            assertMentions(fails(MalformedStreamException.class, version2), "version 1", "2");
            byte[] pageSize = b.mappedRamHeader(2 * PAGE, bitmap, bitmap + 8).u64le(1).bytes(filled(PAGE, 1))
                    .eos().footer(1).eof().description(desc()).toByteArray();
            assertMentions(fails(MalformedStreamException.class, pageSize), String.valueOf(2 * PAGE));
        }

        @Test
        void mappedRamPagesBeyondTheFile() {
            StreamBuilder b = configured().capabilities("mapped-ram")
                    .sectionStart(1, "ram", 0, 4).memSize(0x100000).block("pc.ram", 0x100000);
            long headerAt = b.position();
            byte[] bytes = b.mappedRamHeader(PAGE, headerAt + 28, 0x100000).eos().footer(1).eof().description(desc())
                    .toByteArray();
            CleanFailure.Apart<TruncatedInputException> failed = CleanFailure.assertFailsApart(
                    TruncatedInputException.class, bytes);
            TruncatedInputException e = failed.file();
            assertEquals(headerAt, e.eventOffset());
            assertEquals(bytes.length, e.position(), "a truncation's position is where the data ends");
            assertMentions(e, "pc.ram", "0x100000");
            // a stream does not know its size: it reads the bitmap, skips towards the pages and
            // finds the end of the input, at the block's entry (the RAM_BLOCK event)
            MigrationReadException stream = failed.stream();
            assertEquals(TruncatedInputException.class, stream.getClass());
            long entry = headerAt - 1 - 6 - 8;
            assertAt(stream, entry, bytes.length);
            long bitmapEnd = headerAt + 28 + 0x100000 / PAGE / 8; // one bit a page
            assertEquals(Messages.truncated("the space before the mapped-ram pages", 0x100000 - bitmapEnd,
                    Messages.endOfSource("input", bytes.length)), stream.problem());
        }

        @Test
        void compressedPageOverTheLimit() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            byte[] bytes = b.compressedPage(0, "pc.ram", new byte[100]).eos().footer(1).eof().description(desc())
                    .toByteArray();
            LimitExceededException e = fails(LimitExceededException.class, bytes,
                    ReadLimits.builder().maxCompressedPageBytes(64).build(), true);
            assertAt(e, at, at + 8 + 7 + 4);
            assertMentions(e, "100", "64");
        }

        @Test
        void moreBlocksThanTheLimit() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(0x3000).block("a", 0x1000)
                    .block("b", 0x1000);
            long at = b.position();
            byte[] bytes = b.block("c", 0x1000).eos().footer(1).eof().description(desc()).toByteArray();
            LimitExceededException e = fails(LimitExceededException.class, bytes,
                    ReadLimits.builder().maxBlocks(2).build(), true);
            assertEquals(at, e.eventOffset());
        }
    }

    // ================================================================== other sections

    @Nested
    final class OtherSections {

        @Test
        void storageAttributesError() {
            StreamBuilder b = stream().sectionStart(3, "s390-storage_attributes", 0, 0);
            byte[] bytes = b.u64(0x04).footer(3).eof().description(desc()).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals("s390-storage_attributes", e.sectionName());
        }

        @Test
        void storageAttributesUnknownFlags() {
            byte[] bytes = stream().sectionStart(3, "s390-storage_attributes", 0, 0).u64(0x1000).footer(3).eof()
                    .description(desc()).toByteArray();
            assertMentions(fails(MalformedStreamException.class, bytes), "0x0");
        }

        @Test
        void htabOfAnotherVersion() {
            StreamBuilder b = stream();
            long at = b.position();
            byte[] bytes = b.sectionStart(3, "spapr/htab", 0, 2).u32(-1).footer(3).eof().description(desc())
                    .toByteArray();
            assertEquals(at, fails(MalformedStreamException.class, bytes).eventOffset());
        }
    }

    // ================================================================== device fields

    @Nested
    final class Fields {

        @Test
        void subsectionMarkerMissing() {
            String device = Json.deviceWithSubsections("dev", 0, 1, new String[] {Json.field("a", "uint8", 1)},
                    Json.struct("dev/sub", 1, new String[] {Json.field("s", "uint8", 1)}));
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
            long at = b.position();
            byte[] bytes = b.footer(3).eof().description(desc(device)).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 1);
            assertMentions(e, "dev/sub", "0x7e");
            assertEquals("dev", e.sectionName());
            assertEquals(3, e.sectionId());
        }

        @Test
        void nullptrMarkerWrong() {
            String device = Json.device("dev", 0, 1, Json.field("a", "uint8", 1), Json.field("p", "nullptr", 1));
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
            long at = b.position();
            byte[] bytes = b.u8(0).footer(3).eof().description(desc(device)).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertAt(e, at, at + 1);
            assertMentions(e, "'p'", "0x0");
        }

        @Test
        void fieldWithoutASize() {
            String device = Json.device("dev", 0, 1, "{\"name\": \"x\", \"type\": \"uint32\"}");
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
            long at = b.position();
            byte[] bytes = b.u32(1).footer(3).eof().description(desc(device)).toByteArray();
            MalformedStreamException e = fails(MalformedStreamException.class, bytes);
            assertEquals(at, e.eventOffset());
            assertMentions(e, "'x'");
        }

        @Test
        void nestingDeeperThanTheLimit() {
            String inner = Json.struct("c", 1, new String[] {Json.field("x", "uint8", 1)});
            String middle = Json.struct("b", 1, new String[] {Json.structField("c", -1, 1, inner)});
            String device = Json.device("dev", 0, 1, Json.structField("b", -1, 1, middle));
            byte[] bytes = stream().sectionFull(3, "dev", 0, 1).u8(1).footer(3).eof().description(desc(device))
                    .toByteArray();
            fails(LimitExceededException.class, bytes, ReadLimits.builder().maxNestingDepth(2).build(), true);
        }

        @Test
        void arrayLongerThanTheLimit() {
            String device = Json.device("dev", 0, 1, Json.arrayField("r", "uint8", 1, 5));
            byte[] bytes = stream().sectionFull(3, "dev", 0, 1).bytes(1, 2, 3, 4, 5).footer(3).eof()
                    .description(desc(device)).toByteArray();
            LimitExceededException e = fails(LimitExceededException.class, bytes,
                    ReadLimits.builder().maxArrayLength(4).build(), true);
            assertMentions(e, "5", "4");
        }
    }

    // ================================================================== truncation

    /**
     * The device stream cut inside each kind of record, with the description still after it (a
     * stream cut and the description appended) or without any (RAM-only reading): the error is a
     * {@link TruncatedInputException} whose position is the cut and whose event offset is the
     * record, field or page that could not be read whole.
     */
    @Nested
    final class Truncation {

        @Test
        void insideASectionHeader() {
            StreamBuilder b = stream();
            long at = b.position();
            b.sectionFull(3, "dev", 0, 1).u32(1).u8(2).footer(3);
            long cut = at + 1 + 4 + 1 + 2; // in the middle of "dev"
            TruncatedInputException e = fails(TruncatedInputException.class, cutBeforeDescription(b, cut, desc(DEV)));
            assertAt(e, at, cut);
        }

        @Test
        void insideARamPage() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            b.page(0x1000, "pc.ram", filled(PAGE, 1));
            long cut = at + 8 + 7 + 100;
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertAt(e, at, cut);
            assertEquals("ram", e.sectionName());
            assertEquals(1, e.sectionId());
            assertMentions(e, String.valueOf(cut));
        }

        @Test
        void insideARamPageAtTheEndOfAFileWithoutDescription() {
            StreamBuilder b = stream().configuration("virt").targetPageBits(12).sectionStart(1, "ram", 0, 4)
                    .memSize(0x4000).block("pc.ram", 0x4000).eos().footer(1).sectionPart(1);
            long at = b.position();
            b.page(0, "pc.ram", filled(PAGE, 1));
            long cut = at + 8 + 7 + 4000;
            TruncatedInputException e = fails(TruncatedInputException.class, b.cut(cut), ReadLimits.DEFAULT, false);
            assertAt(e, at, cut);
            assertMentions(e, "end of the file", String.valueOf(cut));
        }

        /**
         * No page size before RAM (no target-page-bits, no description read yet): the reader
         * tells it from the records. Cut inside the third page, the data ends inside a record
         * whatever the size: the size whose records read furthest (4 KiB) is taken, so that the
         * truncation is found in the third page, not in the first read as a page of 64 KiB.
         */
        @Test
        void insideARamPageWhenNothingGivesThePageSize() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(0x10000).block("pc.ram", 0x10000).eos()
                    .footer(1).sectionPart(1).page(0, "pc.ram", StreamBuilder.pattern(PAGE, 1))
                    .page(0x1000, null, StreamBuilder.pattern(PAGE, 2));
            long third = b.position();
            b.page(0x2000, null, StreamBuilder.pattern(PAGE, 3));
            long cut = third + 8 + 100;
            TruncatedInputException e = fails(TruncatedInputException.class, b.cut(cut), ReadLimits.DEFAULT, false);
            assertAt(e, third, cut);
            assertEquals(Messages.truncated("page", PAGE, Messages.endOfSource("file", cut)), e.problem());
        }

        @Test
        void insideABlockListEntry() {
            StreamBuilder b = stream().sectionStart(1, "ram", 0, 4).memSize(0x3000).block("a", 0x1000);
            long at = b.position();
            b.block("pc.bios", 0x2000).eos().footer(1);
            long cut = at + 1 + 7 + 3; // in the used_length
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertAt(e, at, cut);
        }

        @Test
        void insideAFieldValue() {
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
            long at = b.position();
            b.u32(0x01020304).u8(2).footer(3);
            long cut = at + 2;
            TruncatedInputException e = fails(TruncatedInputException.class, cutBeforeDescription(b, cut, desc(DEV)));
            assertAt(e, at, cut);
            assertEquals("dev", e.sectionName());
            assertMentions(e, "'a'");
        }

        @Test
        void insideASubsectionHeader() {
            String device = Json.deviceWithSubsections("dev", 0, 1, new String[] {Json.field("a", "uint8", 1)},
                    Json.struct("dev/sub", 1, new String[] {Json.field("s", "uint8", 1)}));
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u8(1);
            long at = b.position();
            b.subsection("dev/sub", 1).u8(1).footer(3);
            long cut = at + 1 + 1 + 3;
            TruncatedInputException e = fails(TruncatedInputException.class,
                    cutBeforeDescription(b, cut, desc(device)));
            assertAt(e, at, cut);
        }

        @Test
        void insideACommandPayload() {
            StreamBuilder b = stream();
            long at = b.position();
            b.ping(7);
            long cut = at + 5 + 2;
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertAt(e, at, cut);
        }

        @Test
        void insideAFooter() {
            StreamBuilder b = stream().sectionFull(3, "dev", 0, 1).u32(1).u8(2);
            long at = b.position();
            b.footer(3);
            long cut = at + 3;
            TruncatedInputException e = fails(TruncatedInputException.class, cutBeforeDescription(b, cut, desc(DEV)));
            assertAt(e, at, cut);
        }

        @Test
        void insideTheConfiguration() {
            StreamBuilder b = stream();
            long at = b.position();
            b.configuration("pc-i440fx-7.2").capabilities("x-ignore-shared");
            long cut = at + 5 + 13 + 1 + 1 + 26 + 4 + 4 + 1 + 5; // in the capability name
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertAt(e, at, cut);
        }

        @Test
        void insideAnXbzrleDeltaAndACompressedPage() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            b.xbzrlePage(0, "pc.ram", new byte[] {0, 3, 1, 2, 3});
            TruncatedInputException e = cutBeforeDeviceState(b, at + 8 + 7 + 3 + 2, desc());
            assertAt(e, at, at + 8 + 7 + 3 + 2);
            StreamBuilder c = ramPart(0x4000);
            c.compressedPage(0, "pc.ram", new byte[50]);
            e = cutBeforeDeviceState(c, at + 8 + 7 + 4 + 10, desc());
            assertAt(e, at, at + 8 + 7 + 4 + 10);
        }

        @Test
        void insideAnHtabChunk() {
            StreamBuilder b = stream().sectionStart(12, "spapr/htab", 0, 1).u32(24).footer(12);
            long at = b.position();
            b.sectionPart(12).u32(0).u32(5).u16(2).u16(0).bytes(new byte[32]).zeros(8).footer(12);
            long cut = at + 5 + 4 + 8 + 20;
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertAt(e, at, cut);
            assertEquals("spapr/htab", e.sectionName());
        }

        @Test
        void insideStorageAttributes() {
            StreamBuilder b = stream().sectionStart(3, "s390-storage_attributes", 0, 0).u64(1).footer(3);
            long at = b.position();
            b.sectionPart(3).u64(0x1000 | StreamBuilder.STATTR_FLAG_MORE).u64(100).bytes(new byte[100]).u64(1)
                    .footer(3);
            long cut = at + 5 + 16 + 50;
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertAt(e, at, cut);
        }

        /** event() is "what the reader was reading": cut inside a page, that is a RAM_PAGE. */
        @Test
        void namesTheEventBeingRead() {
            StreamBuilder b = ramPart(0x4000);
            b.zeroPage(0, "pc.ram", 0);
            long at = b.position();
            b.page(0x1000, null, filled(PAGE, 1));
            TruncatedInputException e = cutBeforeDeviceState(b, at + 8 + 10, desc());
            assertEquals("RAM_PAGE", e.event(), e.getMessage());
        }

        /** The message says where the stream ends: "... the JSON VM description starts at byte N". */
        @Test
        void messageNamesWhereTheDescriptionStarts() {
            StreamBuilder b = ramPart(0x4000);
            long at = b.position();
            b.page(0x1000, "pc.ram", filled(PAGE, 1));
            long cut = at + 20;
            TruncatedInputException e = cutBeforeDeviceState(b, cut, desc());
            assertMentions(e, "starts at byte " + cut);
        }
    }
}
