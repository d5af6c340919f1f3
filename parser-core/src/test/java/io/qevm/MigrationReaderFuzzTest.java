package io.qevm;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.qevm.cli.Main;
import io.qevm.exc.MigrationReadException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Jazzer fuzz targets. Run as a plain test ({@code mvn test}) each target only replays its seed
 * corpus: the files of {@code src/test/resources/io/qevm/MigrationReaderFuzzTestInputs/} (small
 * valid streams, made by {@code src/test/fuzz/make-seeds.py}) and of its per-target subfolder
 * (inputs Jazzer found, kept as regression tests). To fuzz one target for its maxDuration:
 * <pre>
 * JAZZER_FUZZ=1 mvn -pl parser-core test -Dtest='MigrationReaderFuzzTest#readerFailsCleanly'
 * </pre>
 * A finding is written to the target's subfolder as {@code crash-<sha1>} and stops the run;
 * {@code JAZZER_KEEP_GOING=40} goes on past findings with distinct stacks. The generated corpus
 * goes to {@code parser-core/.cifuzz-corpus/} (not to be committed). Jazzer 0.24.0 cannot
 * instrument Java 25 class files ("Unsupported class file major version 69"): it fuzzes blind; 0.30.0 does
 * not (see parser-core/pom.xml).
 */
final class MigrationReaderFuzzTest {

    /**
     * The reader, with and without requiring a description, drained to EOF with every accessor
     * valid on each event called: only a {@link MigrationReadException} may come out, with a
     * one-line message and offsets inside the input, and the events stay in proportion to it.
     */
    @FuzzTest(maxDuration = "2m")
    void readerFailsCleanly(byte[] input) {
        for (boolean requireDescription : new boolean[] {true, false}) {
            try (MigrationReader reader = MigrationReader.of(MigrationSource.of(input), ReadLimits.DEFAULT,
                    requireDescription)) {
                long bound = 4L * input.length + (16L << 20) * 2 + 10_000;
                long events = 0;
                for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                    touch(reader, e);
                    if (++events > bound) {
                        throw new AssertionError("no EOF after " + bound + " events at byte " + reader.position());
                    }
                }
            } catch (MigrationReadException e) {
                try {
                    CleanFailure.assertWellFormed(e, input.length);
                } catch (AssertionError badMessage) {
                    // the exception as cause: Jazzer tells findings apart by the causes' stacks
                    throw new AssertionError(badMessage.getMessage(), e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Calls what a consumer would call on {@code event}: each must work. */
    private static void touch(MigrationReader r, MigrationEvent event) {
        switch (event) {
            case SECTION_START, RECORD_END, FOOTER -> {
                r.recordType();
                r.sectionId();
                r.sectionName();
                r.instanceId();
                r.sectionVersion();
            }
            case CONFIGURATION -> {
                r.machineName();
                r.capabilities();
                r.targetPageBits();
            }
            case COMMAND -> {
                r.commandType();
                r.commandPayload().byteSize();
            }
            case RAM_BLOCK -> {
                r.blockName();
                r.blockLength();
                r.blockPageSize();
                r.blockMrAddr();
            }
            case RAM_PAGE -> {
                r.blockName();
                r.pageAddress();
                r.pageEncoding();
                long sum = 0;
                var page = r.page();
                for (long i = 0; i < page.byteSize(); i += 512) {
                    sum += page.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
                }
                if (r.pageSourceOffset() >= 0) {
                    r.bytesAt(r.pageSourceOffset(), r.pageSize());
                }
                if (sum == Long.MIN_VALUE) {
                    throw new AssertionError("unreachable");
                }
            }
            case ZERO_PAGE -> {
                r.blockName();
                r.pageAddress();
                r.fillByte();
            }
            case FIELD -> {
                r.fieldName();
                r.fieldType();
                r.fieldIndex();
                r.fieldBytes().byteSize();
                switch (r.fieldKind()) {
                    case SIGNED, UNSIGNED -> {
                        if (r.fieldBytes().byteSize() <= 8) {
                            r.fieldLongValue();
                        }
                        r.fieldBigIntegerValue();
                    }
                    case BOOL -> r.fieldBooleanValue();
                    case CAPABILITY -> r.fieldStringValue();
                    default -> {
                    }
                }
            }
            case STRUCT_START -> {
                r.fieldName();
                r.fieldKind();
                r.fieldIndex();
            }
            case SUBSECTION -> {
                r.subsectionName();
                r.subsectionVersion();
            }
            default -> {
            }
        }
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

    private static final java.util.regex.Pattern FRAME =
            java.util.regex.Pattern.compile("^\\s+at (?:[\\w.]+/)?([\\w.$]+)\\.([\\w$<>]+)\\(([^:)]*)(?::(\\d+))?\\)$");

    /**
     * The failure of {@code args} again with {@code --debug}, its stack trace parsed back into a
     * Throwable: the cause that lets Jazzer tell one CLI finding from another.
     */
    private static Throwable origin(Path root, String[] args) {
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        Path out = root.resolve("out");
        try {
            deleteTree(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Main.run(root, new PrintStream(new ByteArrayOutputStream()), new PrintStream(stderr, true,
                StandardCharsets.UTF_8), Stream.concat(Stream.of(args), Stream.of("--debug")).toArray(String[]::new));
        List<String> lines = stderr.toString(StandardCharsets.UTF_8).lines().toList();
        Throwable cause = new Throwable(lines.size() > 1 ? lines.get(1) : String.join(" ", lines));
        List<StackTraceElement> frames = new java.util.ArrayList<>();
        for (String line : lines) {
            java.util.regex.Matcher m = FRAME.matcher(line);
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
