package io.qevm.consume;

import static io.qevm.OutputFiles.files;
import static io.qevm.OutputFiles.read;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.KeptPages;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code -x}'s writer: block files sized to used_length and sparse, the last copy of a page wins
 * whatever its encoding (a ZERO record after data clears the page: EXPECTED.md fix #14), a
 * non-zero fill byte is written out (fix #2), and all or nothing: files carry a {@code .partial}
 * name until {@link PageExtractor#commit()}, and a failure leaves neither those nor final names.
 * Every extraction runs over each {@link SourceKind} and must give the same files; on a stream the
 * extractor is the reader's {@link io.qevm.PageStore}, whose {@code readPage} is tested here too.
 *
 * <p>Each test runs in a thread of its own under a timeout, so that a writer stuck in a loop
 * fails its test instead of hanging the build.
 */
@Timeout(value = 15, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class PageExtractorTest {

    private static final int PAGE = 4096;

    @TempDir
    Path scratch;

    // ================================================================== sparse output

    @Test
    void blockFilesAreSparse() throws IOException {
        long length = 64L << 20;
        byte[] data = RamStreams.pattern(PAGE, 1);
        byte[] stream = RamStreams.start(PAGE, "pc.ram", length)
                .zero(0, "pc.ram", 0)
                .page(32L << 20, null, data)
                .zero(length - PAGE, null, 0)
                .endRecord().finish().toByteArray();
        Path out = extract(stream);
        Path ram = out.resolve("pc.ram");
        assertEquals(length, Files.size(ram));
        assertArrayEquals(data, read(ram, 32L << 20, PAGE));
        assertZero(ram, 0, 32L << 20);
        assertZero(ram, (32L << 20) + PAGE, length);
        long allocated = allocatedBytes(ram);
        assumeTrue(allocated >= 0, "stat(1) cannot tell the allocated size here");
        assertTrue(allocated <= 1 << 20, "a 64 MiB block with one page should take far less than 64 MiB, takes "
                + allocated + " bytes");
    }

    // ================================================================== the last copy wins

    @Test
    void zeroPageAfterDataClearsIt() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 8L * PAGE)
                // in one record: two raw pages (one gathering write), then a ZERO record for the first
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x11))
                .page(PAGE, null, RamStreams.filled(PAGE, 0x12))
                .zero(0, null, 0)
                // compressed, raw and XBZRLE pages, cleared by ZERO records of a later record
                .compressed(2L * PAGE, null, RamStreams.filled(PAGE, 0x13))
                .page(3L * PAGE, null, RamStreams.filled(PAGE, 0x14))
                .xbzrle(4L * PAGE, null, new byte[] {0, 3, 1, 2, 3})
                // data, zero, data again: the data wins
                .page(5L * PAGE, null, RamStreams.filled(PAGE, 0x15))
                .endRecord()
                .part()
                .zero(2L * PAGE, "pc.ram", 0)
                .zero(3L * PAGE, null, 0)
                .zero(4L * PAGE, null, 0)
                .zero(5L * PAGE, null, 0)
                .endRecord()
                .end()
                .page(5L * PAGE, "pc.ram", RamStreams.filled(PAGE, 0x16))
                .endRecord()
                .finish().toByteArray();
        Path ram = extract(stream).resolve("pc.ram");
        assertEquals(8L * PAGE, Files.size(ram));
        assertZero(ram, 0, PAGE);
        assertArrayEquals(RamStreams.filled(PAGE, 0x12), read(ram, PAGE, PAGE), "page 1 untouched by page 0's ZERO");
        assertZero(ram, 2L * PAGE, 5L * PAGE);
        assertArrayEquals(RamStreams.filled(PAGE, 0x16), read(ram, 5L * PAGE, PAGE), "page 5's last copy");
        assertZero(ram, 6L * PAGE, 8L * PAGE);
    }

    /**
     * Runs are written on a second thread while the next is gathered; fill pages are written by
     * the reading thread once the run in flight is done. A run of 300 pages (a write of 1 MiB in
     * flight while the rest is gathered), then a resent data page, a ZERO record and a fill page
     * inside it, then 300 single pages each cut off by a fill page, then a long run over half of
     * them again. Every byte as the last record says: no write overtook an earlier one.
     */
    @Test
    void longRunsAndSinglePagesToTheSameFile() throws IOException {
        int pages = 300;
        long length = 1024L * PAGE;
        RamStreams s = RamStreams.start(PAGE, "pc.ram", length);
        byte[][] first = new byte[pages][];
        for (int i = 0; i < pages; i++) {
            first[i] = RamStreams.pattern(PAGE, i + 1);
            s.page((long) i * PAGE, i == 0 ? "pc.ram" : null, first[i]);
        }
        byte[] resent = RamStreams.filled(PAGE, 0x31);
        s.endRecord().part()
                .page(7L * PAGE, "pc.ram", resent)
                .zero(9L * PAGE, null, 0)
                .zero(11L * PAGE, null, 0x5a);
        // pages 400-699 through the page cache one at a time (each run cut by a fill page), then
        // 500-799 again as one long run
        for (int i = 400; i < 700; i++) {
            s.page((long) i * PAGE, null, RamStreams.filled(PAGE, 0x40));
            s.zero(1000L * PAGE, null, 0x41);
        }
        byte[][] second = new byte[300][];
        for (int i = 0; i < 300; i++) {
            second[i] = RamStreams.pattern(PAGE, 1000 + i);
            s.page((long) (500 + i) * PAGE, null, second[i]);
        }
        byte[] stream = s.endRecord().finish().toByteArray();
        Path ram = extract(stream).resolve("pc.ram");
        assertEquals(length, Files.size(ram));
        for (int i = 0; i < pages; i++) {
            byte[] expected = switch (i) {
                case 7 -> resent;
                case 9 -> new byte[PAGE];
                case 11 -> RamStreams.filled(PAGE, 0x5a);
                default -> first[i];
            };
            assertArrayEquals(expected, read(ram, (long) i * PAGE, PAGE), "page " + i);
        }
        assertZero(ram, (long) pages * PAGE, 400L * PAGE);
        for (int i = 400; i < 500; i++) {
            assertArrayEquals(RamStreams.filled(PAGE, 0x40), read(ram, (long) i * PAGE, PAGE), "page " + i);
        }
        for (int i = 0; i < 300; i++) {
            assertArrayEquals(second[i], read(ram, (long) (500 + i) * PAGE, PAGE), "page " + (500 + i));
        }
        assertArrayEquals(RamStreams.filled(PAGE, 0x41), read(ram, 1000L * PAGE, PAGE), "page 1000");
    }

    /**
     * Raw pages 0 and 1 are gathered into one write; a ZERO record for page 1 writes them out;
     * raw page 2 then follows where the written run ended: it must land at page 2 (and the run
     * it starts must hold only itself).
     */
    @Test
    void rawPageAfterAZeroRecordInsideARun() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 4L * PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x21))
                .page(PAGE, null, RamStreams.filled(PAGE, 0x22))
                .zero(PAGE, null, 0)
                .page(2L * PAGE, null, RamStreams.filled(PAGE, 0x23))
                .endRecord().finish().toByteArray();
        Path ram = extract(stream).resolve("pc.ram");
        assertArrayEquals(RamStreams.filled(PAGE, 0x21), read(ram, 0, PAGE), "page 0");
        assertZero(ram, PAGE, 2L * PAGE);
        assertArrayEquals(RamStreams.filled(PAGE, 0x23), read(ram, 2L * PAGE, PAGE), "page 2");
        assertZero(ram, 3L * PAGE, 4L * PAGE);
    }

    /** The same with a decoded (zlib) page elsewhere writing the run out: raw page 1 lands at page 1. */
    @Test
    void rawPageAfterADecodedPage() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 4L * PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x25))
                .compressed(3L * PAGE, null, RamStreams.filled(PAGE, 0x26))
                .page(PAGE, null, RamStreams.filled(PAGE, 0x27))
                .endRecord().finish().toByteArray();
        Path ram = extract(stream).resolve("pc.ram");
        assertArrayEquals(RamStreams.filled(PAGE, 0x25), read(ram, 0, PAGE), "page 0");
        assertArrayEquals(RamStreams.filled(PAGE, 0x27), read(ram, PAGE, PAGE), "page 1");
        assertZero(ram, 2L * PAGE, 3L * PAGE);
        assertArrayEquals(RamStreams.filled(PAGE, 0x26), read(ram, 3L * PAGE, PAGE), "page 3");
    }

    @Test
    void nonZeroFillIsWritten() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 6L * PAGE)
                .zero(0, "pc.ram", 0xab) // never sent before
                .page(PAGE, null, RamStreams.pattern(PAGE, 3))
                .zero(PAGE, null, 0xcd) // over data
                .zero(2L * PAGE, null, 0xff)
                .zero(2L * PAGE, null, 0) // a fill, then zero
                .zero(3L * PAGE, null, 0x01)
                .zero(4L * PAGE, null, 0x02) // two fills in a row on neighbouring pages
                .endRecord().finish().toByteArray();
        Path ram = extract(stream).resolve("pc.ram");
        assertArrayEquals(RamStreams.filled(PAGE, 0xab), read(ram, 0, PAGE));
        assertArrayEquals(RamStreams.filled(PAGE, 0xcd), read(ram, PAGE, PAGE));
        assertZero(ram, 2L * PAGE, 3L * PAGE);
        assertArrayEquals(RamStreams.filled(PAGE, 0x01), read(ram, 3L * PAGE, PAGE));
        assertArrayEquals(RamStreams.filled(PAGE, 0x02), read(ram, 4L * PAGE, PAGE));
        assertZero(ram, 5L * PAGE, 6L * PAGE);
    }

    @Test
    void blocksWithSlashesBecomeSubdirectories() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "/rom@etc/acpi/tables", 2L * PAGE, "pc.ram", PAGE)
                .page(PAGE, "/rom@etc/acpi/tables", RamStreams.filled(PAGE, 0x31))
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x32))
                .endRecord().finish().toByteArray();
        Path out = extract(stream);
        assertEquals(List.of("pc.ram", "rom@etc/acpi/tables"), files(out));
        assertArrayEquals(RamStreams.filled(PAGE, 0x31), read(out.resolve("rom@etc/acpi/tables"), PAGE, PAGE));
    }

    // ================================================================== as a PageStore

    /**
     * After every page event, {@code readPage} of every page of every block gives what a map of
     * last copies ({@link KeptPages}) gives: raw pages (also while still in the staging run, not
     * yet written to their file), a ZERO record over data, fill bytes, a zlib page, a second copy,
     * an XBZRLE delta on it; pages never sent and a block never named read as zeros.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void readPageReturnsTheLastCopyWritten(SourceKind kind) throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 6L * PAGE, "/rom@etc/t", 2L * PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x11))
                .page(PAGE, null, RamStreams.filled(PAGE, 0x12)) // pages 0 and 1 now in the run
                .zero(0, null, 0) // over data: page 0 becomes zero
                .compressed(2L * PAGE, null, RamStreams.filled(PAGE, 0x13))
                .zero(3L * PAGE, null, 0xab)
                .page(PAGE, null, RamStreams.pattern(PAGE, 4)) // page 1's second copy
                .xbzrle(PAGE, null, new byte[] {0, 2, 'h', 'i'})
                .page(PAGE, "/rom@etc/t", RamStreams.filled(PAGE, 0x15))
                .endRecord().finish().toByteArray();
        KeptPages kept = new KeptPages();
        MemorySegment got = MemorySegment.ofArray(new byte[PAGE]);
        MemorySegment want = MemorySegment.ofArray(new byte[PAGE]);
        int pageEvents = 0;
        try (MigrationReader reader = kind.open(stream);
                PageExtractor extractor = new PageExtractor(scratch.resolve("out"), name -> { })) {
            if (!reader.isRandomAccess()) {
                reader.setPageStore(extractor);
            }
            for (MigrationEvent event = reader.next(); event != MigrationEvent.EOF; event = reader.next()) {
                extractor.accept(event, reader);
                if (event != MigrationEvent.RAM_PAGE && event != MigrationEvent.ZERO_PAGE) {
                    continue;
                }
                pageEvents++;
                kept.keep(reader);
                String[] blocks = {"pc.ram", "/rom@etc/t"};
                long[] lengths = {6L * PAGE, 2L * PAGE};
                for (int b = 0; b < blocks.length; b++) {
                    for (long offset = 0; offset < lengths[b]; offset += PAGE) {
                        got.fill((byte) 0x5a); // what readPage leaves alone shows
                        extractor.readPage(blocks[b], offset, got);
                        kept.readPage(blocks[b], offset, want);
                        long at = offset;
                        String block = blocks[b];
                        int event1 = pageEvents;
                        assertEquals(-1, got.mismatch(want), () -> kind + ": after page event " + event1 + ", "
                                + block + " page 0x" + Long.toHexString(at));
                    }
                }
                got.fill((byte) 0x5a);
                extractor.readPage("no-such-block", 0, got);
                assertEquals(-1, got.mismatch(MemorySegment.ofArray(new byte[PAGE])), "a block never named");
            }
            extractor.accept(MigrationEvent.EOF, reader);
        }
        assertEquals(8, pageEvents);
        // the last copies, spelled out: a check of KeptPages as much as of the extractor
        byte[] page1 = RamStreams.pattern(PAGE, 4);
        page1[0] = 'h';
        page1[1] = 'i';
        kept.readPage("pc.ram", PAGE, want);
        assertArrayEquals(page1, want.toArray(ValueLayout.JAVA_BYTE));
        kept.readPage("pc.ram", 3L * PAGE, want);
        assertArrayEquals(RamStreams.filled(PAGE, 0xab), want.toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * A page still in the staging run is read back as it came (readPage writes the run out
     * first), and the pages that follow still land at their offsets: the run restarts after it.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void readPageOfAPageStillInTheStagingRun(SourceKind kind) throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 4L * PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x21))
                .page(PAGE, null, RamStreams.filled(PAGE, 0x22))
                .page(2L * PAGE, null, RamStreams.filled(PAGE, 0x23))
                .page(3L * PAGE, null, RamStreams.filled(PAGE, 0x24))
                .endRecord().finish().toByteArray();
        Path out = scratch.resolve("out");
        MemorySegment got = MemorySegment.ofArray(new byte[PAGE]);
        try (MigrationReader reader = kind.open(stream); PageExtractor extractor = new PageExtractor(out, name -> { })) {
            int pages = 0;
            for (MigrationEvent event = reader.next(); event != MigrationEvent.EOF; event = reader.next()) {
                extractor.accept(event, reader);
                if (event == MigrationEvent.RAM_PAGE && ++pages == 2) {
                    // pages 0 and 1 are gathered for one write: neither is in the file yet
                    extractor.readPage("pc.ram", PAGE, got);
                    assertArrayEquals(RamStreams.filled(PAGE, 0x22), got.toArray(ValueLayout.JAVA_BYTE), "page 1");
                    extractor.readPage("pc.ram", 0, got);
                    assertArrayEquals(RamStreams.filled(PAGE, 0x21), got.toArray(ValueLayout.JAVA_BYTE), "page 0");
                    extractor.readPage("pc.ram", 2L * PAGE, got);
                    assertArrayEquals(new byte[PAGE], got.toArray(ValueLayout.JAVA_BYTE), "page 2, not sent yet");
                }
            }
            extractor.accept(MigrationEvent.EOF, reader);
            extractor.commit();
        }
        Path ram = out.resolve("pc.ram");
        for (int page = 0; page < 4; page++) {
            assertArrayEquals(RamStreams.filled(PAGE, 0x21 + page), read(ram, (long) page * PAGE, PAGE), "page " + page);
        }
    }

    /**
     * XBZRLE deltas straight after the page they apply to, while it is in the staging run: from a
     * stream the reader asks the extractor for the page, which must hand back the run's copy
     * (and the decoded page starts a run of its own that page 2 joins).
     */
    @Test
    void xbzrleOnAPageInTheStagingRun() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 3L * PAGE)
                .page(0, "pc.ram", RamStreams.pattern(PAGE, 7))
                .page(PAGE, null, RamStreams.pattern(PAGE, 8))
                .xbzrle(PAGE, null, new byte[] {4, 3, 1, 2, 3}) // 4 bytes unchanged, then 3 new
                .page(2L * PAGE, null, RamStreams.pattern(PAGE, 9))
                .xbzrle(0, null, new byte[] {(byte) 0x80, 0x02, 1, 0x7f}) // 0x100 unchanged (a varint), 1 new
                .endRecord().finish().toByteArray();
        Path ram = extract(stream).resolve("pc.ram");
        byte[] page0 = RamStreams.pattern(PAGE, 7);
        page0[0x100] = 0x7f;
        byte[] page1 = RamStreams.pattern(PAGE, 8);
        page1[4] = 1;
        page1[5] = 2;
        page1[6] = 3;
        assertArrayEquals(page0, read(ram, 0, PAGE), "page 0: its written copy with the delta");
        assertArrayEquals(page1, read(ram, PAGE, PAGE), "page 1: its run copy with the delta");
        assertArrayEquals(RamStreams.pattern(PAGE, 9), read(ram, 2L * PAGE, PAGE), "page 2");
    }

    // ================================================================== all or nothing

    @Test
    void filesAreRenamedOnlyOnCommit() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 2L * PAGE, "/rom@etc/t", PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x41))
                .page(0, "/rom@etc/t", RamStreams.filled(PAGE, 0x42))
                .endRecord().finish().toByteArray();
        Path out = scratch.resolve("out");
        try (MigrationReader reader = reader(stream); PageExtractor extractor = new PageExtractor(out, name -> { })) {
            MigrationConsumer.drive(reader, extractor);
            try (var json = extractor.newFile("state.json")) {
                json.write("{}".getBytes(UTF_8));
            }
            List<String> partials = files(out);
            assertEquals(3, partials.size(), "before commit(): one partial file an output " + partials);
            assertTrue(partials.stream().allMatch(f -> f.matches("(rom@etc/)?\\.qevm-[0-9a-f]+\\.partial")),
                    "before commit(): only .partial names of their own " + partials);
            extractor.commit();
            assertEquals(List.of("pc.ram", "rom@etc/t", "state.json"), files(out), "after commit(): final names only");
        }
        assertEquals(List.of("pc.ram", "rom@etc/t", "state.json"), files(out), "close() after commit() keeps them");
        assertArrayEquals(RamStreams.filled(PAGE, 0x41), read(out.resolve("pc.ram"), 0, PAGE));
        assertEquals(2L * PAGE, Files.size(out.resolve("pc.ram")));
    }

    /**
     * The stream's body is cut in the middle of a page of its PART record; the description after
     * it is intact, so the blocks are created before the cut is found. A file knows where its
     * description starts and says so; a stream reads on into the description's bytes as page
     * data and finds its end. Either way nothing is left.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void failureMidStreamLeavesNothing(SourceKind kind) throws IOException {
        RamStreams whole = RamStreams.start(PAGE, "pc.ram", 4L * PAGE, "/rom@etc/t", PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x51))
                .page(0, "/rom@etc/t", RamStreams.filled(PAGE, 0x52))
                .endRecord()
                .part();
        long cut = whole.position() + 100;
        byte[] full = whole.page(PAGE, "pc.ram", RamStreams.filled(PAGE, 0x53)).endRecord().finish().toByteArray();
        byte[] stream = spliceDescription(full, cut);

        Path out = scratch.resolve("out");
        List<String> created = new ArrayList<>();
        try (MigrationReader reader = kind.open(stream); PageExtractor extractor = new PageExtractor(out, created::add)) {
            if (!reader.isRandomAccess()) {
                reader.setPageStore(extractor);
            }
            MigrationReadException e = assertThrows(MigrationReadException.class,
                    () -> MigrationConsumer.drive(reader, extractor));
            assertEquals(TruncatedInputException.class, e.getClass(), e.getMessage());
            assertEquals(8311, e.eventOffset(), "the page record the cut is in");
            assertEquals("at byte 0x2077 (8311), section 'ram' #2: expected 4096 bytes of page, found the end of "
                    + (kind == SourceKind.STREAM ? "the input (at byte 8450)"
                            : "the stream (the JSON VM description starts at byte 8411)"), e.getMessage());
            assertEquals(List.of("pc.ram", "/rom@etc/t"), created, "both blocks were opened before the failure");
        }
        assertEquals(List.of(), files(out), "no final-named and no .partial file after a failure");
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void failureKeepsAnEarlierOutputAsItWas(SourceKind kind) throws IOException {
        Path out = Files.createDirectories(scratch.resolve("out"));
        Files.write(out.resolve("pc.ram"), "an earlier extraction".getBytes(UTF_8));
        RamStreams body = RamStreams.start(PAGE, "pc.ram", 2L * PAGE).page(0, "pc.ram", RamStreams.filled(PAGE, 1));
        long cut = body.position() - 1;
        byte[] stream = spliceDescription(body.endRecord().finish().toByteArray(), cut);
        try (MigrationReader reader = kind.open(stream); PageExtractor extractor = new PageExtractor(out, name -> { })) {
            TruncatedInputException e = assertThrows(TruncatedInputException.class,
                    () -> MigrationConsumer.drive(reader, extractor));
            assertEquals(48, e.eventOffset(), e.getMessage());
        }
        assertEquals(List.of("pc.ram"), files(out));
        assertEquals("an earlier extraction", Files.readString(out.resolve("pc.ram")));
    }

    // ================================================================== helpers

    private static MigrationReader reader(byte[] stream) {
        return MigrationReader.open(stream, ReadOptions.DEFAULT);
    }

    /**
     * Extracts {@code stream} from every kind of source, each into a folder of its own, committed;
     * checks that the folders hold the same files, byte for byte, and returns the first. On a
     * stream the extractor lends the reader its pages (XBZRLE deltas apply to what it wrote).
     */
    private Path extract(byte[] stream) throws IOException {
        Path first = null;
        for (SourceKind kind : SourceKind.values()) {
            Path out = Files.createTempDirectory(scratch, kind + "-");
            try (MigrationReader reader = kind.open(stream);
                    PageExtractor extractor = new PageExtractor(out, name -> { })) {
                if (!reader.isRandomAccess()) {
                    reader.setPageStore(extractor);
                }
                MigrationConsumer.drive(reader, extractor);
                extractor.commit();
            }
            if (first == null) {
                first = out;
            } else {
                assertSameFiles(first, out, kind);
            }
        }
        return first;
    }

    /** The same relative paths under both roots, each file the same size and bytes. */
    private static void assertSameFiles(Path expected, Path actual, SourceKind kind) throws IOException {
        List<String> names = files(expected);
        assertEquals(names, files(actual), kind + ": the files extracted");
        for (String name : names) {
            long mismatch = Files.mismatch(expected.resolve(name), actual.resolve(name));
            assertEquals(-1, mismatch, () -> kind + ": " + name + " differs from the " + SourceKind.values()[0]
                    + " source's at offset 0x" + Long.toHexString(mismatch));
        }
    }

    /**
     * The first {@code cut} bytes of a stream, followed by its VMDESCRIPTION record: a dump whose
     * device state stops short while the description is still found at the end.
     */
    private static byte[] spliceDescription(byte[] full, long cut) throws IOException {
        long descriptionAt;
        try (MigrationReader reader = reader(full)) {
            descriptionAt = reader.descriptionJsonOffset() - 5;
        }
        assertTrue(cut < descriptionAt);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(full, 0, (int) cut);
        out.write(full, (int) descriptionAt, (int) (full.length - descriptionAt));
        return out.toByteArray();
    }

    private static void assertZero(Path file, long from, long to) throws IOException {
        for (long at = from; at < to; at += 1 << 20) {
            int length = (int) Math.min(1 << 20, to - at);
            byte[] bytes = read(file, at, length);
            int mismatch = Arrays.mismatch(bytes, new byte[length]);
            long where = at + mismatch;
            assertEquals(-1, mismatch, () -> file.getFileName() + ": non-zero byte at offset 0x" + Long.toHexString(where));
        }
    }

    /**
     * Bytes the file takes on disk, from {@code stat -c '%b %B'}: java.nio exposes no block count
     * ("unix:" attributes have none). -1 when stat cannot be run.
     */
    private static long allocatedBytes(Path file) {
        try {
            Process stat = new ProcessBuilder("stat", "-c", "%b %B", file.toString()).redirectErrorStream(true).start();
            String text;
            try (InputStream in = stat.getInputStream()) {
                text = new String(in.readAllBytes(), UTF_8).strip();
            }
            if (!stat.waitFor(10, TimeUnit.SECONDS) || stat.exitValue() != 0) {
                return -1;
            }
            String[] parts = text.split(" ");
            return Long.parseLong(parts[0]) * Long.parseLong(parts[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
