package io.qevm;

import static io.qevm.CleanFailure.assertWellFormed;
import static io.qevm.CleanFailure.cutWithTrailer;
import static io.qevm.CleanFailure.describe;
import static io.qevm.CleanFailure.descriptionRecordOffset;
import static io.qevm.CleanFailure.eventBound;
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
import io.qevm.internal.Messages;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.TreeSet;
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
 *   <li><b>plainly</b>: {@code prefix[0..cut)}, the trailer lost: from a file, a
 *       {@link MissingDescriptionException} at the cut, or, inside the file header, a
 *       {@link TruncatedInputException}.</li>
 * </ul>
 * A file (mapped or in memory) finds the description when it is opened. A {@link SourceKind#STREAM}
 * finds it only when it reaches the device state: from the first device section on, it fails at
 * every cut exactly as a file does; before it (RAM), it cannot know that the description's bytes
 * are not RAM records, so it is cut plainly there, and must stop at the end of the input, at the
 * record the cut is in.
 *
 * <p>Device-state cuts are at every byte; RAM cuts at every byte of its first and last 2 KiB
 * (configuration, block list, the END record), of its first page records of each kind (header,
 * block name, page data) and every 97th byte between.
 */
final class TruncationTest {

    private static final int FILE_HEADER = 8;
    /** The samples' target page size (their descriptions' page_size). */
    private static final int PAGE_SIZE = 4096;
    private static final int EDGE = 2048;
    private static final int RAM_STRIDE = 97;
    /** Device-state cuts read from a stream and a heap array both (past the first section): every this many. */
    private static final int SAME_STRIDE = 7;
    /** Mapped cuts write a file each: every this many bytes of the device state. */
    private static final int MAPPED_STRIDE = 61;
    /** Page records of each kind cut at every byte (their data at every 61st). */
    private static final int RECORDS_OF_EACH_KIND = 12;
    /** For all the cuts of one test: far beyond what they take, even on a loaded machine; a hang fails. */
    private static final Duration BUDGET = Duration.ofSeconds(240);

    /** Where a sample's parts lie, and where each event it reads to starts. */
    private record Layout(byte[] bytes, int devices, int firstSectionEnd, int description, long[] eventStarts,
                          List<long[]> pageRecords) {

        static Layout of(String name) {
            byte[] bytes = sample(name);
            int description = descriptionRecordOffset(bytes);
            int devices = -1;
            int firstSectionEnd = -1;
            List<Long> starts = new ArrayList<>();
            List<long[]> pages = new ArrayList<>();
            int[] seen = new int[4];
            try (MigrationReader reader = CleanFailure.reader(bytes)) {
                long pageStart = -1;
                int pageKind = -1;
                for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                    long at = reader.eventOffset();
                    starts.add(at);
                    if (pageStart >= 0) {
                        // the page record ends where the next event starts (all of a page's bytes are its own)
                        pages.add(new long[] {pageStart, at, pageKind});
                        pageStart = -1;
                    }
                    if (e == MigrationEvent.SECTION_START && reader.recordType() == RecordType.FULL && devices < 0) {
                        devices = Math.toIntExact(at);
                    }
                    if (e == MigrationEvent.FOOTER && devices >= 0 && firstSectionEnd < 0) {
                        firstSectionEnd = Math.toIntExact(at) + 5; // QEMU_VM_SECTION_FOOTER, u32 id
                    }
                    if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                        assertEquals(PAGE_SIZE, reader.pageSize(), name + "'s page size");
                        // kinds: raw or zero page, named or CONTINUE (the record's first byte after its u64 is the name's)
                        boolean named = isNamed(bytes, at);
                        int kind = (e == MigrationEvent.RAM_PAGE ? 0 : 2) + (named ? 0 : 1);
                        if (seen[kind]++ < RECORDS_OF_EACH_KIND) {
                            pageStart = at;
                            pageKind = kind;
                        }
                    }
                }
            }
            assertTrue(devices > 0, name + " has device sections");
            return new Layout(bytes, devices, firstSectionEnd, description, starts.stream().mapToLong(Long::longValue).toArray(),
                    pages);
        }

        /** Whether the RAM record at {@code at} names its block (no RAM_SAVE_FLAG_CONTINUE, 0x20). */
        private static boolean isNamed(byte[] bytes, long at) {
            return (bytes[Math.toIntExact(at) + 7] & StreamBuilder.RAM_SAVE_FLAG_CONTINUE) == 0;
        }

        byte[] trailer() {
            return Arrays.copyOfRange(bytes, description, bytes.length);
        }

        /** The start of the last event at or before {@code offset}. */
        long eventAtOrBefore(long offset) {
            int i = Arrays.binarySearch(eventStarts, offset);
            if (i >= 0) {
                while (i + 1 < eventStarts.length && eventStarts[i + 1] == offset) {
                    i++;
                }
                return eventStarts[i];
            }
            return -i - 2 < 0 ? 0 : eventStarts[-i - 2];
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void cutWithDescriptionKeptIsTruncatedAtTheCut(String name) {
        Layout layout = Layout.of(name);
        byte[] bytes = layout.bytes();
        byte[] trailer = layout.trailer();

        // the whole device stream, trailer after it: the control case, read to EOF
        assertNull(readAll(cutWithTrailer(bytes, layout.description(), trailer)), "the uncut stream reads to EOF");

        List<Integer> cuts = new ArrayList<>();
        for (int cut = FILE_HEADER; cut < layout.description(); cut++) {
            boolean edge = cut < FILE_HEADER + EDGE || cut >= layout.devices() - EDGE;
            if (edge || cut % RAM_STRIDE == 0) {
                cuts.add(cut);
            }
        }
        assertTrue(cuts.size() > layout.description() - layout.devices(), "every device-state offset is cut");
        List<String> failures = runCuts(cuts, cut -> {
            byte[] input = cutWithTrailer(bytes, cut, trailer);
            MigrationReadException e = readAll(input);
            return truncatedAtTheCut(e, cut, input.length, Messages.endOfRegion(Messages.DESCRIPTION_REGION, cut));
        });
        assertNoFailures(name + " cut with the description kept", cuts.size(), failures);
    }

    /**
     * Every cut of the device state, the description kept, from a stream: the stream has found
     * the description at the first device section, and is truncated at every cut as a file is.
     * It fails exactly as the heap array does (the same class, problem, event offset, position,
     * section and event) at every cut of the first device section (its header is the stream's
     * hard case: read before the stream knows where the device stream ends) and every
     * {@link #SAME_STRIDE}th cut after it; a mapped file every {@link #MAPPED_STRIDE}th. (Every
     * cut reads RAM and parses the description again: the heap array's failure at every cut is
     * {@link #cutWithDescriptionKeptIsTruncatedAtTheCut}'s.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void deviceStateCutWithDescriptionKeptFromAStreamFailsAsAFileDoes(String name) {
        Layout layout = Layout.of(name);
        byte[] bytes = layout.bytes();
        byte[] trailer = layout.trailer();
        int firstSectionEnd = layout.firstSectionEnd();
        List<Integer> cuts = IntStream.range(layout.devices(), layout.description()).boxed().toList();
        List<String> failures = runCuts(cuts, cut -> {
            byte[] input = cutWithTrailer(bytes, cut, trailer);
            MigrationReadException stream = readAll(SourceKind.STREAM, input, ReadOptions.DEFAULT,
                    eventBound(input.length));
            String problem = truncatedAtTheCut(stream, cut, input.length,
                    Messages.endOfRegion(Messages.DESCRIPTION_REGION, cut));
            if (problem != null) {
                return "STREAM: " + problem;
            }
            if (cut < firstSectionEnd || cut % SAME_STRIDE == 0) {
                MigrationReadException heap = readAll(input);
                String differs = sameFailure(heap, stream);
                if (differs != null) {
                    return "STREAM differs from HEAP: " + differs;
                }
                if (cut % MAPPED_STRIDE == 0) {
                    differs = sameFailure(heap, readAll(SourceKind.MAPPED, input, ReadOptions.DEFAULT,
                            eventBound(input.length)));
                    if (differs != null) {
                        return "MAPPED differs from HEAP: " + differs;
                    }
                }
            }
            return null;
        });
        assertNoFailures(name + " device state cut with the description kept, from a stream", cuts.size(), failures);
    }

    /**
     * RAM cut plainly, from a stream: the stream ends inside a record it has no reason to doubt,
     * and must say so, at that record, the cursor at the cut ("the end of the input (at byte N)").
     * A file would refuse the same bytes at once: no description ends them. Cuts inside page
     * records (their u64 header, block name, page data) are checked to name that record exactly
     * when the reader is given the page size ({@code qevm --page-size}); without it (the samples
     * carry no target-page-bits) the stream tells it from the records, which a cut can leave
     * ambiguous (a 4 KiB page cut where a 32 KiB page would end), so only the cut is checked then.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void ramCutPlainlyFromAStreamIsTruncatedAtTheRecord(String name) {
        Layout layout = Layout.of(name);
        byte[] bytes = layout.bytes();
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int cut = FILE_HEADER; cut < layout.devices(); cut++) {
            boolean edge = cut < FILE_HEADER + EDGE || cut >= layout.devices() - EDGE;
            if (edge || cut % RAM_STRIDE == 0) {
                cuts.add(cut);
            }
        }
        long[] exactly = new long[bytes.length];
        Arrays.fill(exactly, -1);
        int[] kinds = new int[4];
        for (long[] record : layout.pageRecords()) {
            kinds[(int) record[2]]++;
            for (long cut = record[0]; cut < record[1]; cut++) {
                // every byte of the header and name, every 61st of the data
                if (cut < record[0] + 8 + 1 + 256 || (cut - record[0]) % 61 == 0) {
                    cuts.add(Math.toIntExact(cut));
                    exactly[Math.toIntExact(cut)] = record[0];
                }
            }
        }
        assertTrue(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0, () -> name + ": page records of each kind "
                + Arrays.toString(kinds));
        ReadOptions withPageSize = ReadOptions.builder().pageSize(PAGE_SIZE).build();
        List<Integer> all = new ArrayList<>(cuts);
        List<String> failures = runCuts(all, cut -> {
            byte[] input = Arrays.copyOf(bytes, cut);
            String theEnd = Messages.endOfSource("input", cut);
            MigrationReadException probed = readAll(SourceKind.STREAM, input, ReadOptions.DEFAULT,
                    eventBound(input.length));
            String problem = truncatedAtTheCut(probed, cut, input.length, theEnd);
            if (problem != null) {
                return "page size told from the records: " + problem;
            }
            MigrationReadException e = readAll(SourceKind.STREAM, input, withPageSize, eventBound(input.length));
            problem = truncatedAtTheCut(e, cut, input.length, theEnd);
            if (problem != null) {
                return problem;
            }
            long record = exactly[cut];
            if (record >= 0 && e.eventOffset() != record) {
                return "event offset " + e.eventOffset() + " is not the page record's, " + record + ": " + e.getMessage();
            }
            // the record the cut is in, or, at a boundary, the one before when it looks at the next
            // byte to see whether it goes on (a CONFIGURATION's subsections)
            long earliest = layout.eventAtOrBefore(cut - 1);
            if (e.eventOffset() < earliest || e.eventOffset() > cut) {
                return "event offset " + e.eventOffset() + " outside [" + earliest + ", " + cut + "], the record the cut is"
                        + " in: " + e.getMessage();
            }
            return null;
        });
        assertNoFailures(name + " RAM cut plainly, from a stream", all.size(), failures);
    }

    /**
     * Past RAM, a stream cut plainly has no description: at the first device section it reads
     * to the end, finds none, and says so at the cut, as a file does at once. Only a cut inside
     * that section's header stops it before: the header is truncated at the cut.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void deviceStateCutPlainlyFromAStreamHasNoDescription(String name) {
        Layout layout = Layout.of(name);
        byte[] bytes = layout.bytes();
        int header = headerLength(bytes, layout.devices());
        List<Integer> cuts = new ArrayList<>();
        for (int cut = layout.devices(); cut < bytes.length; cut++) {
            boolean near = cut < layout.devices() + 64 || Math.abs(cut - layout.description()) < 64
                    || cut >= bytes.length - 64;
            if (near || cut % RAM_STRIDE == 0) {
                cuts.add(cut);
            }
        }
        List<String> failures = runCuts(cuts, cut -> {
            byte[] input = Arrays.copyOf(bytes, cut);
            MigrationReadException e = readAll(SourceKind.STREAM, input, ReadOptions.DEFAULT, eventBound(input.length));
            if (cut < layout.devices() + header) {
                String problem = truncatedAtTheCut(e, cut, input.length, Messages.endOfSource("input", cut));
                return problem != null ? problem : e.eventOffset() == layout.devices() ? null
                        : "event offset " + e.eventOffset() + " is not the section's: " + e.getMessage();
            }
            if (e == null || e.getClass() != MissingDescriptionException.class) {
                return "expected MissingDescriptionException, got " + (e == null ? "EOF" : e.getMessage());
            }
            if (e.position() != cut || e.eventOffset() != cut || !e.problem().equals(Messages.noDescription())) {
                return "expected no description at the cut, got " + e.getMessage();
            }
            assertWellFormed(e, input.length);
            return null;
        });
        assertNoFailures(name + " device state cut plainly, from a stream", cuts.size(), failures);
    }

    /** The length of the SECTION_FULL header at {@code at}: type, id, u8 name length + name, instance, version. */
    private static int headerLength(byte[] bytes, int at) {
        return 1 + 4 + 1 + (bytes[at + 5] & 0xff) + 4 + 4;
    }

    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused", "g-ignore-shared"})
    void cutInsideTheFileHeaderWithDescriptionKeptIsMalformed(String name) {
        Layout layout = Layout.of(name);
        for (int cut = 0; cut < FILE_HEADER; cut++) {
            byte[] input = cutWithTrailer(layout.bytes(), cut, layout.trailer());
            MalformedStreamException e = CleanFailure.assertFails(MalformedStreamException.class, input);
            // the trailer's bytes complete the magic (at 0) or the version (at 4)
            assertEquals(cut < 4 ? 0 : 4, e.eventOffset(), e.getMessage());
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
            if (expected == MissingDescriptionException.class && !e.problem().equals(Messages.noDescription())) {
                return "not the missing description: " + e.getMessage();
            }
            assertWellFormed(e, input.length);
            return null;
        });
        assertNoFailures(name + " cut plainly", cuts.size(), failures);
    }

    /**
     * Null when {@code e} is a clean {@link TruncatedInputException} whose cursor is at the cut
     * and whose problem says the data ends there ({@code theEnd}); else what is wrong.
     */
    private static String truncatedAtTheCut(MigrationReadException e, int cut, int inputLength, String theEnd) {
        if (e == null) {
            return "read to EOF";
        }
        if (e.getClass() != TruncatedInputException.class) {
            return "expected TruncatedInputException, got " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        if (e.position() != cut) {
            return "position " + e.position() + " is not the cut: " + e.getMessage();
        }
        if (!e.problem().endsWith(theEnd)) {
            return "the problem does not end with '" + theEnd + "': " + e.getMessage();
        }
        if (e.eventOffset() > cut) {
            return "event offset " + e.eventOffset() + " past the cut: " + e.getMessage();
        }
        assertWellFormed(e, inputLength);
        return null;
    }

    /** Null when {@code other} is the same failure as {@code heap}; else how they differ. */
    private static String sameFailure(MigrationReadException heap, MigrationReadException other) {
        if (other == null) {
            return "read to EOF";
        }
        boolean same = heap.getClass() == other.getClass()
                && SourceKind.sameForEveryKind(heap.problem()).equals(SourceKind.sameForEveryKind(other.problem()))
                && heap.eventOffset() == other.eventOffset() && heap.position() == other.position()
                && Objects.equals(heap.sectionName(), other.sectionName()) && heap.sectionId() == other.sectionId()
                && Objects.equals(heap.event(), other.event());
        return same ? null : other.getClass().getSimpleName() + " " + other.getMessage() + " [" + other.event()
                + ", position " + other.position() + "] vs " + heap.getMessage() + " [" + heap.event() + ", position "
                + heap.position() + "]";
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
