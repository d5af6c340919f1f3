package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.qevm.Samples;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the CLI in-process over every real sample, with the checks of
 * {@code ../shared/tools/conformance} (which runs {@code ./qevm} as a process), once on the dump
 * as a file and once on a FIFO a thread writes the dump into (the CLI then reads it as a stream,
 * forward, once: the description comes last, XBZRLE deltas apply to pages it kept): for each
 * folder with an {@code expected/} subfolder under {@link Samples#root()},
 * <ul>
 *   <li>{@code -d desc}, {@code -d state} and {@code -d state -m} exit 0 and print exactly
 *       {@code expected/desc.json}, {@code state.json} and {@code state-m.json} (each possibly
 *       stored as {@code .xz}; a missing file means no check);</li>
 *   <li>{@code -x}, run in an empty directory, writes exactly the files that
 *       {@code expected/extract.sha256} lists ({@code sha256  size  path}), nothing more;</li>
 *   <li>where {@code expected/error} holds a regular expression, all four modes instead exit 1 or
 *       2 and print one line on stderr that matches it, and no stack trace.</li>
 * </ul>
 * A {@code .mig.xz} dump is unpacked once per run, sparsely ({@link Samples#dump}), as
 * conformance does with {@code cp --sparse=always}. {@link StdinPipeTest} runs the CLI as a
 * process reading its standard input.
 */
final class SampleConformanceTest {

    /** What conformance allows one run of ./qevm. */
    private static final Duration TIMEOUT = Duration.ofSeconds(300);

    /** The three printing modes and the expected file each must reproduce byte for byte. */
    private static final List<Output> OUTPUTS = List.of(
            new Output("desc.json", List.of("-d", "desc")),
            new Output("state.json", List.of("-d", "state")),
            new Output("state-m.json", List.of("-d", "state", "-m")));

    private static final List<List<String>> ERROR_MODES = List.of(
            List.of("-d", "desc"), List.of("-d", "state"), List.of("-d", "state", "-m"), List.of("-x"));

    /** Conformance's test for a Java or Python stack trace on stderr. */
    private static final Pattern STACK_TRACE =
            Pattern.compile("Exception in thread|^\\s+at [\\w.$]+\\(", Pattern.MULTILINE);

    /** How much of a differing line, or of stderr, a failure message shows. */
    private static final int CLIP = 240;

    @TempDir
    static Path scratch;

    private record Output(String file, List<String> mode) {
    }

    /** How the CLI gets the dump: its path, or a FIFO ({@code -f FIFO}) it is written into. */
    private enum Input {
        FILE, FIFO
    }

    record FileSum(String sha256, long size) {
    }

    @TestFactory
    Stream<DynamicTest> samples() throws IOException {
        Path root = Samples.root();
        List<Path> folders = sampleFolders(root);
        assertFalse(folders.isEmpty(), "no sample folders (with expected/) under " + root);
        return Stream.of(Input.values()).flatMap(input -> folders.stream().flatMap(folder -> checks(folder, input)));
    }

    /** The folder itself when it is one sample, else its subfolders that are samples, by name. */
    private static List<Path> sampleFolders(Path root) throws IOException {
        if (Files.isDirectory(root.resolve("expected"))) {
            return List.of(root);
        }
        try (Stream<Path> children = Files.list(root)) {
            return children.filter(f -> Files.isDirectory(f.resolve("expected"))).sorted().toList();
        }
    }

    private static Stream<DynamicTest> checks(Path folder, Input input) {
        String name = folder.getFileName().toString();
        Path expected = folder.resolve("expected");
        List<Path> dumps = dumps(folder);
        if (dumps.size() != 1) {
            return Stream.of(check(name, () -> fail("expected one dump file, found " + dumps)));
        }
        if (input == Input.FIFO && dumps.getFirst().getFileName().toString().contains(".qcow2")) {
            return Stream.empty(); // a qcow2 image needs random access, as conformance's pipe mode knows
        }
        List<String> args = args(folder);
        Path error = expected.resolve("error");
        if (Files.exists(error)) {
            return ERROR_MODES.stream().map(mode -> check(label(name, mode, input),
                    () -> checkError(input, Samples.dump(name), withArgs(args, mode), error)));
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (Output output : OUTPUTS) {
            Path want = expectedFile(expected, output.file());
            if (want != null) {
                tests.add(check(label(name, output.mode(), input),
                        () -> checkOutput(input, Samples.dump(name), withArgs(args, output.mode()), want)));
            }
        }
        Path listing = expected.resolve("extract.sha256");
        if (Files.exists(listing)) {
            tests.add(check(label(name, List.of("-x"), input),
                    () -> checkExtract(input, Samples.dump(name), withArgs(args, List.of("-x")), listing)));
        }
        return tests.stream();
    }

    /**
     * A test whose failure message starts with its name, since surefire's summary names only a
     * lambda; an exception (from the CLI or from reading the sample) fails it the same way.
     */
    private static DynamicTest check(String label, Executable body) {
        return dynamicTest(label, () -> {
            try {
                body.execute();
            } catch (AssertionError e) {
                AssertionError named = new AssertionError(label + ": " + e.getMessage());
                named.setStackTrace(e.getStackTrace());
                throw named;
            } catch (Exception e) {
                throw new AssertionError(label + ": " + e, e);
            }
        });
    }

    /** The dump: NAME.EXT whatever EXT is, as {@link Samples#dump} finds it. */
    private static List<Path> dumps(Path folder) {
        String prefix = folder.getFileName() + ".";
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().startsWith(prefix))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The folder's {@code args} file: more arguments, put after {@code -f DUMP} (as conformance puts them). */
    private static List<String> args(Path folder) {
        Path file = folder.resolve("args");
        try {
            return Files.exists(file) ? List.of(Files.readString(file).strip().split("\\s+")) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> withArgs(List<String> args, List<String> mode) {
        return Stream.concat(args.stream(), mode.stream()).toList();
    }

    /** NAME, or NAME.xz when only the compressed form exists; null when neither does. */
    private static Path expectedFile(Path expected, String name) {
        Path plain = expected.resolve(name);
        Path xz = expected.resolve(name + ".xz");
        return Files.exists(plain) ? plain : Files.exists(xz) ? xz : null;
    }

    private static String label(String sample, List<String> mode, Input input) {
        return sample + " " + String.join(" ", mode) + (input == Input.FIFO ? " (fifo)" : "");
    }

    // the checks

    private static void checkOutput(Input input, Path dump, List<String> mode, Path expectedFile) throws IOException {
        byte[] want = Samples.read(expectedFile);
        CliRun result = run(input, Files.createTempDirectory(scratch, "run-"), dump, mode);
        assertSucceeded(result);
        String difference = firstDifference(want, result.out());
        if (difference != null) {
            fail("output differs from " + expectedFile + "\n" + difference);
        }
    }

    private static void checkExtract(Input input, Path dump, List<String> mode, Path listingFile) throws IOException {
        Path work = Files.createTempDirectory(scratch, "x-");
        try {
            CliRun result = run(input, work, dump, mode);
            assertSucceeded(result);
            List<String> problems = compare(readListing(listingFile), listing(work));
            if (!problems.isEmpty()) {
                fail(String.join("; ", problems));
            }
        } finally {
            deleteTree(work); // RAM blocks are 64-256 MiB each: do not keep them until the end of the run
        }
    }

    private static void checkError(Input input, Path dump, List<String> mode, Path errorFile) throws IOException {
        String regex = Files.readString(errorFile).strip();
        CliRun result = run(input, Files.createTempDirectory(scratch, "error-"), dump, mode);
        String err = result.err();
        if (result.exit() != 1 && result.exit() != 2) {
            fail("exit code " + result.exit() + ", expected 1 or 2; stderr: " + clip(err));
        }
        if (STACK_TRACE.matcher(err).find()) {
            fail("stack trace on stderr:\n" + clip(err));
        }
        List<String> lines = err.lines().filter(line -> !line.isBlank()).toList();
        if (lines.size() != 1) {
            fail("expected one line on stderr, got " + lines.size() + ":\n" + clip(err));
        }
        if (!Pattern.compile(regex).matcher(lines.getFirst()).find()) {
            fail("error '" + lines.getFirst() + "' does not match " + regex);
        }
    }

    private static void assertSucceeded(CliRun result) {
        if (result.exit() != 0) {
            fail("exit " + result.exit() + ": " + clip(result.err()));
        }
    }

    // running the CLI

    private static CliRun run(Input input, Path workDir, Path dump, List<String> mode) throws IOException {
        return switch (input) {
            case FILE -> CliRun.inProcess(workDir, TIMEOUT,
                    Stream.concat(Stream.of("-f", dump.toString()), mode.stream()).toArray(String[]::new));
            case FIFO -> CliRun.throughFifo(workDir, Files.createTempDirectory(scratch, "fifo-").resolve("dump.fifo"),
                    dump, TIMEOUT, mode);
        };
    }

    // comparing output

    /**
     * Where {@code got} first differs from {@code want}: the line number, the line before it and
     * both versions of the line (clipped around the first differing byte), as a unified diff with
     * one line of context would start; null when the two are equal.
     */
    static String firstDifference(byte[] want, byte[] got) {
        int at = Arrays.mismatch(want, got);
        if (at < 0) {
            return null;
        }
        int start = lineStart(want, at); // the bytes before 'at' are the same in both
        long lineNumber = 1 + countNewlines(want, start);
        StringBuilder text = new StringBuilder("first difference at line " + lineNumber + ", byte " + at
                + " (expected " + want.length + " bytes, got " + got.length + "):\n");
        if (start > 0) {
            int previous = lineStart(want, start - 1);
            text.append(' ').append(clippedLine(want, previous, start - 1)).append('\n');
        }
        text.append('-').append(clippedLine(want, start, at)).append('\n');
        text.append('+').append(clippedLine(got, start, at));
        return text.toString();
    }

    private static int lineStart(byte[] bytes, int index) {
        int i = index;
        while (i > 0 && bytes[i - 1] != '\n') {
            i--;
        }
        return i;
    }

    private static long countNewlines(byte[] bytes, int end) {
        long count = 0;
        for (int i = 0; i < end; i++) {
            if (bytes[i] == '\n') {
                count++;
            }
        }
        return count;
    }

    /** The line that starts at {@code start}, at most CLIP bytes of it around {@code focus}. */
    private static String clippedLine(byte[] bytes, int start, int focus) {
        if (start >= bytes.length) {
            return "(end of output)";
        }
        int end = start;
        while (end < bytes.length && bytes[end] != '\n') {
            end++;
        }
        int from = Math.max(start, Math.min(focus, end) - CLIP / 3);
        int to = Math.min(end, from + CLIP);
        return (from > start ? "..." : "") + new String(bytes, from, to - from, UTF_8) + (to < end ? "..." : "")
                + (end == bytes.length ? " (no newline at end)" : "");
    }

    private static String clip(String text) {
        return text.length() <= 3 * CLIP ? text : text.substring(0, 3 * CLIP) + "...";
    }

    // comparing extracted files

    /** expected/extract.sha256: one {@code sha256  size  path} line per file. */
    static Map<String, FileSum> readListing(Path file) throws IOException {
        Map<String, FileSum> files = new TreeMap<>();
        for (String line : Files.readAllLines(file, UTF_8)) {
            if (!line.isEmpty()) {
                String[] parts = line.split("  ", 3);
                files.put(parts[2], new FileSum(parts[0], Long.parseLong(parts[1])));
            }
        }
        return files;
    }

    /** Every file under {@code root}, by relative path. */
    static Map<String, FileSum> listing(Path root) throws IOException {
        Map<String, FileSum> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(path).toString(), new FileSum(sha256(path), Files.size(path)));
            }
        }
        return files;
    }

    static List<String> compare(Map<String, FileSum> want, Map<String, FileSum> got) {
        List<String> problems = new ArrayList<>();
        TreeSet<String> paths = new TreeSet<>(want.keySet());
        paths.addAll(got.keySet());
        for (String path : paths) {
            FileSum expected = want.get(path);
            FileSum actual = got.get(path);
            if (actual == null) {
                problems.add("missing " + path);
            } else if (expected == null) {
                problems.add("unexpected " + path);
            } else if (!actual.equals(expected)) {
                problems.add(path + " differs (size " + actual.size() + ", expected " + expected.size() + ")");
            }
        }
        return problems;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
