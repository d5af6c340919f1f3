package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.HostileStreams;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code qevm -x} over streams whose RAM block names are hostile, in a scratch tree:
 * <pre>
 *   work/dump.mig      the stream
 *   work/out/          the output directory (-o), holding one file from "an earlier run"
 *   work/elsewhere/    outside it: symbolic links in out/ point here
 * </pre>
 * A refused extraction must exit 1 with one line on stderr, change nothing outside out/, and leave
 * out/ as it found it: no file under a final name, no .partial, no new directory. A legitimate
 * one puts names with {@code /} in subdirectories and replaces a symbolic link at a final name
 * instead of writing through it.
 */
final class ExtractSafetyTest {

    private static final String EARLIER = "earlier-run.bin";
    /** Where a name that climbs far enough would land if it were not refused. */
    private static final Path CANARY = Path.of("/tmp/qevm-extract-escape-canary");

    @TempDir
    Path work;
    private Path out;
    private Path elsewhere;

    @BeforeEach
    void scratchTree() throws IOException {
        out = Files.createDirectory(work.resolve("out"));
        elsewhere = Files.createDirectory(work.resolve("elsewhere"));
        Files.writeString(out.resolve(EARLIER), "kept");
        Files.writeString(elsewhere.resolve("target"), "outside");
        Files.deleteIfExists(CANARY);
    }

    record Run(int code, String stdout, String stderr) {
    }

    private Run extract(byte[] dump) throws IOException {
        Path file = work.resolve("dump.mig");
        Files.write(file, dump);
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        int code = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> Main.run(work,
                new PrintStream(stdout, true, UTF_8), new PrintStream(stderr, true, UTF_8),
                "-f", file.toString(), "-x", "-o", out.toString()));
        return new Run(code, stdout.toString(UTF_8), stderr.toString(UTF_8));
    }

    /** Every path under {@code root} (links not followed) with its kind, size and digest. */
    private static Map<String, String> snapshot(Path root) {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            paths.forEach(path -> entries.put(root.relativize(path).toString(), describe(path)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return entries;
    }

    private static String describe(Path path) {
        try {
            if (Files.isSymbolicLink(path)) {
                return "link -> " + Files.readSymbolicLink(path);
            }
            if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                return "dir";
            }
            byte[] bytes = Files.readAllBytes(path);
            return "file " + bytes.length + " " + HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * The paths of {@code after} that are new or changed since {@code before}, with what they are;
     * the dump itself, written by {@link #extract}, aside.
     */
    private static List<String> changes(Map<String, String> before, Map<String, String> after) {
        List<String> changed = new ArrayList<>();
        after.forEach((path, what) -> {
            if (path.equals("dump.mig")) {
                return;
            }
            if (!what.equals(before.get(path))) {
                changed.add(path + " (" + what + ")");
            }
        });
        before.keySet().stream().filter(path -> !after.containsKey(path) && !path.equals("dump.mig"))
                .forEach(path -> changed.add(path + " (gone)"));
        return changed;
    }

    static void assertOneLineError(Run run) {
        String err = run.stderr();
        assertTrue(err.endsWith("\n") && err.indexOf('\n') == err.length() - 1,
                () -> "expected one line on stderr, got:\n" + err);
        assertTrue(err.startsWith("qevm: "), () -> "stderr: " + err);
        assertFalse(err.contains("internal error"), () -> "an internal error (a bug, not a refusal): " + err);
        assertFalse(err.contains("\tat ") || err.contains("Exception in thread"), () -> "a stack trace: " + err);
    }

    // ================================================================== refused names

    static Stream<Arguments> refusedNames() {
        return Stream.of(
                Arguments.of("climbs one level", new String[] {"pc.ram", "../x"}),
                Arguments.of("climbs through a directory", new String[] {"pc.ram", "a/../../x"}),
                Arguments.of("absolute, then climbs", new String[] {"pc.ram", "/../x"}),
                Arguments.of("climbs to /tmp", new String[] {"pc.ram",
                    "../../../../../../../../../../../../../../../tmp/qevm-extract-escape-canary"}),
                Arguments.of("climbs first", new String[] {"../x", "pc.ram"}),
                Arguments.of("is ..", new String[] {"pc.ram", ".."}),
                Arguments.of("is .", new String[] {"pc.ram", "."}),
                Arguments.of("is empty", new String[] {"pc.ram", ""}),
                Arguments.of("holds a NUL", new String[] {"pc.ram", "a\0b"}),
                Arguments.of("is /", new String[] {"pc.ram", "/"}),
                Arguments.of("is a directory", new String[] {"pc.ram", "dir/"}),
                Arguments.of("is desc.json", new String[] {"pc.ram", "desc.json"}),
                Arguments.of("is /desc.json", new String[] {"pc.ram", "/desc.json"}),
                Arguments.of("is state.json", new String[] {"pc.ram", "state.json"}),
                Arguments.of("two names for one file", new String[] {"/a", "a"}),
                Arguments.of("two names for one file, normalised", new String[] {"a/b", "a//./b"}),
                Arguments.of("two names for one file, with a newline", new String[] {"x\ny", "/x\ny"}),
                Arguments.of("a file, then a directory of that name", new String[] {"a", "a/b"}),
                Arguments.of("a directory, then a file of that name", new String[] {"a/b", "a"}));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("refusedNames")
    void refusedNamesLeaveNothingBehind(String label, String[] names) throws IOException {
        Map<String, String> before = snapshot(work);
        Run run = extract(HostileStreams.ramBlocks(names));
        Map<String, String> after = snapshot(work);
        List<String> changed = changes(before, after);
        assertAll(
                () -> assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr()),
                () -> assertOneLineError(run),
                () -> assertEquals(List.of(), changed.stream().filter(p -> !p.startsWith("out/")).toList(),
                        "changed outside the output directory"),
                () -> assertEquals(List.of(), changed.stream().filter(p -> p.startsWith("out/")
                        && !p.endsWith("(dir)")).toList(), "files left in the output directory"),
                () -> assertFalse(Files.exists(CANARY, LinkOption.NOFOLLOW_LINKS), "wrote " + CANARY),
                () -> assertEquals(List.of(), changed.stream().filter(p -> p.startsWith("out/")).toList(),
                        "directories left in the output directory"));
    }

    @Test
    void symbolicLinkToADirectoryOutsideIsNotFollowed() throws IOException {
        Files.createSymbolicLink(out.resolve("link"), elsewhere);
        Map<String, String> before = snapshot(work);
        Run run = extract(HostileStreams.ramBlocks("pc.ram", "link/x"));
        assertAll(
                () -> assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr()),
                () -> assertOneLineError(run),
                () -> assertTrue(run.stderr().contains("link"), run.stderr()),
                () -> assertEquals(List.of(), changes(before, snapshot(work))));
    }

    @Test
    void symbolicLinkInTheMiddleOfANameIsNotFollowed() throws IOException {
        Files.createDirectory(out.resolve("rom@etc"));
        Files.createSymbolicLink(out.resolve("rom@etc/acpi"), elsewhere);
        Map<String, String> before = snapshot(work);
        Run run = extract(HostileStreams.ramBlocks("pc.ram", "/rom@etc/acpi/tables"));
        assertAll(
                () -> assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr()),
                () -> assertOneLineError(run),
                () -> assertEquals(List.of(), changes(before, snapshot(work))));
    }

    // ================================================================== accepted names

    @Test
    void namesWithSlashesLandInSubdirectories() throws IOException {
        String[] names = {"pc.ram", "/rom@etc/acpi/tables", "0000:00:01.0/vga.rom", "/rom@etc/table-loader",
            "a/./b", "c//d"};
        Map<String, String> before = snapshot(elsewhere);
        Run run = extract(HostileStreams.ramBlocks(names));
        assertEquals(0, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertEquals("", run.stderr());
        List<String> listed = new ArrayList<>(List.of("desc.json"));
        listed.addAll(List.of(names));
        listed.add("state.json");
        assertEquals(listed, run.stdout().lines().toList());
        String[] files = {"pc.ram", "rom@etc/acpi/tables", "0000:00:01.0/vga.rom", "rom@etc/table-loader", "a/b",
            "c/d"};
        for (int i = 0; i < files.length; i++) {
            Path file = out.resolve(files[i]);
            assertTrue(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS), files[i]);
            assertArrayEquals(HostileStreams.pageOf(i), Files.readAllBytes(file), files[i]);
        }
        assertTrue(Files.isDirectory(out.resolve("rom@etc/acpi"), LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isRegularFile(out.resolve("desc.json")));
        assertTrue(Files.isRegularFile(out.resolve("state.json")));
        assertEquals("kept", Files.readString(out.resolve(EARLIER)));
        try (Stream<Path> all = Files.walk(out)) {
            assertEquals(List.of(), all.filter(p -> p.toString().endsWith(".partial")).toList());
        }
        assertEquals(before, snapshot(elsewhere));
    }

    /**
     * A block named like another block's partial file: each must still end up in its own file with
     * its own page, whichever comes first.
     */
    @ParameterizedTest
    @MethodSource("partialNames")
    void blockNamedLikeAPartialFile(String[] names) throws IOException {
        Run run = extract(HostileStreams.ramBlocks(names));
        if (run.code() != 0) {
            assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr());
            assertOneLineError(run);
            return;
        }
        for (int i = 0; i < names.length; i++) {
            Path file = out.resolve(names[i]);
            assertTrue(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS), names[i] + " missing");
            assertArrayEquals(HostileStreams.pageOf(i), Files.readAllBytes(file), names[i] + " holds another page");
        }
    }

    static Stream<Arguments> partialNames() {
        return Stream.of(
                Arguments.of((Object) new String[] {"x.partial", "x"}),
                Arguments.of((Object) new String[] {"x", "x.partial"}),
                Arguments.of((Object) new String[] {"desc.json.partial", "pc.ram"}));
    }

    @Test
    void symbolicLinkAtAFinalNameIsReplacedNotWrittenThrough() throws IOException {
        Files.createSymbolicLink(out.resolve("pc.ram"), elsewhere.resolve("target"));
        Run run = extract(HostileStreams.ramBlocks("pc.ram"));
        assertEquals(0, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertFalse(Files.isSymbolicLink(out.resolve("pc.ram")));
        assertArrayEquals(HostileStreams.pageOf(0), Files.readAllBytes(out.resolve("pc.ram")));
        assertEquals("outside", Files.readString(elsewhere.resolve("target")));
    }

    @Test
    void symbolicLinkAtAPartialNameIsNotWrittenThrough() throws IOException {
        Files.createSymbolicLink(out.resolve("pc.ram.partial"), elsewhere.resolve("target"));
        Run run = extract(HostileStreams.ramBlocks("pc.ram"));
        assertEquals(0, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertArrayEquals(HostileStreams.pageOf(0), Files.readAllBytes(out.resolve("pc.ram")));
        assertEquals("outside", Files.readString(elsewhere.resolve("target")));
    }

    // ================================================================== failures after files were opened

    @Test
    void truncatedStreamLeavesNothingBehind() throws IOException {
        Map<String, String> before = snapshot(work);
        Run run = extract(HostileStreams.truncatedInRam());
        assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertOneLineError(run);
        assertEquals(List.of(), changes(before, snapshot(work)));
    }

    @Test
    void blockTooLargeForTheFileSystemLeavesNothingBehind() throws IOException {
        Map<String, String> before = snapshot(work);
        Run run = extract(HostileStreams.oneBlock(1L << 62, 0));
        assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertOneLineError(run);
        assertTrue(run.stderr().contains("pc.ram"), run.stderr());
        assertEquals(List.of(), changes(before, snapshot(work)));
    }

    @Test
    void nameTooLongForTheFileSystemFailsCleanly() throws IOException {
        Map<String, String> before = snapshot(work);
        Run run = extract(HostileStreams.ramBlocks("pc.ram", "n".repeat(255)));
        // 255 bytes is a legal file name, 255 + ".partial" is not: either way, nothing half-done
        if (run.code() == 0) {
            assertTrue(Files.isRegularFile(out.resolve("n".repeat(255))));
        } else {
            assertEquals(1, run.code(), () -> "exit code; stderr: " + run.stderr());
            assertOneLineError(run);
            assertEquals(List.of(), changes(before, snapshot(work)));
        }
    }
}
