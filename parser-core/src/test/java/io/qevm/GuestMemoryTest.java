package io.qevm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link GuestMemory} against what QEMU loaded: sha256-counter blobs put in guest RAM by
 * {@code -device loader} (c-pc-loader-data; p-pc-highmem and p-q35-highmem, 4200 MiB guests with
 * a blob below and one above 4 GiB), and the reference script's {@code -x} output of every block
 * (expected/extract.sha256) for zlib, XBZRLE, qcow2, libvirt, compressed, mapped-ram and non-x86
 * samples, each read from a file and from an InputStream (spooled).
 */
class GuestMemoryTest {

    /** The bytes of make-dump.sh's sha256-counter inputs: sha256(prefix + i) for i = 0, 1, ... */
    static byte[] sha256Counter(String prefix, int length) throws NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        ByteArrayOutputStream out = new ByteArrayOutputStream(length + 32);
        for (int i = 0; out.size() < length; i++) {
            out.writeBytes(sha.digest((prefix + i).getBytes(StandardCharsets.US_ASCII)));
        }
        return java.util.Arrays.copyOf(out.toByteArray(), length);
    }

    static byte[] pattern(int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < length; i++) {
            b.append(String.format("MIGRATION-CORPUS-PATTERN line %08d: The quick brown fox jumps over the lazy dog.%n", i));
        }
        return java.util.Arrays.copyOf(b.toString().getBytes(StandardCharsets.US_ASCII), length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"p-pc-highmem", "p-q35-highmem"})
    void readPhysicalFindsWhatQemuLoadedBelowAndAbove4GiB(String sample) throws Exception {
        byte[] low = sha256Counter("qemu-mig-corpus-", 256 << 10);
        byte[] high = sha256Counter("qevm-gpa-high-", 256 << 10);
        try (GuestMemory memory = GuestMemory.open(Samples.dump(sample), ReadOptions.DEFAULT)) {
            boolean pc = sample.startsWith("p-pc");
            assertEquals(pc ? "pc-i440fx-7.2" : "pc-q35-7.2", memory.machineType());
            long ram = 4200L << 20;
            assertEquals(ram, memory.block("pc.ram").length());
            long lowmem = pc ? 0xc0000000L : 0x80000000L;
            assertEquals(List.of(new PhysicalMap.Range(0, lowmem, "pc.ram", 0),
                    new PhysicalMap.Range(1L << 32, ram - lowmem, "pc.ram", lowmem)), memory.physicalMap().ranges());

            byte[] got = new byte[low.length];
            memory.readPhysical(0x1000000, got, 0, got.length);
            assertArrayEquals(low, got);
            memory.readPhysical(0x120000000L, got, 0, got.length);
            assertArrayEquals(high, got);
            // the same bytes by block and offset: above 4 GiB is the block's part after lowmem
            byte[] byBlock = new byte[high.length];
            memory.read("pc.ram", lowmem + 0x20000000L, byBlock, 0, byBlock.length);
            assertArrayEquals(high, byBlock);
            // an unaligned read across the end of the blob: blob bytes, then zero pages
            byte[] across = new byte[100];
            memory.readPhysical(0x120000000L + high.length - 50, across, 0, across.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(high, high.length - 50, high.length),
                    java.util.Arrays.copyOf(across, 50));
            assertArrayEquals(new byte[50], java.util.Arrays.copyOfRange(across, 50, 100));

            assertEquals(GuestMemory.PageKind.DATA, memory.pageKind("pc.ram", 0x1000000 / 4096));
            assertEquals(GuestMemory.PageKind.ZERO, memory.pageKind("pc.ram", 0x2000000 / 4096));
            assertEquals(1, memory.timesSent("pc.ram", 0x1000000 / 4096));

            // the PCI hole and past the end of RAM are not RAM
            assertNull(memory.physicalMap().rangeAt(0xd0000000L));
            assertNull(memory.physicalMap().rangeAt((1L << 32) + ram - lowmem));
            IllegalArgumentException hole = assertThrows(IllegalArgumentException.class,
                    () -> memory.readPhysical(0xd0000000L, got, 0, 16));
            assertTrue(hole.getMessage().contains("0xd0000000 is not RAM"), hole.getMessage());
            // a read running from the end of low RAM into the hole fails too
            assertThrows(IllegalArgumentException.class, () -> memory.readPhysical(lowmem - 8, got, 0, 16));
        }
    }

    @Test
    void loaderDataAtItsGuestPhysicalAddresses() throws Exception {
        try (GuestMemory memory = GuestMemory.open(Samples.dump("c-pc-loader-data"), ReadOptions.DEFAULT)) {
            byte[] random = new byte[4 << 20];
            memory.readPhysical(0x1000000, random, 0, random.length);
            assertArrayEquals(sha256Counter("qemu-mig-corpus-", 4 << 20), random);
            byte[] text = new byte[1 << 20];
            memory.readPhysical(0x4000000, text, 0, text.length);
            assertArrayEquals(pattern(1 << 20), text);
            // 128 MiB fits below the i440FX limit: one range
            assertEquals(List.of(new PhysicalMap.Range(0, 128L << 20, "pc.ram", 0)), memory.physicalMap().ranges());
        }
    }

    @Test
    void errorsNameWhatIsWrong() throws Exception {
        try (GuestMemory memory = GuestMemory.open(Samples.dump("c-pc-loader-data"), ReadOptions.DEFAULT)) {
            byte[] into = new byte[16];
            IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                    () -> memory.read("pc.ram", (128L << 20) - 8, into, 0, 16));
            assertTrue(past.getMessage().contains("outside RAM block 'pc.ram'"), past.getMessage());
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                    () -> memory.read("nosuch", 0, into, 0, 16));
            assertTrue(none.getMessage().contains("no RAM block named 'nosuch'"), none.getMessage());
            assertTrue(none.getMessage().contains("pc.ram"), none.getMessage());
            assertThrows(IllegalArgumentException.class, () -> memory.pageKind("pc.ram", 1L << 20));
            assertNull(memory.block("nosuch"));
        }
    }

    /** A built stream: a page sent twice (the last copy wins), a fill page, a page never sent, no machine type. */
    @Test
    void lastCopyFillAndNeverSentFromABuiltStream() throws Exception {
        byte[] first = new byte[4096];
        byte[] second = new byte[4096];
        java.util.Arrays.fill(first, (byte) 1);
        for (int i = 0; i < second.length; i++) {
            second[i] = (byte) (i * 7);
        }
        StreamBuilder b = StreamBuilder.stream();
        b.sectionStart(1, "ram", 0, 4).memSize(0x4000).block("ram", 0x4000).eos().footer(1);
        b.sectionPart(1).page(0, "ram", first).zeroPage(0x1000, null, 0x5a).eos().footer(1);
        b.sectionEnd(1).page(0, "ram", second).eos().footer(1);
        byte[] bytes = b.eof().description(ReaderTests.desc()).toByteArray();
        for (boolean stream : new boolean[] {false, true}) {
            MigrationReader reader = stream
                    ? MigrationReader.open(new java.io.ByteArrayInputStream(bytes), ReadOptions.DEFAULT)
                    : MigrationReader.open(bytes, ReadOptions.DEFAULT);
            try (GuestMemory memory = GuestMemory.index(reader)) {
                assertNull(memory.machineType());
                assertEquals(List.of(new GuestMemory.Block("ram", 0x4000, 4096)), memory.blocks());
                byte[] all = new byte[0x4000];
                memory.read("ram", 0, all, 0, all.length);
                assertArrayEquals(second, java.util.Arrays.copyOf(all, 4096));
                byte[] fill = new byte[4096];
                java.util.Arrays.fill(fill, (byte) 0x5a);
                assertArrayEquals(fill, java.util.Arrays.copyOfRange(all, 4096, 8192));
                assertArrayEquals(new byte[8192], java.util.Arrays.copyOfRange(all, 8192, 16384));
                assertEquals(GuestMemory.PageKind.DATA, memory.pageKind("ram", 0));
                assertEquals(GuestMemory.PageKind.FILL, memory.pageKind("ram", 1));
                assertEquals(GuestMemory.PageKind.NEVER_SENT, memory.pageKind("ram", 2));
                assertEquals(2, memory.timesSent("ram", 0));
                assertEquals(1, memory.timesSent("ram", 1));
                assertEquals(0, memory.timesSent("ram", 3));
                UnsupportedOperationException unknown = assertThrows(UnsupportedOperationException.class,
                        memory::physicalMap);
                assertTrue(unknown.getMessage().contains("--block"), unknown.getMessage());
                assertThrows(UnsupportedOperationException.class, () -> memory.readPhysical(0, all, 0, 1));
            }
        }
    }

    /** On a stream every page is spooled; a page replaced by a zero page gives its slot to the next. */
    @Test
    void spoolSlotsAreReusedWithoutMixingPages() throws Exception {
        byte[][] pages = new byte[3][4096];
        for (int p = 0; p < 3; p++) {
            java.util.Arrays.fill(pages[p], (byte) ('A' + p));
        }
        StreamBuilder b = StreamBuilder.stream();
        b.sectionStart(1, "ram", 0, 4).memSize(0x4000).block("ram", 0x4000).eos().footer(1);
        b.sectionEnd(1).page(0, "ram", pages[0]).zeroPage(0, null, 0).page(0x1000, null, pages[1])
                .page(0x2000, null, pages[2]).page(0x3000, null, pages[0]).zeroPage(0x3000, null, 0)
                .page(0x1000, null, pages[2]).eos().footer(1);
        byte[] bytes = b.eof().description(ReaderTests.desc()).toByteArray();
        try (GuestMemory memory = GuestMemory.index(
                MigrationReader.open(new java.io.ByteArrayInputStream(bytes), ReadOptions.DEFAULT))) {
            byte[] all = new byte[0x4000];
            memory.read("ram", 0, all, 0, all.length);
            byte[] want = new byte[0x4000];
            System.arraycopy(pages[2], 0, want, 0x1000, 4096);
            System.arraycopy(pages[2], 0, want, 0x2000, 4096);
            assertArrayEquals(want, all);
            assertEquals(GuestMemory.PageKind.ZERO, memory.pageKind("ram", 3));
            assertEquals(2, memory.timesSent("ram", 1));
        }
    }

    /** A block list declaring more RAM than the index takes: a limit, located, before any allocation. */
    @Test
    void aForgedBlockLengthIsALimitNotAnAllocation() {
        StreamBuilder b = StreamBuilder.stream();
        long huge = 1L << 48; // under the reader's own limit (2^40 pages), over the index's 64 TiB
        b.sectionStart(1, "ram", 0, 4).memSize(huge).block("ram", huge).eos().footer(1);
        byte[] bytes = b.eof().toByteArray();
        io.qevm.exc.LimitExceededException e = assertThrows(io.qevm.exc.LimitExceededException.class,
                () -> GuestMemory.index(MigrationReader.open(bytes, ReadOptions.builder()
                        .disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build())));
        assertTrue(e.getMessage().contains("RAM block 'ram' declares 281474976710656 bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("byte"), e.getMessage());
    }

    @Test
    void machinesLayouts() {
        List<GuestMemory.Block> arm = List.of(new GuestMemory.Block("mach-virt.ram", 1L << 30, 4096));
        assertEquals(0x40000000L, PhysicalMap.of("virt-7.2", arm).ranges().getFirst().gpa());
        List<GuestMemory.Block> riscv = List.of(new GuestMemory.Block("riscv_virt_board.ram", 1L << 30, 4096));
        assertEquals(0x80000000L, PhysicalMap.of("virt", riscv).ranges().getFirst().gpa());
        List<GuestMemory.Block> pc = List.of(new GuestMemory.Block("pc.ram", 0xe0000000L, 4096));
        // 3.5 GiB: split at 3 GiB on newer i440FX types, kept whole below 0xe0000000 on 1.7
        assertEquals(0xc0000000L, PhysicalMap.of("pc-i440fx-2.0", pc).ranges().getFirst().length());
        assertEquals(0xe0000000L, PhysicalMap.of("pc-i440fx-1.7", pc).ranges().getFirst().length());
        assertEquals(0xb0000000L, PhysicalMap.of("pc-q35-1.7", pc).ranges().getFirst().length());
        assertEquals(0x80000000L, PhysicalMap.of("pc-q35-2.4", pc).ranges().getFirst().length());
        List<GuestMemory.Block> small = List.of(new GuestMemory.Block("pc.ram", 0xa0000000L, 4096));
        assertEquals(1, PhysicalMap.of("pc-q35-7.2", small).ranges().size());
        assertNull(PhysicalMap.of("microvm", pc));
        assertNull(PhysicalMap.of(null, pc));
    }

    /** Samples with the reference's -x listing: every block read whole must hash as the reference's file. */
    @ParameterizedTest
    @ValueSource(strings = {"c-pc-loader-data", "h-compress", "i-live-xbzrle", "n-live-xbzrle", "s-savevm-pc-first",
            "s-savevm-pc-latest", "k-libvirt-save-gzip", "n-mapped-ram", "m-arm-versatilepb-1k", "d-aarch64-virt",
            "e-ppc64-pseries"})
    void everyBlockAsTheReferenceExtractsIt(String sample) throws Exception {
        Map<String, String> want = extractListing(sample);
        ReadOptions options = sample.equals("s-savevm-pc-first") ? ReadOptions.builder().snapshot("1").build()
                : ReadOptions.DEFAULT;
        try (GuestMemory memory = GuestMemory.open(Samples.dump(sample), options)) {
            assertEquals(want, hashes(memory), sample + " from the file");
            // into native memory a plain file's runs of pages are scattered straight to their
            // places; chunks that are no multiple of a page start runs in mid-page
            assertEquals(want, nativeHashes(memory, 300_000), sample + " from the file, into native memory");
            assertEquals(want, pageHashes(memory), sample + " from the file, page by page in place");
        }
        boolean streamable = !sample.startsWith("s-") && !sample.equals("n-mapped-ram");
        if (streamable) {
            try (InputStream in = Files.newInputStream(Samples.dump(sample));
                    GuestMemory memory = GuestMemory.index(MigrationReader.open(in, options))) {
                assertEquals(want, hashes(memory), sample + " from an InputStream (spooled)");
                assertEquals(want, pageHashes(memory), sample + " from an InputStream, page by page");
            }
        }
    }

    private static Map<String, String> extractListing(String sample) throws IOException {
        Map<String, String> want = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Samples.folder(sample).resolve("expected/extract.sha256"))) {
            String[] parts = line.trim().split("\\s+", 3);
            if (!parts[2].equals("desc.json") && !parts[2].equals("state.json")) {
                want.put(parts[2], parts[0]);
            }
        }
        return want;
    }

    private static Map<String, String> hashes(GuestMemory memory) throws Exception {
        return hashes(memory, 1 << 20);
    }

    /** The SHA-256 of every block, read in reads of {@code chunkBytes} (under 64 KiB: reads of single pages, across pages). */
    private static Map<String, String> hashes(GuestMemory memory, int chunkBytes) throws Exception {
        Map<String, String> got = new LinkedHashMap<>();
        byte[] chunk = new byte[chunkBytes];
        for (GuestMemory.Block block : memory.blocks()) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (long at = 0; at < block.length(); at += chunk.length) {
                int n = (int) Math.min(chunk.length, block.length() - at);
                memory.read(block.name(), at, chunk, 0, n);
                sha.update(chunk, 0, n);
            }
            String name = block.name().startsWith("/") ? block.name().substring(1) : block.name();
            got.put(name, HexFormat.of().formatHex(sha.digest()));
        }
        return got;
    }

    /** As {@link #hashes}, each block read by its PageReader, every page in turn. */
    private static Map<String, String> pageHashes(GuestMemory memory) throws Exception {
        Map<String, String> got = new LinkedHashMap<>();
        for (GuestMemory.Block block : memory.blocks()) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            GuestMemory.PageReader pages = memory.pages(block.name());
            assertEquals(block.pageSize(), pages.pageSize());
            for (long page = 0; page < block.pages(); page++) {
                MemorySegment bytes = pages.page(page);
                assertEquals(block.pageSize(), bytes.byteSize());
                long n = Math.min(block.pageSize(), block.length() - page * block.pageSize());
                sha.update(bytes.asSlice(0, n).asByteBuffer());
            }
            assertThrows(IllegalArgumentException.class, () -> pages.page(block.pages()));
            String name = block.name().startsWith("/") ? block.name().substring(1) : block.name();
            got.put(name, HexFormat.of().formatHex(sha.digest()));
        }
        return got;
    }

    private static Map<String, String> nativeHashes(GuestMemory memory, int chunkBytes) throws Exception {
        Map<String, String> got = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(chunkBytes);
            byte[] heap = new byte[chunkBytes];
            for (GuestMemory.Block block : memory.blocks()) {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                for (long at = 0; at < block.length(); at += chunkBytes) {
                    int n = (int) Math.min(chunkBytes, block.length() - at);
                    memory.read(block.name(), at, chunk.asSlice(0, n));
                    MemorySegment.copy(chunk, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, heap, 0, n);
                    sha.update(heap, 0, n);
                }
                String name = block.name().startsWith("/") ? block.name().substring(1) : block.name();
                got.put(name, HexFormat.of().formatHex(sha.digest()));
            }
        }
        return got;
    }

    /** Whatever may stay mapped (nothing: every small read a positional one; all of it), reads read the same. */
    @Test
    void keepMappedChangesHowNotWhat() throws Exception {
        Map<String, String> want = extractListing("c-pc-loader-data");
        try (GuestMemory memory = GuestMemory.open(Samples.dump("c-pc-loader-data"), ReadOptions.DEFAULT)) {
            byte[] page = new byte[4096];
            memory.read("pc.ram", 0x1000000, page, 0, page.length); // mapped, within the default budget
            assertEquals(2 << 20, memory.mappedBytes());
            assertSame(memory, memory.keepMapped(0)); // hands it back
            assertEquals(0, memory.mappedBytes());
            assertEquals(want, hashes(memory, 3000), "nothing kept mapped");
            assertEquals(0, memory.mappedBytes(), "every small read a positional one");
            memory.keepMapped(Long.MAX_VALUE);
            assertEquals(want, hashes(memory, 3000), "all of it kept mapped");
            long dump = java.nio.file.Files.size(Samples.dump("c-pc-loader-data"));
            assertTrue(memory.mappedBytes() >= dump - (2 << 20), memory.mappedBytes() + " of " + dump + " mapped");
            assertThrows(IllegalArgumentException.class, () -> memory.keepMapped(-1));
        }
    }

    /**
     * A page reader whose positional read failed (the file cut after it was indexed) reads again
     * for the next page, rather than hand out what the failed read left in its buffer.
     */
    @Test
    void aPageReaderReadsAgainAfterAFailedRead(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("dump.mig");
        Files.copy(Samples.dump("c-pc-loader-data"), copy);
        long first = 0x1000000 / 4096; // 4 MiB of random data from here: 1024 pages in a row
        try (GuestMemory memory = GuestMemory.open(copy, ReadOptions.DEFAULT)) {
            byte[] far = new byte[4096];
            memory.read("pc.ram", (first + 600) * 4096, far, 0, far.length);
            long farAt = indexOf(Files.readAllBytes(copy), far);
            assertTrue(farAt > 0);
            GuestMemory.PageReader pages = memory.pages("pc.ram");
            byte[] near = pages.page(first + 1).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE); // a 1 MiB span
            try (java.nio.channels.FileChannel cut = java.nio.channels.FileChannel.open(copy,
                    java.nio.file.StandardOpenOption.WRITE)) {
                cut.truncate(farAt + 100);
            }
            IOException e = assertThrows(IOException.class, () -> pages.page(first + 600));
            assertTrue(e.getMessage().contains("changed since indexed"), e.getMessage());
            // page first + 1 and the 1 MiB after it are still in the file: read again, right
            assertArrayEquals(near, pages.page(first + 1).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
    }

    private static long indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (java.util.Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void readIntoASegment() throws Exception {
        try (GuestMemory memory = GuestMemory.open(Samples.dump("c-pc-loader-data"), ReadOptions.DEFAULT);
                Arena arena = Arena.ofConfined()) {
            MemorySegment into = arena.allocate(10000);
            memory.read("pc.ram", 0x1000000 - 100, into);
            byte[] want = new byte[10000];
            memory.read("pc.ram", 0x1000000 - 100, want, 0, want.length);
            assertArrayEquals(want, into.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertNotNull(memory.block("pc.ram"));
        }
    }

    /**
     * index(reader, alsoSee) hands the consumer every event of the one pass, in order, EOF once
     * and last, with the reader on it (the same events and RAM page offsets as a pass of its
     * own), and the index it builds reads as the one of open().
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void indexHandsEveryEventToAnotherConsumer(boolean stream) throws Exception {
        Path dump = Samples.dump("c-pc-loader-data");
        List<String> alone = new java.util.ArrayList<>();
        try (MigrationReader reader = MigrationReader.open(dump, ReadOptions.DEFAULT)) {
            io.qevm.consume.MigrationConsumer.drive(reader, (e, r) -> alone.add(e + (e == MigrationEvent.RAM_PAGE
                    ? " " + r.pageOffset() : "")));
        }
        List<String> seen = new java.util.ArrayList<>();
        MigrationReader reader = stream
                ? MigrationReader.open(Files.newInputStream(dump), ReadOptions.DEFAULT)
                : MigrationReader.open(dump, ReadOptions.DEFAULT);
        try (GuestMemory memory = GuestMemory.index(reader, (e, r) -> seen.add(e + (e == MigrationEvent.RAM_PAGE
                ? " " + r.pageOffset() : "")));
                GuestMemory plain = GuestMemory.open(dump, ReadOptions.DEFAULT)) {
            assertTrue(alone.size() > 1000, "events: " + alone.size());
            assertEquals(alone, seen);
            assertEquals("EOF", seen.getLast());
            byte[] x = new byte[1 << 20];
            byte[] y = new byte[1 << 20];
            memory.readPhysical(0x1000000, x, 0, x.length);
            plain.readPhysical(0x1000000, y, 0, y.length);
            assertArrayEquals(y, x);
            assertArrayEquals(sha256Counter("qemu-mig-corpus-", 4096), java.util.Arrays.copyOf(x, 4096));
        }
    }

    /** A consumer that fails ends the pass: its exception comes out of index(). */
    @Test
    void aFailingConsumerEndsTheIndex() throws Exception {
        MigrationReader reader = MigrationReader.open(Samples.dump("c-pc-loader-data"), ReadOptions.DEFAULT);
        IOException thrown = assertThrows(IOException.class, () -> GuestMemory.index(reader, (e, r) -> {
            if (e == MigrationEvent.RAM_PAGE) {
                throw new IOException("consumer failed");
            }
        }));
        assertEquals("consumer failed", thrown.getMessage());
    }
}
