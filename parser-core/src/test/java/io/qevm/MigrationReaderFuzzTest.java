package io.qevm;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.qevm.exc.MigrationReadException;
import org.junit.jupiter.api.BeforeAll;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

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

    @BeforeAll
    static void quiet() {
        QuietJazzer.install();
    }

    /**
     * The reader over a heap array and over a stream ({@link SourceKind#STREAM}: handed out a
     * few bytes at a time), with and without requiring a description, drained to EOF with every
     * accessor valid on each event called: only a {@link MigrationReadException} may come out,
     * with a one-line message and offsets inside the input, and the events stay in proportion to
     * it. XBZRLE pages read from a stream need the earlier copies: a {@link BoundedPages} store
     * lends them.
     */
    @FuzzTest(maxDuration = "2m")
    void readerFailsCleanly(byte[] input) {
        for (SourceKind kind : new SourceKind[] {SourceKind.HEAP, SourceKind.STREAM}) {
            for (boolean requireDescription : new boolean[] {true, false}) {
                readCleanly(kind, input, requireDescription);
            }
        }
    }

    private static void readCleanly(SourceKind kind, byte[] input, boolean requireDescription) {
        try (MigrationReader reader = kind.open(input, MigrationReaderErrorTest.options(ReadLimits.DEFAULT,
                requireDescription))) {
            BoundedPages kept = null;
            if (!reader.isRandomAccess()) {
                kept = new BoundedPages();
                reader.setPageStore(kept);
            }
            long bound = 4L * input.length + (16L << 20) * 2 + 10_000;
            long events = 0;
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                touch(reader, e);
                if (kept != null && e == MigrationEvent.RAM_PAGE) {
                    kept.keep(reader);
                }
                if (++events > bound) {
                    throw new AssertionError(kind + ": no EOF after " + bound + " events at byte " + reader.position());
                }
            }
        } catch (MigrationReadException e) {
            try {
                CleanFailure.assertWellFormed(e, input.length);
            } catch (AssertionError badMessage) {
                // the exception as cause: Jazzer tells findings apart by the causes' stacks
                throw new AssertionError(kind + ": " + badMessage.getMessage(), e);
            }
        }
    }

    /**
     * The pages of a stream, kept for XBZRLE up to {@link #BUDGET} bytes (a page of 1 MiB can
     * take a few bytes of input: keeping every one would exhaust the heap, not test the reader);
     * a page it does not have reads as zeros. The decoded pages are not checked here, only that
     * reading them fails cleanly.
     */
    private static final class BoundedPages implements PageStore {

        private static final long BUDGET = 64L << 20;
        private final Map<String, byte[]> pages = new HashMap<>();
        private long kept;

        void keep(MigrationReader reader) {
            String key = reader.blockName() + "@" + reader.pageOffset();
            byte[] page = pages.get(key);
            if (page == null || page.length != reader.pageSize()) {
                if (kept + reader.pageSize() > BUDGET) {
                    return;
                }
                page = new byte[reader.pageSize()];
                kept += page.length;
                pages.put(key, page);
            }
            reader.copyPage(page, 0);
        }

        @Override
        public void readPage(String block, long offset, MemorySegment into) {
            byte[] page = pages.get(block + "@" + offset);
            if (page == null || page.length != into.byteSize()) {
                into.fill((byte) 0);
            } else {
                into.copyFrom(MemorySegment.ofArray(page));
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
                if (r.pageSourceOffset() >= 0 && r.isRandomAccess()) {
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
}
