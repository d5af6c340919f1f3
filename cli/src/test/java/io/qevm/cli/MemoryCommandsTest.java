package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import io.qevm.StreamBuilder;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code qevm read} and {@code qevm grep} on dumps with known guest memory. */
class MemoryCommandsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path work;

    private CliRun run(String... args) {
        return CliRun.inProcess(work, TIMEOUT, args);
    }

    private static String loader() {
        return Samples.dump("c-pc-loader-data").toString();
    }

    static byte[] sha256Counter(String prefix, int length) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; out.size() < length; i++) {
            out.writeBytes(sha.digest((prefix + i).getBytes(UTF_8)));
        }
        return java.util.Arrays.copyOf(out.toByteArray(), length);
    }

    @Test
    void readPrintsAsHexdumpC() {
        CliRun r = run("read", loader(), "--gpa", "0x4000000", "--length", "100");
        assertEquals(0, r.exit(), r.err());
        // what hexdump -C -s 0x4000000 -n 100 prints of the ground truth's pc.ram
        assertEquals("""
                04000000  4d 49 47 52 41 54 49 4f  4e 2d 43 4f 52 50 55 53  |MIGRATION-CORPUS|
                04000010  2d 50 41 54 54 45 52 4e  20 6c 69 6e 65 20 30 30  |-PATTERN line 00|
                04000020  30 30 30 30 30 30 3a 20  54 68 65 20 71 75 69 63  |000000: The quic|
                04000030  6b 20 62 72 6f 77 6e 20  66 6f 78 20 6a 75 6d 70  |k brown fox jump|
                04000040  73 20 6f 76 65 72 20 74  68 65 20 6c 61 7a 79 20  |s over the lazy |
                04000050  64 6f 67 2e 0a 4d 49 47  52 41 54 49 4f 4e 2d 43  |dog..MIGRATION-C|
                04000060  4f 52 50 55                                       |ORPU|
                04000064
                """, r.outText());
        assertEquals("", r.err());
        // equal lines collapse to '*', as hexdump -C shows them; block offsets as addresses
        CliRun zeros = run("read", loader(), "--block", "pc.ram", "--offset", "0x3fffff0", "--length", "0x30");
        assertEquals("""
                03fffff0  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|
                04000000  4d 49 47 52 41 54 49 4f  4e 2d 43 4f 52 50 55 53  |MIGRATION-CORPUS|
                04000010  2d 50 41 54 54 45 52 4e  20 6c 69 6e 65 20 30 30  |-PATTERN line 00|
                04000020
                """, zeros.outText());
        CliRun star = run("read", loader(), "--block", "pc.ram", "--offset", "0", "--length", "256");
        assertEquals("00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n00000100\n",
                star.outText());
    }

    @Test
    void readRawAndToAFile() throws Exception {
        byte[] want = sha256Counter("qemu-mig-corpus-", 4 << 20);
        CliRun raw = run("read", loader(), "--gpa", "0x1000000", "--length", "4M", "--raw");
        assertEquals(0, raw.exit(), raw.err());
        assertArrayEquals(want, raw.out());
        CliRun file = run("read", loader(), "--gpa=16M", "--length", "4M", "-o", "blob.bin");
        assertEquals(0, file.exit(), file.err());
        assertEquals("", file.outText());
        assertArrayEquals(want, Files.readAllBytes(work.resolve("blob.bin")));
        // a failed read leaves nothing: neither OUT nor OUT.partial
        CliRun past = run("read", loader(), "--block", "pc.ram", "--offset", "0x7fffff0", "--length", "32", "-o", "x.bin");
        assertEquals(1, past.exit());
        assertEquals(List.of("blob.bin"), Files.list(work).map(p -> p.getFileName().toString()).sorted().toList());
    }

    @Test
    void readAboveFourGibOnPcAndQ35() throws Exception {
        byte[] high = sha256Counter("qevm-gpa-high-", 4096);
        for (String sample : List.of("p-pc-highmem", "p-q35-highmem")) {
            CliRun r = run("read", Samples.dump(sample).toString(), "--gpa", "0x120000000", "--length", "4K", "--raw");
            assertEquals(0, r.exit(), r.err());
            assertArrayEquals(high, r.out(), sample);
        }
    }

    @Test
    void readAQcow2SnapshotAsTheReferenceExtractsIt() throws Exception {
        for (String sample : List.of("s-savevm-pc-first", "s-savevm-pc-latest")) {
            String want = Files.readAllLines(Samples.folder(sample).resolve("expected/extract.sha256")).stream()
                    .filter(l -> l.endsWith(" pc.ram")).findFirst().orElseThrow().split("\\s+")[0];
            List<String> args = new java.util.ArrayList<>(List.of("read", Samples.dump(sample).toString(),
                    "--block", "pc.ram", "--offset", "0", "--length", "96M", "-o", sample + ".ram"));
            if (sample.endsWith("first")) {
                args.addAll(List.of("--snapshot", "1"));
            }
            CliRun r = run(args.toArray(String[]::new));
            assertEquals(0, r.exit(), r.err());
            byte[] got = Files.readAllBytes(work.resolve(sample + ".ram"));
            assertEquals(want, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(got)), sample);
        }
    }

    @Test
    void readErrorsTakeOneLine() throws Exception {
        CliRun hole = run("read", loader(), "--gpa", "0x9000000", "--length", "16");
        assertEquals(1, hole.exit());
        assertEquals("qevm read: " + loader() + ": guest-physical address 0x9000000 is not RAM on machine "
                + "pc-i440fx-7.2 (RAM: 0x0-0x7ffffff)\n", hole.err());
        CliRun block = run("read", loader(), "--block", "nosuch", "--offset", "0", "--length", "16");
        assertEquals(1, block.exit());
        assertTrue(block.err().contains("no RAM block named 'nosuch'; the dump has pc.ram, "), block.err());
        CliRun past = run("read", loader(), "--block", "pc.ram", "--offset", "0x7fffff0", "--length", "32");
        assertEquals(1, past.exit());
        assertTrue(past.err().contains("past the end of RAM block 'pc.ram' (134217728 bytes"), past.err());
        assertEquals("", past.outText());
        CliRun bad = run("read", loader(), "--gpa", "0xzz", "--length", "16");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().startsWith("qevm read: error: argument --gpa: expected a number"), bad.err());
        assertEquals(2, run("read", loader(), "--gpa", "0", "--length", "2G").exit());
        assertEquals(2, run("read", loader(), "--gpa", "0", "--block", "pc.ram", "--length", "1").exit());
        assertEquals(2, run("read", loader(), "--gpa", "0").exit());
        assertEquals(2, run("read", loader(), "--block", "pc.ram", "--length", "1").exit());
        for (CliRun r : List.of(hole, block, past, bad)) {
            assertEquals(1, r.err().lines().count(), r.err());
        }
        // a machine with no known layout: say to read by block
        Path unknown = work.resolve("microvm.mig");
        byte[] page = new byte[4096];
        java.util.Arrays.fill(page, (byte) 'q');
        StreamBuilder b = StreamBuilder.stream().configuration("microvm");
        b.sectionStart(1, "ram", 0, 4).memSize(0x2000).block("microvm.ram", 0x2000).eos().footer(1);
        b.sectionEnd(1).page(0x1000, "microvm.ram", page).eos().footer(1);
        Files.write(unknown, b.eof().toByteArray());
        CliRun machine = run("read", unknown.toString(), "--gpa", "0x1000", "--length", "16");
        assertEquals(1, machine.exit());
        assertEquals("qevm read: " + unknown + ": machine type 'microvm' has no known guest-physical layout: read by "
                + "block and offset instead (--block NAME --offset OFF; blocks: microvm.ram)\n", machine.err());
        CliRun byBlock = run("read", unknown.toString(), "--block", "microvm.ram", "--offset", "0x1000", "--length", "4",
                "--raw");
        assertEquals(0, byBlock.exit(), byBlock.err());
        assertEquals("qqqq", byBlock.outText());
        CliRun grep = run("grep", unknown.toString(), "--text", "qqqq", "--max", "1");
        assertEquals("- microvm.ram 0x1000\n", grep.outText());
    }

    @Test
    void grepFindsTextAndBytesAcrossPagesAndChunks() throws Exception {
        CliRun text = run("grep", loader(), "--text", "line 00000100:");
        assertEquals(0, text.exit(), text.err());
        // line 100 of 85-byte lines, 'line' at column 25
        assertEquals("0x%x pc.ram 0x%x\n".formatted(0x4000000 + 100 * 85 + 25, 0x4000000 + 100 * 85 + 25),
                text.outText());
        // 8 zero bytes then the pattern's first 8: across a page, and across grep's 8 MiB chunks (0x4000000)
        CliRun across = run("grep", loader(), "--hex", "00000000 00000000 4d49475241544 94f");
        assertEquals("0x3fffff8 pc.ram 0x3fffff8\n", across.outText());
        // bytes across a page boundary inside the random blob: the 16 bytes at 0x1000ff8
        byte[] blob = sha256Counter("qemu-mig-corpus-", 0x1008);
        String hex = HexFormat.of().formatHex(java.util.Arrays.copyOfRange(blob, 0xff8, 0x1008));
        assertEquals("0x1000ff8 pc.ram 0x1000ff8\n", run("grep", loader(), "--hex", hex).outText());
        CliRun max = run("grep", loader(), "--text", "MIGRATION-CORPUS", "--max", "2", "--json");
        assertEquals("""
                {"gpa": 67108864, "block": "pc.ram", "offset": 67108864}
                {"gpa": 67108949, "block": "pc.ram", "offset": 67108949}
                """, max.outText());
        // the pattern's 1 MiB holds 12337 whole lines and part of one more
        CliRun all = run("grep", loader(), "--text", "MIGRATION-CORPUS");
        assertEquals((1 << 20) / 85 + 1, all.outText().lines().count());
        CliRun none = run("grep", loader(), "--text", "not in there anywhere");
        assertEquals(1, none.exit());
        assertEquals("", none.outText() + none.err());
        assertEquals(2, run("grep", loader(), "--hex", "abc").exit());
        assertEquals(2, run("grep", loader(), "--text", "x", "--hex", "00").exit());
        CliRun missing = run("grep", work.resolve("nosuch.mig").toString(), "--text", "x");
        assertEquals(2, missing.exit());
        assertEquals("qevm: " + work.resolve("nosuch.mig") + ": no such file\n", missing.err());
    }

    @Test
    void helpDocumentsTheOutput() {
        CliRun read = run("read", "--help");
        assertEquals(0, read.exit());
        assertTrue(read.outText().contains("hexdump -C"), read.outText());
        CliRun grep = run("grep", "--help");
        assertTrue(grep.outText().contains("GPA BLOCK OFFSET"), grep.outText());
        assertFalse(grep.outText().isEmpty());
    }
}
