package io.qevm;

import com.code_intelligence.jazzer.junit.FuzzTest;
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
            try (MigrationReader reader = MigrationReader.open(input, MigrationReaderErrorTest.options(
                    ReadLimits.DEFAULT, requireDescription))) {
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
            }
        }
    }

    /** Calls what a consumer would call on {@code event}: each must work. */
    private static void touch(MigrationReader r, MigrationEvent event) {
        switch (event) {
            case SECTION_START, SECTION_END, FOOTER -> {
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
                r.pageOffset();
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
                r.pageOffset();
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
