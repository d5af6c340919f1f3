package io.qevm;

import static io.qevm.CleanFailure.assertWellFormed;
import static io.qevm.CleanFailure.cutWithTrailer;
import static io.qevm.CleanFailure.describe;
import static io.qevm.CleanFailure.descriptionRecordOffset;
import static io.qevm.CleanFailure.readAll;
import static io.qevm.CleanFailure.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.TruncatedInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real samples cut short at many offsets. Two ways to cut:
 * <ul>
 *   <li><b>with the trailer kept</b>: {@code prefix[0..cut) + VMDESCRIPTION record}, so the reader
 *       finds the description and sees a device stream that ends at {@code cut}. The stream only
 *       ends cleanly on its QEMU_VM_EOF byte, so every cut short of the whole device stream is a
 *       {@link TruncatedInputException} whose {@code position()} is the cut, record boundary or
 *       not: a record boundary is not an end, the next record's type byte is missing. Only cuts
 *       inside the 8-byte file header, which then runs into the trailer's bytes, are a
 *       {@link MalformedStreamException} (bad magic or version).</li>
 *   <li><b>plainly</b>: {@code prefix[0..cut)}, the trailer lost: a {@link MissingDescriptionException}
 *       at the cut, or, inside the file header, a {@link TruncatedInputException}.</li>
 * </ul>
 * Device-state cuts are at every byte; RAM cuts at every byte of its first and last 2 KiB
 * (configuration, block list, the END record) and every 97th byte between.
 */
final class TruncationTest {

    private static final int FILE_HEADER = 8;
    private static final int EDGE = 2048;
    private static final int RAM_STRIDE = 97;
    private static final Duration BUDGET = Duration.ofSeconds(120);

    /** Offset of the first SECTION_FULL record: where RAM (START/PART/END) gives way to devices. */
    private static int firstDeviceSection(byte[] bytes) {
        try (MigrationReader reader = CleanFailure.reader(bytes)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.SECTION_START && reader.recordType() == RecordType.FULL) {
                    return Math.toIntExact(reader.eventOffset());
                }
            }
            throw new AssertionError("no SECTION_FULL record");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void cutWithDescriptionKeptIsTruncatedAtTheCut(String name) {
        byte[] bytes = sample(name);
        int descriptionAt = descriptionRecordOffset(bytes);
        int devices = firstDeviceSection(bytes);
        byte[] trailer = Arrays.copyOfRange(bytes, descriptionAt, bytes.length);

        // the whole device stream, trailer after it: the control case, read to EOF
        assertNull(readAll(cutWithTrailer(bytes, descriptionAt, trailer)), "the uncut stream reads to EOF");

        List<Integer> cuts = new ArrayList<>();
        for (int cut = FILE_HEADER; cut < descriptionAt; cut++) {
            boolean edge = cut < FILE_HEADER + EDGE || cut >= devices - EDGE;
            if (edge || cut % RAM_STRIDE == 0) {
                cuts.add(cut);
            }
        }
        assertTrue(cuts.size() > descriptionAt - devices, "every device-state offset is cut");
        List<String> failures = runCuts(cuts, cut -> {
            byte[] input = cutWithTrailer(bytes, cut, trailer);
            MigrationReadException e = readAll(input);
            if (e == null) {
                return "read to EOF";
            }
            if (e.getClass() != TruncatedInputException.class) {
                return "expected TruncatedInputException, got " + e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            if (e.position() != cut) {
                return "position " + e.position() + " is not the cut: " + e.getMessage();
            }
            assertWellFormed(e, input.length);
            return null;
        });
        assertNoFailures(name + " cut with the description kept", cuts.size(), failures);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void cutInsideTheFileHeaderWithDescriptionKeptIsMalformed(String name) {
        byte[] bytes = sample(name);
        int descriptionAt = descriptionRecordOffset(bytes);
        byte[] trailer = Arrays.copyOfRange(bytes, descriptionAt, bytes.length);
        for (int cut = 0; cut < FILE_HEADER; cut++) {
            byte[] input = cutWithTrailer(bytes, cut, trailer);
            MigrationReadException e = readAll(input);
            int at = cut;
            assertTrue(e != null && e.getClass() == MalformedStreamException.class,
                    () -> "cut " + at + ": expected a bad magic or version, got " + e);
            assertWellFormed(e, input.length);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void plainCutHasNoDescription(String name) {
        byte[] bytes = sample(name);
        int descriptionAt = descriptionRecordOffset(bytes);
        List<Integer> cuts = new ArrayList<>();
        for (int cut = 0; cut < bytes.length; cut++) {
            boolean near = cut < 64 || Math.abs(cut - descriptionAt) < 64 || cut >= bytes.length - 64;
            if (near || cut % 997 == 0) {
                cuts.add(cut);
            }
        }
        List<String> failures = runCuts(cuts, cut -> {
            byte[] input = Arrays.copyOf(bytes, cut);
            MigrationReadException e = readAll(input);
            Class<?> expected = cut < FILE_HEADER ? TruncatedInputException.class : MissingDescriptionException.class;
            if (e == null) {
                return "read to EOF";
            }
            if (e.getClass() != expected) {
                return "expected " + expected.getSimpleName() + ", got " + e.getClass().getSimpleName() + ": "
                        + e.getMessage();
            }
            if (e.position() != cut) {
                return "position " + e.position() + " is not the cut: " + e.getMessage();
            }
            assertWellFormed(e, input.length);
            return null;
        });
        assertNoFailures(name + " cut plainly", cuts.size(), failures);
    }

    /**
     * Runs {@code check} over every cut on all cores, within {@link #BUDGET} (a hang fails the
     * test); collects what it returns (a problem, or null) and anything it throws.
     */
    private static List<String> runCuts(List<Integer> cuts, IntFunction<String> check) {
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger failed = new AtomicInteger();
        assertTimeoutPreemptively(BUDGET, () -> IntStream.range(0, cuts.size()).parallel().forEach(i -> {
            int cut = cuts.get(i);
            String problem;
            try {
                problem = check.apply(cut);
            } catch (Throwable t) {
                problem = describe(t);
            }
            if (problem != null && failed.incrementAndGet() <= 20) {
                failures.add("cut at " + cut + ": " + problem);
            }
        }));
        List<String> sorted = new ArrayList<>(failures);
        sorted.sort(null);
        if (failed.get() > sorted.size()) {
            sorted.add("... " + (failed.get() - sorted.size()) + " more");
        }
        return sorted;
    }

    private static void assertNoFailures(String what, int cuts, List<String> failures) {
        if (!failures.isEmpty()) {
            fail(what + ": " + failures.size() + " of " + cuts + " cuts failed uncleanly:\n"
                    + String.join("\n", failures));
        }
        assertEquals(List.of(), failures);
    }
}
