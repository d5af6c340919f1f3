package io.qevm.ram;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.PageEncoding;
import io.qevm.ReadOptions;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.MalformedStreamException;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The XBZRLE decoder against QEMU's migration/xbzrle.c {@code xbzrle_decode_buffer} (and its
 * {@code uleb128_decode_small}), and the reader's decoding of XBZRLE and COMPRESS_PAGE records.
 *
 * <p>QEMU's decoder, which the expectations here follow (FORMAT.md, "RAM"):
 * <pre>
 * while (i &lt; slen) {
 *     if (slen - i &lt; 2) return -1;                        // a zero run needs 2 bytes at least
 *     ret = uleb128_decode_small(src + i, &amp;count);          // 1 or 2 bytes, else -1
 *     if (ret &lt; 0 || (i &amp;&amp; !count)) return -1;            // zero-length zero run only first
 *     i += ret; d += count;
 *     if (d &gt; dlen) return -1;
 *     if (slen - i &lt; 2) return -1;                        // a new-bytes run needs 2 bytes at least
 *     ret = uleb128_decode_small(src + i, &amp;count);
 *     if (ret &lt; 0 || !count) return -1;
 *     i += ret;
 *     if (d + count &gt; dlen || i + count &gt; slen) return -1;
 *     memcpy(dst + d, src + i, count); d += count; i += count;
 * }
 * return d;
 * </pre>
 * ram.c's load_xbzrle only tests the result against -1, so an empty delta (d = 0) is accepted.
 */
final class XbzrlePageDecoderTest {

    private static final int PAGE = 4096;

    // ================================================================== the decoder alone

    @Nested
    final class Decoder {

        @Test
        void oneAndTwoByteCounts() {
            byte[] previous = StreamBuilder.pattern(PAGE, 3);
            byte[] fresh = StreamBuilder.filled(300, 0x5a);
            byte[] tail = {1, 2, 3, 4, 5, 6, 7};
            // 200 unchanged (0xc8 0x01), 300 new (0xac 0x02); then 5 unchanged, 7 new (one byte each)
            byte[] delta = concat(bytes(0xc8, 0x01, 0xac, 0x02), fresh, bytes(5, 7), tail);

            byte[] expected = previous.clone();
            System.arraycopy(fresh, 0, expected, 200, 300);
            System.arraycopy(tail, 0, expected, 505, 7);
            assertDecodes(previous, delta, expected);
        }

        @Test
        void largestTwoByteCounts() {
            // 4095 unchanged = 0xff 0x1f, then 1 new byte ends the page
            byte[] previous = StreamBuilder.pattern(PAGE, 9);
            byte[] expected = previous.clone();
            expected[PAGE - 1] = 0x42;
            assertDecodes(previous, bytes(0xff, 0x1f, 0x01, 0x42), expected);

            // a whole page of new bytes: first zero run 0, then 4096 = 0x80 0x20
            byte[] whole = StreamBuilder.pattern(PAGE, 77);
            assertDecodes(previous, concat(bytes(0x00, 0x80, 0x20), whole), whole);
        }

        @Test
        void runEndingExactlyAtThePageEnd() {
            byte[] previous = StreamBuilder.pattern(PAGE, 1);
            byte[] expected = previous.clone();
            byte[] last = {9, 8, 7, 6, 5, 4};
            System.arraycopy(last, 0, expected, PAGE - 6, 6);
            // 4090 unchanged (0xfa 0x1f), 6 new: d == dlen exactly
            assertDecodes(previous, concat(bytes(0xfa, 0x1f, 6), last), expected);
        }

        @Test
        void firstUnchangedRunMayBeZero() {
            byte[] previous = StreamBuilder.pattern(PAGE, 5);
            byte[] expected = previous.clone();
            expected[0] = 'a';
            expected[1] = 'b';
            expected[2] = 'c';
            assertDecodes(previous, bytes(0, 3, 'a', 'b', 'c'), expected);
            // the same zero written on two bytes (0x80 0x00) is still a count of 0 at i == 0
            assertDecodes(previous, bytes(0x80, 0x00, 3, 'a', 'b', 'c'), expected);
        }

        @Test
        void severalRunsAndAZeroRunBetween() {
            byte[] previous = new byte[PAGE];
            byte[] expected = previous.clone();
            expected[0] = 1;
            expected[10] = 2;
            expected[11] = 3;
            expected[4000] = 4;
            // (0, 1 new) (9, 2 new) (3988 = 0x94 0x1f, 1 new)
            assertDecodes(previous, bytes(0, 1, 1, 9, 2, 2, 3, 0x94, 0x1f, 1, 4), expected);
        }

        @Test
        void emptyDeltaLeavesThePage() {
            // QEMU returns 0 (not -1): load_xbzrle accepts it and the page stays as it was
            byte[] previous = StreamBuilder.pattern(PAGE, 11);
            assertDecodes(previous, new byte[0], previous.clone());
        }

        @Test
        void deltaAtAnOffsetOfALargerSegment() {
            byte[] previous = new byte[PAGE];
            byte[] delta = bytes(0x10, 2, 0x61, 0x62);
            byte[] around = concat(bytes(0xff, 0xff, 0xff), delta, bytes(0xff, 0xff));
            byte[] page = previous.clone();
            assertNull(Xbzrle.decode(MemorySegment.ofArray(around), 3, delta.length, page, page.length));
            byte[] expected = previous.clone();
            expected[16] = 0x61;
            expected[17] = 0x62;
            assertArrayEquals(expected, page);
        }

        @Test
        void zeroLengthUnchangedRunAfterTheFirst() {
            assertRefused(bytes(0, 1, 'x', 0, 1, 'y'));
            assertRefused(bytes(5, 1, 'x', 0x80, 0x00, 1, 'y')); // zero on two bytes as well
        }

        @Test
        void zeroLengthNewRun() {
            assertRefused(bytes(5, 0, 'x'));
            assertRefused(bytes(5, 0x80, 0x00, 'x'));
            assertRefused(bytes(0, 1, 'x', 5, 0, 'y'));
        }

        @Test
        void threeByteCount() {
            // both bytes with the high bit: uleb128_decode_small refuses anything over 14 bits
            assertRefused(bytes(0x80, 0x80, 0x01, 1, 'x'));
            assertRefused(bytes(5, 0x81, 0x80, 0x01, 'x'));
        }

        @Test
        void unchangedRunPastThePageEnd() {
            assertRefused(bytes(0x81, 0x20, 1, 'x')); // 4097 unchanged
            assertRefused(bytes(0xff, 0x7f, 1, 'x')); // 16383 unchanged
        }

        @Test
        void newRunPastThePageEnd() {
            // 4000 unchanged, 100 new (all present in the delta)
            assertRefused(concat(bytes(0xa0, 0x1f, 100), new byte[100]));
            // 4096 unchanged (reaches the end exactly), then 1 new byte
            assertRefused(bytes(0x80, 0x20, 1, 'x'));
            // 0 unchanged, 4097 new
            assertRefused(concat(bytes(0, 0x81, 0x20), new byte[4097]));
        }

        @Test
        void newRunPastTheDeltaEnd() {
            assertRefused(bytes(0, 10, 'a', 'b', 'c'));
            assertRefused(bytes(0, 1, 'a', 5, 3, 'b', 'c'));
        }

        @Test
        void deltaEndingAfterAnUnchangedCount() {
            assertRefused(bytes(0x81, 0x01)); // a two-byte count of 129, then nothing
            assertRefused(bytes(0, 1, 'a', 0x81, 0x01));
            assertRefused(bytes(5, 1, 'a', 7, 0x81)); // a count cut in its middle
        }

        @Test
        void oneByteLeft() {
            assertRefused(bytes(5));
            assertRefused(bytes(0, 1, 'a', 7));
            assertRefused(bytes(0, 2, 'a', 'b', 0x81));
        }

        /**
         * Random deltas, mostly well-formed with one defect here and there, decoded by the decoder
         * and by a literal port of xbzrle_decode_buffer: both accept or both refuse, and agree on
         * the page when they accept.
         */
        @Test
        void agreesWithQemuOnRandomDeltas() {
            Random random = new Random(20240601);
            int accepted = 0;
            for (int round = 0; round < 20_000; round++) {
                int pageSize = switch (random.nextInt(3)) {
                    case 0 -> 64;
                    case 1 -> 200;
                    default -> PAGE;
                };
                byte[] previous = new byte[pageSize];
                random.nextBytes(previous);
                byte[] delta = randomDelta(random, pageSize);

                byte[] ours = previous.clone();
                String problem = Xbzrle.decode(MemorySegment.ofArray(delta), 0, delta.length, ours, ours.length);
                byte[] theirs = previous.clone();
                int qemu = qemuDecode(delta, delta.length, theirs, pageSize);
                if ((problem == null) != (qemu != -1)) {
                    fail("round " + round + ": decoder says " + (problem == null ? "ok" : problem) + ", QEMU returns "
                            + qemu + " for delta " + hex(delta) + " (page " + pageSize + ")");
                }
                if (problem == null) {
                    accepted++;
                    assertArrayEquals(theirs, ours, "round " + round + ": " + hex(delta));
                } else {
                    assertTrue(problem.startsWith("at "), "problem should start with its index: " + problem);
                }
            }
            assertTrue(accepted > 2_000 && accepted < 18_000, "the deltas should mix good and bad: " + accepted);
        }

        @Test
        void roundTripsWithAnEncoder() {
            Random random = new Random(7);
            for (int round = 0; round < 500; round++) {
                byte[] previous = new byte[PAGE];
                random.nextBytes(previous);
                byte[] next = previous.clone();
                for (int change = random.nextInt(40); change > 0; change--) {
                    int at = random.nextInt(PAGE);
                    int length = Math.min(PAGE - at, 1 + random.nextInt(random.nextBoolean() ? 4 : 300));
                    for (int i = at; i < at + length; i++) {
                        next[i] = (byte) random.nextInt();
                    }
                }
                byte[] delta = encode(previous, next);
                assertDecodes(previous, delta, next);
            }
        }

        private void assertDecodes(byte[] previous, byte[] delta, byte[] expected) {
            byte[] page = previous.clone();
            String problem = Xbzrle.decode(MemorySegment.ofArray(delta), 0, delta.length, page, page.length);
            assertNull(problem, () -> "delta " + hex(delta));
            assertArrayEquals(expected, page, () -> "delta " + hex(delta) + ": first difference at "
                    + Arrays.mismatch(expected, page));
            byte[] qemuPage = previous.clone();
            assertTrue(qemuDecode(delta, delta.length, qemuPage, previous.length) >= 0, "QEMU accepts it too");
            assertArrayEquals(expected, qemuPage, "the test's port of QEMU's decoder agrees");
        }

        private void assertRefused(byte[] delta) {
            byte[] page = new byte[PAGE];
            String problem = Xbzrle.decode(MemorySegment.ofArray(delta), 0, delta.length, page, page.length);
            assertNotNull(problem, () -> "delta " + hex(delta) + " should be refused");
            assertTrue(problem.startsWith("at "), () -> "problem should start with its index: " + problem);
            assertEquals(-1, qemuDecode(delta, delta.length, new byte[PAGE], PAGE), "QEMU refuses it too");
        }
    }

    // ================================================================== through the reader

    @Nested
    final class Reader {

        @Test
        void pageThenDeltas() {
            byte[] first = StreamBuilder.pattern(PAGE, 1);
            byte[] second = first.clone();
            second[100] = 42;
            byte[] third = second.clone();
            Arrays.fill(third, 3000, 3100, (byte) 0xee);
            byte[] stream = ram(4)
                    .page(PAGE, "pc.ram", first)
                    .xbzrlePage(PAGE, null, encode(first, second))
                    .xbzrlePage(PAGE, null, encode(second, third))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();

            List<Seen> pages = read(stream);
            assertEquals(3, pages.size());
            assertPage(pages.get(0), PAGE, PageEncoding.RAW, first);
            assertPage(pages.get(1), PAGE, PageEncoding.XBZRLE, second);
            assertPage(pages.get(2), PAGE, PageEncoding.XBZRLE, third);
            assertEquals(-1, pages.get(1).sourceOffset, "a decoded page has no place in the file");
        }

        @Test
        void deltaForAPageNeverSentAppliesToZeros() {
            byte[] expected = new byte[PAGE];
            expected[0] = 'q';
            expected[1] = 'e';
            expected[4095] = 1;
            byte[] delta = encode(new byte[PAGE], expected);
            byte[] stream = ram(4)
                    .page(0, "pc.ram", StreamBuilder.filled(PAGE, 0x77)) // another page: must not leak in
                    .xbzrlePage(2L * PAGE, null, delta)
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();

            List<Seen> pages = read(stream);
            assertEquals(2, pages.size());
            assertPage(pages.get(1), 2L * PAGE, PageEncoding.XBZRLE, expected);
        }

        @Test
        void chainOfThreeDeltas() {
            byte[][] versions = new byte[4][];
            versions[0] = new byte[PAGE];
            Random random = new Random(3);
            for (int v = 1; v < 4; v++) {
                versions[v] = versions[v - 1].clone();
                for (int i = 0; i < 10; i++) {
                    versions[v][random.nextInt(PAGE)] = (byte) (v * 16 + i);
                }
            }
            StreamBuilder builder = ram(2).page(PAGE, "pc.ram", versions[0]);
            for (int v = 1; v < 4; v++) {
                builder.xbzrlePage(PAGE, null, encode(versions[v - 1], versions[v]));
            }
            List<Seen> pages = read(builder.eos().footer(2).eof().description(Json.description(PAGE)).toByteArray());
            assertEquals(4, pages.size());
            for (int v = 1; v < 4; v++) {
                assertPage(pages.get(v), PAGE, PageEncoding.XBZRLE, versions[v]);
            }
        }

        @Test
        void deltasAcrossSectionsAndBlocks() {
            // the first delta comes in a PART record after pages of the START record, and the two
            // blocks have a page at the same address: each delta applies to its own block's page
            byte[] ramPage = StreamBuilder.pattern(PAGE, 10);
            byte[] romPage = StreamBuilder.pattern(PAGE, 20);
            byte[] ramNext = ramPage.clone();
            ramNext[7] = 0;
            byte[] romNext = romPage.clone();
            romNext[8] = 0;
            byte[] stream = StreamBuilder.stream()
                    .sectionStart(2, "ram", 0, 4)
                    .memSize(3L * PAGE).block("pc.ram", 2L * PAGE).block("/rom@etc/x", PAGE)
                    .page(0, "pc.ram", ramPage)
                    .page(0, "/rom@etc/x", romPage)
                    .eos().footer(2)
                    .sectionPart(2)
                    .xbzrlePage(0, "/rom@etc/x", encode(romPage, romNext))
                    .xbzrlePage(0, "pc.ram", encode(ramPage, ramNext))
                    .eos().footer(2)
                    .sectionEnd(2).eos().footer(2)
                    .eof().description(Json.description(PAGE)).toByteArray();

            List<Seen> pages = read(stream);
            assertEquals(4, pages.size());
            assertEquals("/rom@etc/x", pages.get(2).block);
            assertPage(pages.get(2), 0, PageEncoding.XBZRLE, romNext);
            assertEquals("pc.ram", pages.get(3).block);
            assertPage(pages.get(3), 0, PageEncoding.XBZRLE, ramNext);
        }

        @Test
        void deltaAfterAZeroPageAppliesToTheFill() {
            // data, then a ZERO record (QEMU clears the page), then a delta: it applies to zeros,
            // not to the data; and a delta after a ZERO record with fill 0x5a applies to 0x5a
            byte[] data = StreamBuilder.pattern(PAGE, 4);
            byte[] cleared = new byte[PAGE];
            cleared[5] = 1;
            byte[] filled = StreamBuilder.filled(PAGE, 0x5a);
            filled[6] = 2;
            byte[] stream = ram(2)
                    .page(0, "pc.ram", data)
                    .zeroPage(0, null, 0)
                    .xbzrlePage(0, null, bytes(5, 1, 1))
                    .zeroPage(PAGE, null, 0x5a)
                    .xbzrlePage(PAGE, null, bytes(6, 1, 2))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();

            List<Seen> pages = read(stream);
            assertEquals(3, pages.size(), "RAM_PAGE events (ZERO_PAGE not counted)");
            assertPage(pages.get(1), 0, PageEncoding.XBZRLE, cleared);
            assertPage(pages.get(2), PAGE, PageEncoding.XBZRLE, filled);
        }

        @Test
        void deltaAfterACompressedPageAndAfterARawPageAgain() {
            byte[] base = StreamBuilder.pattern(PAGE, 30);
            byte[] next = base.clone();
            next[1000] = 1;
            byte[] raw = StreamBuilder.pattern(PAGE, 40);
            byte[] rawNext = raw.clone();
            rawNext[2000] = 2;
            byte[] stream = ram(1)
                    .compressedPage(0, "pc.ram", zlib(base, Deflater.DEFAULT_COMPRESSION))
                    .xbzrlePage(0, null, encode(base, next))
                    .page(0, null, raw) // the delta's decoded copy is replaced by a page in the file
                    .xbzrlePage(0, null, encode(raw, rawNext))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();

            List<Seen> pages = read(stream);
            assertEquals(4, pages.size());
            assertPage(pages.get(0), 0, PageEncoding.COMPRESSED, base);
            assertPage(pages.get(1), 0, PageEncoding.XBZRLE, next);
            assertPage(pages.get(2), 0, PageEncoding.RAW, raw);
            assertPage(pages.get(3), 0, PageEncoding.XBZRLE, rawNext);
        }

        @Test
        void malformedDeltaIsAMalformedStream() {
            StreamBuilder builder = ram(1);
            long at = builder.position();
            byte[] stream = builder.xbzrlePage(0, "pc.ram", bytes(0, 1, 'x', 0, 1, 'y'))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> read(stream));
            assertEquals(at, e.eventOffset(), "the error names the XBZRLE record");
            assertTrue(e.getMessage().contains("XBZRLE"), e.getMessage());
        }

        @Test
        void deltaLongerThanAPageIsMalformed() {
            byte[] delta = concat(bytes(0, 0x80, 0x20), new byte[PAGE]); // 4099 bytes
            byte[] stream = ram(1).xbzrlePage(0, "pc.ram", delta)
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            assertThrows(MalformedStreamException.class, () -> read(stream));
        }

        @Test
        void wrongEncodingFlagIsMalformed() {
            byte[] stream = ram(1)
                    .ramHeader(0, StreamBuilder.RAM_SAVE_FLAG_XBZRLE, "pc.ram").u8(2).u16(3).bytes(0, 1, 'x')
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            assertThrows(MalformedStreamException.class, () -> read(stream));
        }

        @Test
        void compressedPages() {
            byte[] random = new byte[PAGE];
            new Random(5).nextBytes(random); // deflates to more than a page, as in h-compress
            byte[] text = StreamBuilder.pattern(PAGE, 2);
            byte[] zeros = new byte[PAGE];
            byte[] stream = ram(4)
                    .compressedPage(0, "pc.ram", zlib(random, Deflater.DEFAULT_COMPRESSION))
                    .compressedPage(PAGE, null, zlib(text, Deflater.BEST_COMPRESSION))
                    .compressedPage(2L * PAGE, null, zlib(zeros, Deflater.NO_COMPRESSION))
                    .compressedPage(3L * PAGE, null, zlibInTwoBlocks(text))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();

            assertTrue(zlib(random, Deflater.DEFAULT_COMPRESSION).length > PAGE);
            List<Seen> pages = read(stream);
            assertEquals(4, pages.size());
            assertPage(pages.get(0), 0, PageEncoding.COMPRESSED, random);
            assertPage(pages.get(1), PAGE, PageEncoding.COMPRESSED, text);
            assertPage(pages.get(2), 2L * PAGE, PageEncoding.COMPRESSED, zeros);
            assertPage(pages.get(3), 3L * PAGE, PageEncoding.COMPRESSED, text);
            assertEquals(-1, pages.get(0).sourceOffset);
        }

        @Test
        void compressedPageInflatingToLessThanAPage() {
            byte[] stream = ram(1).compressedPage(0, "pc.ram", zlib(new byte[PAGE - 1], Deflater.DEFAULT_COMPRESSION))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> read(stream));
            assertTrue(e.getMessage().contains("inflate"), e.getMessage());
        }

        @Test
        void compressedPageInflatingToMoreThanAPage() {
            byte[] stream = ram(1).compressedPage(0, "pc.ram", zlib(new byte[PAGE + 1], Deflater.DEFAULT_COMPRESSION))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            assertThrows(MalformedStreamException.class, () -> read(stream));
        }

        @Test
        void compressedPageWithGarbage() {
            byte[] garbage = new byte[64];
            new Random(1).nextBytes(garbage);
            garbage[0] = 0x12; // not a zlib header (CMF must be 0x?8 with a valid check)
            byte[] stream = ram(1).compressedPage(0, "pc.ram", garbage)
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> read(stream));
            assertTrue(e.getMessage().contains("zlib"), e.getMessage());
        }

        @Test
        void compressedPageCutShortInsideItsZlibData() {
            byte[] whole = zlib(StreamBuilder.pattern(PAGE, 8), Deflater.DEFAULT_COMPRESSION);
            byte[] stream = ram(1).compressedPage(0, "pc.ram", Arrays.copyOf(whole, whole.length / 2))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            assertThrows(MalformedStreamException.class, () -> read(stream));
        }
    }

    // ================================================================== lazy decoding

    /**
     * The delta is checked when its record is read, and applied only when the page's bytes are
     * asked for: from a history (a consumer's PageStore, or on a file an index made by reading
     * the file again up to the page), which a page never asked for never needs.
     */
    @Nested
    final class Lazy {

        /** A history that hands out {@code previous} and counts what it is asked. */
        private static final class Recording implements PageHistory {
            final byte[] previous;
            final List<String> asked = new ArrayList<>();

            Recording(byte[] previous) {
                this.previous = previous;
            }

            @Override
            public void copyLastCopy(Block block, long address, byte[] into) {
                asked.add(block.name() + "@" + address);
                System.arraycopy(previous, 0, into, 0, into.length);
            }
        }

        private RamTesting.Cursor xbzrleRecord(byte[] delta) {
            byte[] bytes = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_XBZRLE)
                    .u8(StreamBuilder.ENCODING_FLAG_XBZRLE).u16(delta.length).bytes(delta).toByteArray();
            RamTesting.Cursor c = RamTesting.cursor(bytes, false).startRecord(MigrationEvent.RAM_PAGE);
            c.in().be64();
            return c;
        }

        @Test
        void readChecksAndDecodeApplies() {
            byte[] previous = StreamBuilder.pattern(PAGE, 1);
            byte[] next = previous.clone();
            next[10] = 1;
            next[4000] = 2;
            byte[] delta = encode(previous, next);
            RamTesting.Cursor c = xbzrleRecord(delta);
            RamPage page = RamTesting.page(PAGE, 4 * PAGE);
            page.address = PAGE;
            XbzrlePageDecoder decoder = new XbzrlePageDecoder(c.at());
            decoder.read(c.in(), page);
            assertNull(page.data, "not applied when read");
            assertEquals(PageEncoding.XBZRLE, page.encoding);
            assertEquals(-1, page.sourceOffset);
            assertEquals(11, page.payloadOffset, "the delta's bytes, after flag and length");
            assertEquals(delta.length, page.payloadLength);
            assertEquals(11 + delta.length, c.in().position());

            Recording history = new Recording(previous);
            decoder.decode(c.in(), page, history);
            assertEquals(List.of("pc.ram@4096"), history.asked, "one copy asked for: the page's own");
            assertEquals(0, page.dataIndex);
            assertArrayEquals(next, page.data.toArray(ValueLayout.JAVA_BYTE));
        }

        @Test
        void aMalformedDeltaFailsWhenReadWithTheIndexInTheDelta() {
            byte[] delta = bytes(0, 1, 'x', 0, 1, 'y');
            RamTesting.Cursor c = xbzrleRecord(delta);
            MalformedStreamException e = assertThrows(MalformedStreamException.class,
                    () -> new XbzrlePageDecoder(c.at()).read(c.in(), RamTesting.page(PAGE, 4 * PAGE)));
            assertEquals("malformed XBZRLE delta at 3: expected a run of unchanged bytes, found a zero-length run",
                    e.problem());
            assertEquals(0, e.eventOffset());
            assertEquals(11 + delta.length, e.position(), "after the delta, which was taken whole");
        }

        @Test
        void theHeaderChecks() {
            byte[] wrongFlag = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_XBZRLE).u8(2).u16(3)
                    .bytes(0, 1, 'x').toByteArray();
            RamTesting.Cursor c = RamTesting.cursor(wrongFlag, false).startRecord(MigrationEvent.RAM_PAGE);
            c.in().be64();
            MalformedStreamException flag = assertThrows(MalformedStreamException.class,
                    () -> new XbzrlePageDecoder(c.at()).read(c.in(), RamTesting.page(PAGE, 4 * PAGE)));
            assertEquals("expected XBZRLE encoding flag 0x01, found 0x2", flag.problem());
            assertEquals(11, flag.position(), "after the flag and the length");

            RamTesting.Cursor tooLong = xbzrleRecord(new byte[PAGE + 1]);
            MalformedStreamException length = assertThrows(MalformedStreamException.class,
                    () -> new XbzrlePageDecoder(tooLong.at()).read(tooLong.in(), RamTesting.page(PAGE, 4 * PAGE)));
            assertEquals("XBZRLE data of 4097 bytes exceeds the page size 4096", length.problem());
            assertEquals(0, length.eventOffset());
            assertEquals(11, length.position(), "before the data: nothing of it is read");

            byte[] cut = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_XBZRLE).u8(1).u16(300)
                    .bytes(new byte[100]).toByteArray();
            RamTesting.Cursor short_ = RamTesting.cursor(cut, false).startRecord(MigrationEvent.RAM_PAGE);
            short_.in().be64();
            io.qevm.exc.TruncatedInputException truncated = assertThrows(io.qevm.exc.TruncatedInputException.class,
                    () -> new XbzrlePageDecoder(short_.at()).read(short_.in(), RamTesting.page(PAGE, 4 * PAGE)));
            assertEquals("expected 300 bytes of XBZRLE data, found the end of the file (at byte 111)",
                    truncated.problem());
            assertEquals(111, truncated.position());
        }

        /** Through the reader: a malformed delta fails the read whether or not its page is asked for. */
        @Test
        void validatedOnReadThroughTheReader() {
            StreamBuilder builder = ram(2).page(0, "pc.ram", new byte[PAGE]);
            long record = builder.position();
            byte[] stream = builder.xbzrlePage(0, null, bytes(5, 1, 'a', 0x81, 0x80, 0x01, 'b'))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            for (io.qevm.SourceKind kind : io.qevm.SourceKind.values()) {
                try (MigrationReader reader = kind.open(stream, ReadOptions.DEFAULT)) {
                    MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> {
                        while (reader.next() != MigrationEvent.EOF) {
                            // no pageData(): the record alone is read
                        }
                    }, kind.name());
                    assertEquals("malformed XBZRLE delta at 3: expected a count of one or two bytes, found a longer one",
                            e.problem(), kind.name());
                    assertEquals(record, e.eventOffset(), kind.name());
                    assertEquals(record + 8 + 3 + 7, e.position(), kind.name());
                }
            }
        }

        /**
         * On a file, pages are not decoded as they pass: asking for the last of a chain of deltas
         * makes the index by reading the file again, and every link of the chain is applied.
         */
        @Test
        void onAFileTheIndexIsMadeByReadingAgain() {
            byte[][] versions = versions(5, 21);
            StreamBuilder builder = ram(2).page(PAGE, "pc.ram", versions[0]).zeroPage(0, null, 0);
            for (int v = 1; v < versions.length; v++) {
                builder.xbzrlePage(PAGE, null, encode(versions[v - 1], versions[v]));
            }
            byte[] zeroNext = new byte[PAGE];
            zeroNext[1] = 9;
            byte[] stream = builder.xbzrlePage(0, null, encode(new byte[PAGE], zeroNext))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            for (io.qevm.SourceKind kind : List.of(io.qevm.SourceKind.HEAP, io.qevm.SourceKind.MAPPED)) {
                try (MigrationReader reader = kind.open(stream, ReadOptions.DEFAULT)) {
                    int xbzrle = 0;
                    for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                        if (e == MigrationEvent.RAM_PAGE && reader.pageEncoding() == PageEncoding.XBZRLE) {
                            xbzrle++;
                            if (xbzrle == versions.length - 1) { // the last of the chain, the first asked for
                                assertArrayEquals(versions[versions.length - 1],
                                        reader.page().toArray(ValueLayout.JAVA_BYTE), kind.name());
                            } else if (xbzrle == versions.length) { // after the index exists: kept up to date
                                assertArrayEquals(zeroNext, reader.page().toArray(ValueLayout.JAVA_BYTE), kind.name());
                            }
                        }
                    }
                    assertEquals(versions.length, xbzrle);
                }
            }
        }

        /** On a stream, nothing is asked of a history until a page's bytes are: not asking costs nothing. */
        @Test
        void onAStreamADeltaNotAskedForNeedsNoStore() {
            byte[][] versions = versions(3, 5);
            StreamBuilder builder = ram(2).page(0, "pc.ram", versions[0]);
            for (int v = 1; v < versions.length; v++) {
                builder.xbzrlePage(0, null, encode(versions[v - 1], versions[v]));
            }
            byte[] stream = builder.eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            try (MigrationReader reader = io.qevm.SourceKind.STREAM.open(stream, ReadOptions.DEFAULT)) {
                int pages = 0;
                for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                    if (e == MigrationEvent.RAM_PAGE) {
                        pages++;
                        assertEquals(pages == 1 ? PageEncoding.RAW : PageEncoding.XBZRLE, reader.pageEncoding());
                    }
                }
                assertEquals(3, pages);
            }
            try (MigrationReader reader = io.qevm.SourceKind.STREAM.open(stream, ReadOptions.DEFAULT)) {
                MigrationEvent e = reader.next();
                while (!(e == MigrationEvent.RAM_PAGE && reader.pageEncoding() == PageEncoding.XBZRLE)) {
                    e = reader.next();
                }
                IllegalStateException refused = assertThrows(IllegalStateException.class, reader::pageData);
                assertEquals("an XBZRLE page read from a stream needs the page's earlier copy, which a stream cannot read"
                        + " again: give the reader a PageStore (MigrationReader.setPageStore) that keeps every page",
                        refused.getMessage());
            }
        }

        /** With a PageStore that keeps every page, a stream decodes as a file does. */
        @Test
        void onAStreamAPageStoreLendsTheEarlierCopies() {
            byte[][] versions = versions(4, 8);
            byte[] other = StreamBuilder.pattern(PAGE, 99);
            byte[] otherNext = other.clone();
            otherNext[0] = 0;
            StreamBuilder builder = ram(2).page(0, "pc.ram", versions[0]).page(PAGE, null, other);
            for (int v = 1; v < versions.length; v++) {
                builder.xbzrlePage(0, null, encode(versions[v - 1], versions[v]));
            }
            byte[] stream = builder.xbzrlePage(PAGE, null, encode(other, otherNext))
                    .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
            for (io.qevm.SourceKind kind : io.qevm.SourceKind.values()) {
                io.qevm.KeptPages kept = new io.qevm.KeptPages();
                List<byte[]> decoded = new ArrayList<>();
                try (MigrationReader reader = kind.open(stream, ReadOptions.DEFAULT)) {
                    reader.setPageStore(kept);
                    for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                        if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                            if (e == MigrationEvent.RAM_PAGE && reader.pageEncoding() == PageEncoding.XBZRLE) {
                                decoded.add(reader.page().toArray(ValueLayout.JAVA_BYTE));
                            }
                            kept.keep(reader);
                        }
                    }
                }
                assertEquals(versions.length, decoded.size(), kind.name());
                for (int v = 1; v < versions.length; v++) {
                    assertArrayEquals(versions[v], decoded.get(v - 1), kind + " version " + v);
                }
                assertArrayEquals(otherNext, decoded.get(versions.length - 1), kind.name());
            }
        }

        /** {@code count} versions of a page, each a few bytes changed from the one before. */
        private byte[][] versions(int count, long seed) {
            Random random = new Random(seed);
            byte[][] versions = new byte[count][];
            versions[0] = StreamBuilder.pattern(PAGE, (int) seed);
            for (int v = 1; v < count; v++) {
                versions[v] = versions[v - 1].clone();
                for (int i = 0; i < 12; i++) {
                    versions[v][random.nextInt(PAGE)] = (byte) random.nextInt();
                }
            }
            return versions;
        }
    }

    // ================================================================== helpers

    /** A RAM_PAGE as the reader handed it out, copied. */
    private record Seen(String block, long address, PageEncoding encoding, long sourceOffset, byte[] bytes) {
    }

    /** The header, START of section 2 "ram" v4, and a block "pc.ram" of {@code pages} pages. */
    private static StreamBuilder ram(int pages) {
        return StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize((long) pages * PAGE)
                .block("pc.ram", (long) pages * PAGE);
    }

    /** Every RAM_PAGE of the stream, read to its EOF. */
    private static List<Seen> read(byte[] stream) {
        List<Seen> pages = new ArrayList<>();
        try (MigrationReader reader = MigrationReader.open(stream, ReadOptions.DEFAULT)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE) {
                    byte[] copy = new byte[reader.pageSize()];
                    MemorySegment.copy(reader.pageData(), ValueLayout.JAVA_BYTE, reader.pageDataOffset(), copy, 0,
                            copy.length);
                    assertArrayEquals(copy, reader.page().toArray(ValueLayout.JAVA_BYTE), "page() and pageData() agree");
                    pages.add(new Seen(reader.blockName(), reader.pageOffset(), reader.pageEncoding(),
                            reader.pageSourceOffset(), copy));
                }
            }
        }
        return pages;
    }

    private static void assertPage(Seen seen, long address, PageEncoding encoding, byte[] expected) {
        assertEquals(address, seen.address, "page address");
        assertEquals(encoding, seen.encoding, "page encoding");
        int at = Arrays.mismatch(expected, seen.bytes);
        assertEquals(-1, at, () -> "page 0x" + Long.toHexString(address) + " differs first at byte " + at);
    }

    /**
     * A literal port of QEMU's migration/xbzrle.c xbzrle_decode_buffer (with uleb128_decode_small
     * from util/cutils.c): the oracle the decoder is compared with. Returns d, or -1.
     */
    static int qemuDecode(byte[] src, int slen, byte[] dst, int dlen) {
        int i = 0;
        int d = 0;
        int[] count = new int[1];
        while (i < slen) {
            if ((slen - i) < 2) {
                return -1;
            }
            int ret = uleb128DecodeSmall(src, i, count);
            if (ret < 0 || (i != 0 && count[0] == 0)) {
                return -1;
            }
            i += ret;
            d += count[0];
            if (d > dlen) {
                return -1;
            }
            if ((slen - i) < 2) {
                return -1;
            }
            ret = uleb128DecodeSmall(src, i, count);
            if (ret < 0 || count[0] == 0) {
                return -1;
            }
            i += ret;
            if (d + count[0] > dlen || i + count[0] > slen) {
                return -1;
            }
            System.arraycopy(src, i, dst, d, count[0]);
            d += count[0];
            i += count[0];
        }
        return d;
    }

    private static int uleb128DecodeSmall(byte[] in, int at, int[] n) {
        int first = in[at] & 0xff;
        if ((first & 0x80) == 0) {
            n[0] = first;
            return 1;
        }
        n[0] = first & 0x7f;
        int second = in[at + 1] & 0xff;
        if ((second & 0x80) != 0) {
            return -1;
        }
        n[0] |= second << 7;
        return 2;
    }

    /**
     * A valid delta from {@code previous} to {@code next} (pairs of unchanged and new runs, the
     * trailing unchanged run left out, as QEMU's encoder does). Pages up to 16383 bytes.
     */
    static byte[] encode(byte[] previous, byte[] next) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < next.length) {
            int same = i;
            while (same < next.length && previous[same] == next[same]) {
                same++;
            }
            if (same == next.length) {
                break;
            }
            int differ = same;
            while (differ < next.length && previous[differ] != next[differ]) {
                differ++;
            }
            uleb128(out, same - i);
            uleb128(out, differ - same);
            out.write(next, same, differ - same);
            i = differ;
        }
        return out.toByteArray();
    }

    private static void uleb128(ByteArrayOutputStream out, int value) {
        if (value < 0x80) {
            out.write(value);
        } else {
            out.write(0x80 | (value & 0x7f));
            out.write(value >>> 7);
        }
    }

    /**
     * A delta of random pairs, mostly well-formed: counts of one or two bytes (now and then a
     * zero, an over-long or a three-byte one), new bytes sometimes fewer than announced, and the
     * whole sometimes cut at a random byte.
     */
    private static byte[] randomDelta(Random random, int pageSize) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int pairs = random.nextInt(6);
        int d = 0;
        for (int p = 0; p < pairs; p++) {
            int left = Math.max(1, pageSize - d);
            int zero = random.nextInt(20) == 0 ? 0 : random.nextInt(20) == 0 ? pageSize + random.nextInt(50)
                    : (p == 0 && random.nextBoolean()) ? 0 : random.nextInt(Math.max(1, left / 2));
            int fresh = random.nextInt(25) == 0 ? 0 : 1 + random.nextInt(Math.max(1, left / 3));
            if (random.nextInt(40) == 0) {
                out.write(0x80 | random.nextInt(0x80)); // a count of three bytes
                out.write(0x80 | random.nextInt(0x80));
                out.write(random.nextInt(0x80));
            } else {
                uleb128(out, Math.min(zero, 0x3fff));
            }
            uleb128(out, Math.min(fresh, 0x3fff));
            int present = random.nextInt(15) == 0 ? random.nextInt(fresh + 1) : fresh;
            for (int i = 0; i < present; i++) {
                out.write(random.nextInt(256));
            }
            d += zero + fresh;
        }
        byte[] delta = out.toByteArray();
        if (delta.length > 0 && random.nextInt(8) == 0) {
            delta = Arrays.copyOf(delta, random.nextInt(delta.length + 1));
        }
        return delta;
    }

    private static byte[] zlib(byte[] data, int level) {
        return StreamBuilder.zlib(data, level);
    }

    /** One zlib stream in two deflate blocks (a full flush halfway). */
    private static byte[] zlibInTwoBlocks(byte[] data) {
        Deflater deflater = new Deflater();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            deflater.setInput(data, 0, data.length / 2);
            int n;
            while ((n = deflater.deflate(buffer, 0, buffer.length, Deflater.FULL_FLUSH)) > 0) {
                out.write(buffer, 0, n);
            }
            deflater.setInput(data, data.length / 2, data.length - data.length / 2);
            deflater.finish();
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 48); i++) {
            text.append(String.format("%02x ", bytes[i]));
        }
        return text.append(bytes.length > 48 ? "... (" + bytes.length + " bytes)" : "").toString().strip();
    }
}
