package io.qevm.consume;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.MigrationReader;
import io.qevm.SourceKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -d state -m}: the "memory" object of the RAM section has one key
 * {@code "<block> (0x%016x)"} per page, in the order pages were first seen, each with the value
 * of the page's last copy, whatever the encodings of the copies before it.
 *
 * <p>The expected outputs were produced once by running
 * {@code python3 ../shared/reference/analyze-migration-fixed.py -f FILE -d state -m} on the very
 * bytes these tests build (written to a file); the reference prints a page as its bytes in hex,
 * which {@link #hex} rebuilds, so the text below spells the page contents by name. Its sha256 is
 * kept as well, to tie the text to what the script printed.
 */
final class MemoryDumpTest {

    private static final int PAGE = 4096;

    @TempDir
    Path scratch;

    /**
     * Pages of pc.ram sent as: 0 data then zero; 1 zero then data; 2 data twice; 3 data then an
     * XBZRLE delta; 4 a delta (on zeros) then zero; 5 zlib then two deltas; and a page of a
     * second block between them and at the end, over START, PART and END records.
     */
    static byte[] mixedStream() {
        return RamStreams.start(PAGE, "pc.ram", 6L * PAGE, "/rom@etc/t", 2L * PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x11))
                .zero(PAGE, null, 0)
                .page(2L * PAGE, null, RamStreams.filled(PAGE, 0x33))
                .page(PAGE, "/rom@etc/t", RamStreams.filled(PAGE, 0x99))
                .page(3L * PAGE, "pc.ram", RamStreams.filled(PAGE, 0x03))
                .xbzrle(4L * PAGE, null, new byte[] {0, 4, 'a', 'b', 'c', 'd'})
                .compressed(5L * PAGE, null, RamStreams.filled(PAGE, 0x05))
                .endRecord()
                .part()
                .zero(0, "pc.ram", 0)
                .page(PAGE, null, RamStreams.filled(PAGE, 0x22))
                .page(2L * PAGE, null, RamStreams.filled(PAGE, 0x44))
                .xbzrle(3L * PAGE, null, new byte[] {10, 2, (byte) 0xde, (byte) 0xad})
                .zero(4L * PAGE, null, 0)
                .xbzrle(5L * PAGE, null, new byte[] {0, 1, 0x50})
                .endRecord()
                .end()
                .xbzrle(5L * PAGE, "pc.ram", new byte[] {0x7f, 1, 0x51})
                .zero(0, "/rom@etc/t", 0)
                .endRecord()
                .finish()
                .toByteArray();
    }

    @Test
    void lastCopyWinsInFirstSeenOrder() throws IOException {
        byte[] page3 = RamStreams.filled(PAGE, 0x03);
        page3[10] = (byte) 0xde;
        page3[11] = (byte) 0xad;
        byte[] page5 = RamStreams.filled(PAGE, 0x05);
        page5[0] = 0x50;
        page5[127] = 0x51;
        String expected = """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000006000",
                            "/rom@etc/t": "0x0000000000002000"
                        },
                        "memory": {
                            "pc.ram (0x0000000000000000)": "Filled with 0x00",
                            "pc.ram (0x0000000000001000)": "HEX_22",
                            "pc.ram (0x0000000000002000)": "HEX_44",
                            "/rom@etc/t (0x0000000000001000)": "HEX_99",
                            "pc.ram (0x0000000000003000)": "HEX_3",
                            "pc.ram (0x0000000000004000)": "Filled with 0x00",
                            "pc.ram (0x0000000000005000)": "HEX_5",
                            "/rom@etc/t (0x0000000000000000)": "Filled with 0x00"
                        }
                    }
                }
                """
                .replace("HEX_22", hex(RamStreams.filled(PAGE, 0x22)))
                .replace("HEX_44", hex(RamStreams.filled(PAGE, 0x44)))
                .replace("HEX_99", hex(RamStreams.filled(PAGE, 0x99)))
                .replace("HEX_3", hex(page3))
                .replace("HEX_5", hex(page5));
        String output = stateM(mixedStream());
        assertEquals(expected, output);
        assertEquals("01d5af046d42ba198b10039222ef110cff4bf31091aa92f0cbbae5b1a2358f97", sha256(output),
                "the sha256 of what analyze-migration-fixed.py printed");
    }

    /**
     * The reference reads the fill byte as a signed 8-bit value and prints it with
     * {@code 'Filled with 0x%02x'}: 0x7f prints as {@code 0x7f}, 0xff as {@code 0x-1}, 0x80 as
     * {@code 0x-80}. Fill bytes other than 0 are never seen in practice; the output is the
     * reference's all the same.
     */
    @Test
    void fillBytesPrintAsTheReferencePrintsThem() throws IOException {
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 4L * PAGE)
                .zero(0, "pc.ram", 0x7f)
                .zero(PAGE, null, 0xff)
                .zero(2L * PAGE, null, 0x80)
                .page(3L * PAGE, null, RamStreams.filled(PAGE, 1))
                .zero(3L * PAGE, null, 0x01)
                .endRecord()
                .finish()
                .toByteArray();
        String expected = """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000004000"
                        },
                        "memory": {
                            "pc.ram (0x0000000000000000)": "Filled with 0x7f",
                            "pc.ram (0x0000000000001000)": "Filled with 0x-1",
                            "pc.ram (0x0000000000002000)": "Filled with 0x-80",
                            "pc.ram (0x0000000000003000)": "Filled with 0x01"
                        }
                    }
                }
                """;
        assertEquals(expected, stateM(stream));
    }

    /** Without -m, the same stream prints the section sizes alone. */
    @Test
    void withoutMemoryOnlySizes() throws IOException {
        String expected = """
                {
                    "ram (2)": {
                        "section sizes": {
                            "pc.ram": "0x0000000000006000",
                            "/rom@etc/t": "0x0000000000002000"
                        }
                    }
                }
                """;
        assertEquals(expected, run(mixedStream(), "-d", "state"));
    }

    // ================================================================== the spool

    /**
     * The pages {@code -m} must keep and cannot read again (every page of a stream; decoded zlib
     * and XBZRLE pages of any source) go to a spool file unlinked as soon as it is open: while
     * the writer is open, its descriptor points at a deleted file in {@code java.io.tmpdir} and
     * the folder lists nothing; after {@code close()} the descriptor is gone as well. The check
     * runs in a JVM of its own ({@link SpoolRun}), whose {@code java.io.tmpdir} is an empty
     * folder of this test, so no other test's (or process's) temporary files get in the way;
     * the output it prints must be the one the spool's pages make.
     */
    @Test
    void spoolIsUnlinkedBeforeCloseAndGoneAfter() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc/self/fd (Linux)");
        Path tmp = Files.createDirectory(scratch.resolve("tmp"));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), SpoolRun.class.getName())
                .redirectErrorStream(true).start();
        String printed = new String(child.getInputStream().readAllBytes(), UTF_8);
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child JVM ended");
        assertEquals(0, child.exitValue(), printed);
        Map<String, String> report = new TreeMap<>();
        printed.lines().filter(line -> line.contains("=")).forEach(line ->
                report.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1)));
        String expected = sha256(stateM(mixedStream()));
        for (String kind : List.of("STREAM", "HEAP")) {
            assertEquals(expected, report.get(kind + ".sha256"), kind + ": the output the spooled pages make; " + printed);
            assertEquals("", report.get(kind + ".open.listed"), kind + ": files in java.io.tmpdir while open");
            String open = report.get(kind + ".open.descriptors");
            assertTrue(open.matches("qevm-spool-[^,]*\\.tmp \\(deleted\\)"),
                    kind + ": one spool file, open but deleted, while the writer is open: " + open);
            assertEquals("", report.get(kind + ".closed.listed"), kind + ": files in java.io.tmpdir after close()");
            assertEquals("", report.get(kind + ".closed.descriptors"), kind + ": files open in java.io.tmpdir after close()");
        }
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "java.io.tmpdir once the child ended");
        }
    }

    /**
     * A RAM section started a second time under the same id replaces its "memory" object (as the
     * reference replaces the section's state): the spool of the replaced one must be closed then,
     * or its descriptor (and the deleted file's space) stays until the process ends.
     */
    @Test
    void aRestartedRamSectionLeavesNoSpoolOpen() throws IOException {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs /proc/self/fd (Linux)");
        byte[] stream = RamStreams.start(PAGE, "pc.ram", 2L * PAGE)
                .page(0, "pc.ram", RamStreams.filled(PAGE, 0x61))
                .endRecord()
                .restart("pc.ram", 2L * PAGE)
                .page(PAGE, "pc.ram", RamStreams.filled(PAGE, 0x62))
                .endRecord()
                .finish().toByteArray();
        List<String> before = openSpools();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MigrationReader reader = SourceKind.STREAM.open(stream); StateWriter state = new StateWriter(true)) {
            reader.setPageStore(state.pageStore());
            MigrationConsumer.drive(reader, state);
            state.writeTo(out, true);
            assertEquals(1, openSpools().size() - before.size(),
                    "while open, the spool of the section's current memory object only");
        }
        assertEquals(before, openSpools(), "spool files still open after close()");
        assertTrue(out.toString(UTF_8).contains("\"memory\": {\n            \"pc.ram (0x0000000000001000)\": \"62 62"),
                "the second start's pages only: " + out.toString(UTF_8).substring(0, 200));
    }

    /** The deleted spool files this process holds open, as /proc/self/fd names them. */
    private static List<String> openSpools() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException e) {
                    return ""; // the descriptor Files.list itself used, closed meanwhile
                }
            }).filter(target -> target.contains("/qevm-spool-") && target.endsWith(" (deleted)")).sorted().toList();
        }
    }

    /**
     * The child of {@link #spoolIsUnlinkedBeforeCloseAndGoneAfter}: {@code -d state -m} of
     * {@link #mixedStream()} from a stream (every page spooled) and from a heap array (the
     * zlib and XBZRLE pages spooled), printing {@code KIND.key=value} lines: the files in
     * {@code java.io.tmpdir} and the descriptors open into it (the names, as /proc/self/fd
     * shows them), once before and once after {@code close()}, and the sha256 of the output.
     */
    static final class SpoolRun {
        public static void main(String[] args) throws IOException {
            Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
            for (SourceKind kind : List.of(SourceKind.STREAM, SourceKind.HEAP)) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                StateWriter state = new StateWriter(true);
                try (MigrationReader reader = kind.open(mixedStream())) {
                    if (!reader.isRandomAccess()) {
                        reader.setPageStore(state.pageStore());
                    }
                    MigrationConsumer.drive(reader, state);
                    state.writeTo(out, true);
                    System.out.println(kind + ".open.listed=" + listed(tmp));
                    System.out.println(kind + ".open.descriptors=" + descriptors(tmp));
                } finally {
                    state.close();
                }
                System.out.println(kind + ".closed.listed=" + listed(tmp));
                System.out.println(kind + ".closed.descriptors=" + descriptors(tmp));
                System.out.println(kind + ".sha256=" + sha256(out.toString(UTF_8)));
            }
        }

        private static String listed(Path folder) throws IOException {
            try (Stream<Path> files = Files.list(folder)) {
                return files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.joining(","));
            }
        }

        /** What the process's open descriptors point at inside {@code folder}, relative to it. */
        private static String descriptors(Path folder) throws IOException {
            String prefix = folder + "/";
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                return fds.map(fd -> {
                    try {
                        return Files.readSymbolicLink(fd).toString();
                    } catch (IOException e) {
                        return ""; // the descriptor Files.list itself used, closed meanwhile
                    }
                }).filter(target -> target.startsWith(prefix)).map(target -> target.substring(prefix.length()))
                        .sorted().collect(Collectors.joining(","));
            }
        }
    }

    private String stateM(byte[] stream) throws IOException {
        return run(stream, "-d", "state", "-m");
    }

    /**
     * What {@code -d state} (with {@code -m} when asked) prints for {@code stream}, the same from
     * every kind of source: on a stream, pages go to a spool file and XBZRLE deltas apply to it.
     */
    private String run(byte[] stream, String... mode) throws IOException {
        boolean memory = java.util.Arrays.asList(mode).contains("-m");
        String first = null;
        for (SourceKind kind : SourceKind.values()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (MigrationReader reader = kind.open(stream); StateWriter state = new StateWriter(memory)) {
                if (memory && !reader.isRandomAccess()) {
                    reader.setPageStore(state.pageStore());
                }
                MigrationConsumer.drive(reader, state);
                state.writeTo(out, true);
            }
            String text = out.toString(UTF_8);
            if (first == null) {
                first = text;
            } else {
                assertEquals(first, text, "from a " + kind + " source");
            }
        }
        return first;
    }

    /** A page as the reference prints it: {@code " ".join("{0:02x}".format(c) for c in data)}. */
    static String hex(byte[] page) {
        StringJoiner text = new StringJoiner(" ");
        for (byte b : page) {
            text.add(String.format("%02x", b & 0xff));
        }
        return text.toString();
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
