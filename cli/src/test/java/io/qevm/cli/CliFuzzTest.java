package io.qevm.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.qevm.QuietJazzer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;

/**
 * The CLI's Jazzer fuzz target (the reader's are parser-core's MigrationReaderFuzzTest). Run as
 * a plain test ({@code mvn test}) it only replays its corpus: the files of
 * {@code src/test/resources/io/qevm/cli/CliFuzzTestInputs/} (small valid streams: copies of
 * parser-core's seeds, which {@code parser-core/src/test/fuzz/make-seeds.py} makes) and of its
 * {@code cliFailsCleanly/} subfolder (inputs Jazzer found, kept as regression tests). To fuzz it
 * for its maxDuration:
 * <pre>
 * JAZZER_FUZZ=1 mvn -pl cli -am test -Dtest='CliFuzzTest#cliFailsCleanly' -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * A finding is written to the subfolder as {@code crash-<sha1>} and stops the run.
 */
final class CliFuzzTest {

    @BeforeAll
    static void quiet() {
        QuietJazzer.install();
    }

    private static final List<List<String>> MODES = List.of(
            List.of("-x", "-o", "out"), List.of("-d", "state", "-m"), List.of("-d", "desc"),
            List.of("-x", "--ram-only", "-o", "out"));

    /**
     * The CLI in every mode over the input as a file in a fresh directory: exit 0, or 1 with one
     * line on stderr that is not an internal error (the catch-all for a bug); -x writes only under
     * its output directory, and after a failure leaves no file there.
     */
    @FuzzTest(maxDuration = "2m")
    void cliFailsCleanly(byte[] input) throws IOException {
        Path root = Files.createTempDirectory("qevm-fuzz");
        try {
            Files.write(root.resolve("dump.mig"), input);
            for (List<String> mode : MODES) {
                String[] args = Stream.concat(Stream.of("-f", "dump.mig"), mode.stream()).toArray(String[]::new);
                ByteArrayOutputStream stdout = new ByteArrayOutputStream();
                ByteArrayOutputStream stderr = new ByteArrayOutputStream();
                int code = Main.run(root, new PrintStream(stdout, true, StandardCharsets.UTF_8),
                        new PrintStream(stderr, true, StandardCharsets.UTF_8), args);
                String err = stderr.toString(StandardCharsets.UTF_8);
                String what = "qevm " + String.join(" ", args) + ": exit " + code + ", stderr: " + err;
                if (code != 0 && code != 1) {
                    throw new AssertionError(what);
                }
                long lines = err.lines().count();
                // the names quoted in messages come from the input: look where Main puts its words
                boolean bug = err.startsWith("qevm: dump.mig: internal error: ")
                        || err.startsWith("qevm: dump.mig: out of memory");
                if (code == 1 && lines != 1 || code == 0 && lines > 1 || bug) {
                    throw new AssertionError(what, origin(root, args));
                }
                try (Stream<Path> top = Files.list(root)) {
                    Set<String> names = Set.copyOf(top.map(p -> p.getFileName().toString()).toList());
                    if (!Set.of("dump.mig", "out").containsAll(names)) {
                        throw new AssertionError(what + "; written outside the output directory: " + names);
                    }
                }
                Path out = root.resolve("out");
                if (Files.exists(out)) {
                    if (code != 0) {
                        try (Stream<Path> left = Files.walk(out)) {
                            List<Path> files = left.filter(p -> !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                                    .toList();
                            if (!files.isEmpty()) {
                                throw new AssertionError(what + "; left behind: " + files);
                            }
                        }
                    }
                    deleteTree(out);
                }
            }
        } finally {
            deleteTree(root);
        }
    }

    private static final Pattern FRAME =
            Pattern.compile("^\\s+at (?:[\\w.]+/)?([\\w.$]+)\\.([\\w$<>]+)\\(([^:)]*)(?::(\\d+))?\\)$");

    /**
     * The failure of {@code args} again with {@code --debug}, its stack trace parsed back into a
     * Throwable: the cause that lets Jazzer tell one CLI finding from another.
     */
    private static Throwable origin(Path root, String[] args) {
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        try {
            deleteTree(root.resolve("out"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Main.run(root, new PrintStream(new ByteArrayOutputStream()), new PrintStream(stderr, true,
                StandardCharsets.UTF_8), Stream.concat(Stream.of(args), Stream.of("--debug")).toArray(String[]::new));
        List<String> lines = stderr.toString(StandardCharsets.UTF_8).lines().toList();
        Throwable cause = new Throwable(lines.size() > 1 ? lines.get(1) : String.join(" ", lines));
        List<StackTraceElement> frames = new ArrayList<>();
        for (String line : lines) {
            Matcher m = FRAME.matcher(line);
            if (m.matches()) {
                frames.add(new StackTraceElement(m.group(1), m.group(2), m.group(3),
                        m.group(4) == null ? -1 : Integer.parseInt(m.group(4))));
            }
        }
        cause.setStackTrace(frames.toArray(StackTraceElement[]::new));
        return cause;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
