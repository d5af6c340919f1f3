package io.qevm.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.Samples;
import io.qevm.SourceKind;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tukaani.xz.XZInputStream;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Extraction against ground truth that owes nothing to any stream parser: the RAM blocks QEMU
 * itself loaded from each sample's dump ({@code ground-truth/}, see its GROUND-TRUTH.txt), and the
 * data the dumps' {@code -device loader} options put into guest RAM, regenerated here as
 * tools/dumps/make-dump.sh's {@code make_inputs} makes it.
 *
 * <p>Every ground-truth file in the samples covers a whole RAM block: main RAM is the
 * destination's memory-backend-file (the block itself); pc.bios, pc.rom and the aarch64 flashes
 * were read from guest-physical ranges that 'info mtree' shows are exactly those blocks. The test
 * checks that from GROUND-TRUTH.txt (the range's length is the block's used_length) before
 * comparing from offset 0.
 *
 * <p>Every check runs over each {@link SourceKind}: the dump mapped, in a heap array, and read as
 * a stream (where the extractor, or {@code -m}'s spool, lends the reader the earlier copies of
 * pages that XBZRLE deltas apply to). Each must match on its own.
 */
final class GroundTruthTest {

    private static final int CHUNK = 1 << 20;
    private static final long RANDOM_AT = 0x1000000;
    private static final long PATTERN_AT = 0x4000000;

    /** Samples with a ground-truth folder. */
    private static final String[] WITH_GROUND_TRUTH = {"a-pc-paused", "c-pc-loader-data", "d-aarch64-virt",
        "g-ignore-shared", "h-compress", "i-live-xbzrle"};

    @TempDir
    Path scratch;

    /** Ground-truth blocks unpacked (sparse) for the -m checks, once per run. */
    @TempDir
    static Path truthFolder;
    private static final Map<Path, Path> UNPACKED = new ConcurrentHashMap<>();

    /** Each of {@code samples} with each kind of source. */
    private static Stream<Arguments> byKind(String... samples) {
        return Arrays.stream(samples).flatMap(sample -> Arrays.stream(SourceKind.values())
                .map(kind -> Arguments.of(sample, kind)));
    }

    static Stream<Arguments> groundTruthSamples() {
        return byKind(WITH_GROUND_TRUTH);
    }

    // ================================================================== against QEMU's own load

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("groundTruthSamples")
    void extractionMatchesQemusLoad(String sample, SourceKind kind) throws IOException {
        Path folder = Samples.folder(sample);
        Path truth = folder.resolve("ground-truth");
        Map<String, String> sums = readSums(truth.resolve("SHA256SUMS.raw"));
        Map<String, TruthFile> described = readGroundTruthText(truth.resolve("GROUND-TRUTH.txt"));
        assertEquals(sums.keySet(), described.keySet(), "SHA256SUMS.raw and GROUND-TRUTH.txt list the same files");

        Extraction extraction = extract(Samples.dump(sample), kind);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> entry : sums.entrySet()) {
            String block = entry.getKey();
            TruthFile about = described.get(block);
            Long length = extraction.lengths.get(block);
            if (length == null) {
                problems.add(block + ": the stream has no such RAM block");
                continue;
            }
            assertEquals(about.size, (long) length, block + ": the ground truth covers the whole block");
            if (about.physicalLength >= 0) {
                assertEquals(about.physicalLength, (long) length,
                        block + ": the guest-physical range read is the whole block");
            }
            Path extracted = extraction.directory.resolve(block);
            String problem = compareWithXz(truth.resolve(block + ".xz"), entry.getValue(), extracted);
            if (problem != null) {
                problems.add(block + ": " + problem);
            }
        }
        if (!problems.isEmpty()) {
            fail(sample + " from " + kind + ": " + String.join("; ", problems));
        }
    }

    /**
     * {@code -d state -m}: the "memory" object lists pages with the value of their last copy;
     * each listed page of a block QEMU's load saved is that page of the ground truth, and each
     * page not listed (never sent) is zero there, as QEMU's fresh RAM is.
     */
    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("groundTruthSamples")
    void memoryDumpMatchesQemusLoad(String sample, SourceKind kind) throws IOException {
        Path truth = Samples.folder(sample).resolve("ground-truth");
        Map<String, String> sums = readSums(truth.resolve("SHA256SUMS.raw"));
        Path json = scratch.resolve("state-m.json");
        try (MigrationReader reader = open(Samples.dump(sample), kind); StateWriter state = new StateWriter(true);
                OutputStream out = Files.newOutputStream(json)) {
            if (!reader.isRandomAccess()) {
                reader.setPageStore(state.pageStore());
            }
            MigrationConsumer.drive(reader, state);
            state.writeTo(out, true);
        }
        Map<String, FileChannel> blocks = new HashMap<>();
        Map<String, BitSet> listed = new HashMap<>();
        List<String> problems = new ArrayList<>();
        long pages = 0;
        try (JsonParser parser = JsonFactory.builder().build().createParser(ObjectReadContext.empty(),
                Files.newInputStream(json))) {
            assertTrue(skipTo(parser, 1, name -> name.startsWith("ram (")), "a RAM section");
            assertTrue(skipTo(parser, 2, "memory"::equals), "a memory object in the RAM section");
            while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                String key = parser.currentName();
                assertEquals(JsonToken.VALUE_STRING, parser.nextToken(), key);
                int open = key.lastIndexOf(" (0x");
                String block = key.substring(0, open);
                long offset = Long.parseLong(key.substring(open + 4, key.length() - 1), 16);
                pages++;
                if (!sums.containsKey(block)) {
                    continue; // a block without ground truth (ACPI tables: invisible to the guest)
                }
                byte[] want = page(blocks.computeIfAbsent(block, b -> unpackedTruth(truth, b)), offset, PAGE);
                byte[] got = pageValue(parser.getString(), PAGE);
                int at = Arrays.mismatch(want, got);
                if (at >= 0 && problems.size() < 5) {
                    problems.add(String.format("%s: first difference at offset 0x%x: ground truth %02x, -m %02x",
                            key, offset + at, want[at], got[at]));
                }
                listed.computeIfAbsent(block, b -> new BitSet()).set(Math.toIntExact(offset / PAGE));
            }
            for (String block : sums.keySet()) {
                FileChannel channel = blocks.computeIfAbsent(block, b -> unpackedTruth(truth, b));
                BitSet sent = listed.getOrDefault(block, new BitSet());
                for (long offset = 0; offset < channel.size() && problems.size() < 5; offset += PAGE) {
                    if (!sent.get(Math.toIntExact(offset / PAGE))
                            && Arrays.mismatch(page(channel, offset, PAGE), new byte[PAGE]) >= 0) {
                        problems.add(String.format("%s (0x%016x): not listed, but not zero in the ground truth",
                                block, offset));
                    }
                }
            }
        } finally {
            for (FileChannel channel : blocks.values()) {
                channel.close();
            }
        }
        assertTrue(pages > 0, "pages listed");
        if (!problems.isEmpty()) {
            fail(sample + " from " + kind + ": " + String.join("; ", problems));
        }
    }

    /**
     * g-ignore-shared: main RAM 'm' is shared memory, never sent; GROUND-TRUTH.txt says the source's
     * and the destination's file were all zero. The extracted block is listed at its size, all zero.
     */
    @Test
    void ignoredSharedBlockIsZero() throws IOException {
        Extraction extraction = extract(Samples.dump("g-ignore-shared"), SourceKind.MAPPED);
        assertEquals(128L << 20, extraction.lengths.get("m"));
        Path m = extraction.directory.resolve("m");
        assertEquals(128L << 20, Files.size(m));
        assertZero(m, 0, 128L << 20);
    }

    // ================================================================== the loader blobs

    static Stream<Arguments> loaderSamples() {
        return byKind("c-pc-loader-data", "h-compress", "n-pc-loader", "n-mapped-ram");
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("loaderSamples")
    void loaderBlobsAreInPcRam(String sample, SourceKind kind) throws IOException {
        Extraction extraction = extract(Samples.dump(sample), kind);
        Path ram = extraction.directory.resolve("pc.ram");
        assertEquals(128L << 20, Files.size(ram));
        try (FileChannel channel = FileChannel.open(ram)) {
            assertBytes(random4M(), channel, RANDOM_AT, sample + " pc.ram, random4M.bin");
            assertBytes(pattern1M(), channel, PATTERN_AT, sample + " pc.ram, pattern1M.txt");
        }
        // the guest never ran (-S): nothing else in main RAM (as GROUND-TRUTH.txt says of c and h)
        assertZero(ram, 0, RANDOM_AT);
        assertZero(ram, RANDOM_AT + random4M().length, PATTERN_AT);
        assertZero(ram, PATTERN_AT + pattern1M().length, 128L << 20);
    }

    // ================================================================== the RAM-dirtying guest

    /**
     * i-live-xbzrle and n-live-xbzrle run tools/dumps/dirty.asm, which loops: inc the dwords at
     * page offsets 0x000 and 0x800 of the 512 pages at 0x200000 (region A), inc every dword of
     * the 16 pages at 0x400000 (region B), then inc the pass counter at 0x500000. The VM stops at
     * any instruction, so in loop order the dirtied words hold counter + 1 for a prefix (the pass
     * under way) and counter after it; no other word of region A's pages is touched. (n-live's
     * NOTES.txt gives the numbers: 11690, the first 814 at 11691. i-live's NOTES.txt says "the
     * same pass count" for all; its ground truth, which this test also matches, has the first
     * 11765 words one pass ahead, as the counter rule allows.)
     */
    static Stream<Arguments> liveSamples() {
        return byKind("i-live-xbzrle", "n-live-xbzrle");
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("liveSamples")
    void dirtiedWordsCarryThePassCount(String sample, SourceKind kind) throws IOException {
        Extraction extraction = extract(Samples.dump(sample), kind);
        ByteBuffer ram = ByteBuffer.allocate(0x310000).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(extraction.directory.resolve("pc.ram"))) {
            readFully(channel, ram, 0x200000);
        }
        int counter = ram.getInt(0x500000 - 0x200000);
        assertTrue(counter > 0, "the guest looped at least once");
        List<Integer> words = new ArrayList<>();
        for (int page = 0x200000; page < 0x400000; page += 4096) {
            words.add(ram.getInt(page - 0x200000));
            words.add(ram.getInt(page + 0x800 - 0x200000));
        }
        for (int at = 0x400000; at < 0x410000; at += 4) {
            words.add(ram.getInt(at - 0x200000));
        }
        int ahead = 0;
        while (ahead < words.size() && words.get(ahead) == counter + 1) {
            ahead++;
        }
        for (int i = ahead; i < words.size(); i++) {
            if (words.get(i) != counter) {
                fail(sample + ": dirtied word " + i + " (in loop order) is " + words.get(i) + ", expected "
                        + counter + (i == ahead ? " or " + (counter + 1) : "") + " (pass counter " + counter + ")");
            }
        }
        for (int page = 0x200000; page < 0x400000; page += 4096) {
            for (int offset = 4; offset < 4096; offset += 4) {
                if (offset != 0x800 && ram.getInt(page + offset - 0x200000) != 0) {
                    fail(sample + ": word at 0x" + Integer.toHexString(page + offset) + " should be untouched");
                }
            }
        }
        if (sample.equals("n-live-xbzrle")) {
            assertEquals(11690, counter, "NOTES.txt: pass counter 11690");
            assertEquals(814, ahead, "NOTES.txt: the first 814 words already at 11691");
        }
    }

    // ================================================================== extraction

    private record Extraction(Path directory, Map<String, Long> lengths) {
    }

    /**
     * A reader over {@code dump} from a source of the given kind: the file itself mapped, or its
     * bytes in a heap array or trickled through a stream.
     */
    private static MigrationReader open(Path dump, SourceKind kind) throws IOException {
        return kind == SourceKind.MAPPED ? MigrationReader.open(dump) : kind.open(Samples.read(dump));
    }

    /**
     * PageExtractor over the dump, committed; with the used_length of every RAM block. On a
     * stream the extractor lends the reader the pages XBZRLE deltas apply to.
     */
    private Extraction extract(Path dump, SourceKind kind) throws IOException {
        Path out = Files.createTempDirectory(scratch, "x-");
        Map<String, Long> lengths = new LinkedHashMap<>();
        try (MigrationReader reader = open(dump, kind);
                PageExtractor extractor = new PageExtractor(out, name -> { })) {
            if (!reader.isRandomAccess()) {
                reader.setPageStore(extractor);
            }
            MigrationConsumer.drive(reader, extractor, (event, r) -> {
                if (event == MigrationEvent.RAM_BLOCK) {
                    lengths.put(r.blockName(), r.blockLength());
                }
            });
            extractor.commit();
        }
        return new Extraction(out, lengths);
    }

    // ================================================================== comparing

    /**
     * Streams the decompressed ground truth against the extracted file: null when they are equal
     * (and the ground truth has the sha256 SHA256SUMS.raw gives), else where they first differ.
     */
    private static String compareWithXz(Path xz, String sha256, Path extracted) throws IOException {
        if (!Files.isRegularFile(extracted)) {
            return "not extracted (no file " + extracted.getFileName() + ")";
        }
        MessageDigest digest = sha256();
        byte[] want = new byte[CHUNK];
        ByteBuffer got = ByteBuffer.allocate(CHUNK);
        long offset = 0;
        String difference = null;
        try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(xz), 1 << 16));
                FileChannel channel = FileChannel.open(extracted)) {
            long extractedSize = channel.size();
            int n;
            while ((n = in.readNBytes(want, 0, CHUNK)) > 0) {
                digest.update(want, 0, n);
                if (difference == null) {
                    got.clear().limit((int) Math.min(n, Math.max(0, extractedSize - offset)));
                    readFully(channel, got, offset);
                    int at = Arrays.mismatch(want, 0, n, got.array(), 0, got.limit());
                    if (at >= 0) {
                        long where = offset + at;
                        difference = where >= extractedSize
                                ? "extracted file ends at 0x" + Long.toHexString(extractedSize) + ", ground truth goes on"
                                : String.format("first difference at offset 0x%x (page 0x%x): ground truth %02x, extracted %02x",
                                        where, where & ~0xfffL, want[at], got.get(at));
                    }
                }
                offset += n;
            }
            if (difference == null && extractedSize != offset) {
                difference = "extracted file has " + extractedSize + " bytes, ground truth " + offset;
            }
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        assertEquals(sha256, actual, xz + ": the ground truth itself is intact (SHA256SUMS.raw)");
        return difference;
    }

    private static void assertBytes(byte[] expected, FileChannel channel, long at, String what) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(expected.length);
        readFully(channel, got, at);
        int mismatch = Arrays.mismatch(expected, got.array());
        assertEquals(-1, mismatch, () -> what + ": first difference at offset 0x" + Long.toHexString(at + mismatch));
    }

    /** Every byte of [from, to) of the file is zero; else the first that is not. */
    private static void assertZero(Path file, long from, long to) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
        byte[] zeros = new byte[CHUNK];
        try (FileChannel channel = FileChannel.open(file)) {
            for (long at = from; at < to; at += CHUNK) {
                buffer.clear().limit((int) Math.min(CHUNK, to - at));
                readFully(channel, buffer, at);
                int mismatch = Arrays.mismatch(buffer.array(), 0, buffer.limit(), zeros, 0, buffer.limit());
                if (mismatch >= 0) {
                    fail(file.getFileName() + ": expected zero, found a non-zero byte at offset 0x"
                            + Long.toHexString(at + mismatch));
                }
            }
        }
    }

    /** Fills {@code buffer} from {@code offset}, or fails if the file ends first. */
    private static void readFully(FileChannel channel, ByteBuffer buffer, long offset) throws IOException {
        long at = offset;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new IOException("file ends at " + at);
            }
            at += n;
        }
    }

    // ================================================================== the samples' files

    /** One file of GROUND-TRUTH.txt's "Files" list. */
    private record TruthFile(long size, long physicalLength) {
    }

    private static final Pattern FILE_LINE =
            Pattern.compile("^(\\S+)\\.xz\\s+([0-9a-f]{64})\\s+(\\d+) bytes");
    private static final Pattern PHYSICAL_RANGE =
            Pattern.compile("guest-physical 0x([0-9a-f]+)-0x([0-9a-f]+)");

    /**
     * GROUND-TRUTH.txt's "Files" section: {@code NAME.xz  sha256  SIZE bytes, ...} lines, each
     * followed by a line saying what was saved ("whole block", or a guest-physical range).
     */
    private static Map<String, TruthFile> readGroundTruthText(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Map<String, TruthFile> files = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher line = FILE_LINE.matcher(lines.get(i));
            if (!line.find()) {
                continue;
            }
            String about = i + 1 < lines.size() ? lines.get(i + 1) : "";
            Matcher range = PHYSICAL_RANGE.matcher(about);
            long physical = -1;
            if (range.find()) {
                physical = Long.parseLong(range.group(2), 16) - Long.parseLong(range.group(1), 16) + 1;
            } else {
                assertTrue(about.contains("RAMBlock '" + line.group(1) + "'"),
                        file + ": no description of " + line.group(1) + ": " + about);
            }
            files.put(line.group(1), new TruthFile(Long.parseLong(line.group(3)), physical));
        }
        assertFalse(files.isEmpty(), file + ": no files listed");
        return files;
    }

    /** {@code sha256  name} lines. */
    private static Map<String, String> readSums(Path file) throws IOException {
        Map<String, String> sums = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                String[] parts = line.split("\\s+", 2);
                sums.put(parts[1], parts[0]);
            }
        }
        return sums;
    }

    // ================================================================== -m's JSON and the unpacked ground truth

    /** The page size of every sample with ground truth (x86 and aarch64 virt: TARGET_PAGE_BITS 12). */
    private static final int PAGE = 4096;

    /**
     * Moves {@code parser} (streaming JSON) into the value of the first property at object depth
     * {@code depth} (1: the top object) whose name {@code matches}, skipping the others.
     */
    private static boolean skipTo(JsonParser parser, int depth, java.util.function.Predicate<String> matches) {
        if (parser.currentToken() == null) {
            assertEquals(JsonToken.START_OBJECT, parser.nextToken());
        }
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (value == JsonToken.START_OBJECT && matches.test(name)) {
                return true;
            }
            parser.skipChildren();
        }
        return false;
    }

    /**
     * A page as -m prints it: {@code "Filled with 0x%02x"} of the byte read signed
     * ({@code 0x-1} for 0xff), or the bytes in hex separated by spaces.
     */
    private static byte[] pageValue(String value, int pageSize) {
        byte[] page = new byte[pageSize];
        if (value.startsWith("Filled with 0x")) {
            Arrays.fill(page, (byte) Integer.parseInt(value.substring("Filled with 0x".length()), 16));
            return page;
        }
        byte[] bytes = HexFormat.ofDelimiter(" ").parseHex(value);
        assertEquals(pageSize, bytes.length, "bytes of a page in hex");
        return bytes;
    }

    /** The ground truth of {@code block}, unpacked sparsely once per run, open for reading. */
    private static FileChannel unpackedTruth(Path truth, String block) {
        Path xz = truth.resolve(block + ".xz");
        Path file = UNPACKED.computeIfAbsent(xz, x -> {
            try {
                Path out = Files.createTempDirectory(truthFolder, "truth-").resolve(block);
                Samples.unpackSparse(x, out);
                return out;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try {
            return FileChannel.open(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] page(FileChannel channel, long offset, int size) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(size);
        readFully(channel, buffer, offset);
        return buffer.array();
    }

    // ================================================================== the loader inputs (make_inputs)

    private static byte[] random4M;
    private static byte[] pattern1M;

    /**
     * inputs/random4M.bin: the first 4 MiB of random32M.bin, the sha256-counter stream
     * {@code hashlib.sha256(b"qemu-mig-corpus-%d" % i).digest()} for i = 0, 1, ...
     */
    static synchronized byte[] random4M() {
        if (random4M == null) {
            MessageDigest digest = sha256();
            byte[] out = new byte[4 << 20];
            for (int i = 0; i < out.length / 32; i++) {
                byte[] hash = digest.digest(("qemu-mig-corpus-" + i).getBytes(StandardCharsets.US_ASCII));
                System.arraycopy(hash, 0, out, i * 32, 32);
            }
            random4M = out;
        }
        return random4M;
    }

    /**
     * inputs/pattern1M.txt: lines {@code "MIGRATION-CORPUS-PATTERN line %08d: The quick brown fox
     * jumps over the lazy dog.\n"} from 0 on, cut at exactly 1 MiB.
     */
    static synchronized byte[] pattern1M() {
        if (pattern1M == null) {
            byte[] out = new byte[1 << 20];
            int at = 0;
            for (int i = 0; at < out.length; i++) {
                byte[] line = String.format("MIGRATION-CORPUS-PATTERN line %08d: The quick brown fox jumps over the lazy dog.\n", i)
                        .getBytes(StandardCharsets.US_ASCII);
                int n = Math.min(line.length, out.length - at);
                System.arraycopy(line, 0, out, at, n);
                at += n;
            }
            pattern1M = out;
        }
        return pattern1M;
    }

    @Test
    void loaderInputsAreRegeneratedAsMakeInputsDoes() {
        // the first line, and where the 4 MiB stream starts: sha256(b"qemu-mig-corpus-0")
        String first = "MIGRATION-CORPUS-PATTERN line 00000000: The quick brown fox jumps over the lazy dog.\n";
        assertEquals(first, new String(pattern1M(), 0, first.length(), StandardCharsets.US_ASCII));
        assertEquals(HexFormat.of().formatHex(sha256().digest("qemu-mig-corpus-0".getBytes(StandardCharsets.US_ASCII))),
                HexFormat.of().formatHex(Arrays.copyOf(random4M(), 32)));
        // sha256 of the files make_inputs writes (python3 recipe run once by hand)
        assertEquals("969d20e5b836c55f8ac5ef3df615e7f3c3b1e61bb8bb0d0d456000f7fb6ca2a2",
                HexFormat.of().formatHex(sha256().digest(random4M())));
        assertEquals("83b6fd8dbeb2078c1348af9dcdaaced643f77330382bc1a73670971aad0ca0d0",
                HexFormat.of().formatHex(sha256().digest(pattern1M())));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
