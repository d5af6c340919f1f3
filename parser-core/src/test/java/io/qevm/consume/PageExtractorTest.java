package io.qevm.consume;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.ReadLimits;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
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

/**
 * {@code -x}'s writer: block files sized to used_length and sparse, the last copy of a page wins
 * whatever its encoding (a ZERO record after data clears the page: EXPECTED.md fix #14), a
 * non-zero fill byte is written out (fix #2), and all or nothing: files carry a {@code .partial}
 * name until {@link PageExtractor#commit()}, and a failure leaves neither those nor final names.
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

    @Test
    void failureMidStreamLeavesNothing() throws IOException {
        // the stream's body is cut in the middle of a page of its PART record; the description
        // after it is intact, so the blocks are created before the cut is found
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
        try (MigrationReader reader = reader(stream); PageExtractor extractor = new PageExtractor(out, created::add)) {
            assertThrows(TruncatedInputException.class, () -> MigrationConsumer.drive(reader, extractor));
            assertEquals(List.of("pc.ram", "/rom@etc/t"), created, "both blocks were opened before the failure");
        }
        assertEquals(List.of(), files(out), "no final-named and no .partial file after a failure");
    }

    @Test
    void failureKeepsAnEarlierOutputAsItWas() throws IOException {
        Path out = Files.createDirectories(scratch.resolve("out"));
        Files.write(out.resolve("pc.ram"), "an earlier extraction".getBytes(UTF_8));
        RamStreams body = RamStreams.start(PAGE, "pc.ram", 2L * PAGE).page(0, "pc.ram", RamStreams.filled(PAGE, 1));
        long cut = body.position() - 1;
        byte[] stream = spliceDescription(body.endRecord().finish().toByteArray(), cut);
        try (MigrationReader reader = reader(stream); PageExtractor extractor = new PageExtractor(out, name -> { })) {
            assertThrows(MigrationReadException.class, () -> MigrationConsumer.drive(reader, extractor));
        }
        assertEquals(List.of("pc.ram"), files(out));
        assertEquals("an earlier extraction", Files.readString(out.resolve("pc.ram")));
    }

    // ================================================================== helpers

    private static MigrationReader reader(byte[] stream) {
        return MigrationReader.open(stream, ReadOptions.DEFAULT);
    }

    /** Extracts {@code stream} into a new folder, committed; returns the folder. */
    private Path extract(byte[] stream) throws IOException {
        Path out = Files.createTempDirectory(scratch, "x-");
        try (MigrationReader reader = reader(stream); PageExtractor extractor = new PageExtractor(out, name -> { })) {
            MigrationConsumer.drive(reader, extractor);
            extractor.commit();
        }
        return out;
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

    /** Relative paths of the regular files under {@code root}, sorted; none when it does not exist. */
    private static List<String> files(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> paths = Files.walk(root)) {
            return new ArrayList<>(new TreeSet<>(paths.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString()).toList()));
        }
    }

    private static byte[] read(Path file, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try (FileChannel channel = FileChannel.open(file)) {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw new IOException(file + " ends before " + (offset + length));
                }
            }
        }
        return buffer.array();
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

    private static Path sampleDump(String name) {
        Path root = Path.of(System.getProperty("qevm.samples", "../src-samples")).toAbsolutePath().normalize();
        Path dump = root.resolve(name).resolve(name + ".mig");
        assertTrue(Files.isRegularFile(dump), "no sample " + dump + " (system property qevm.samples)");
        return dump;
    }
}
