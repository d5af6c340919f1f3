package io.qevm;

import static io.qevm.CleanFailure.assertWellFormed;
import static io.qevm.CleanFailure.describe;
import static io.qevm.CleanFailure.descriptionRecordOffset;
import static io.qevm.CleanFailure.readAll;
import static io.qevm.CleanFailure.sample;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.exc.MigrationReadException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

/**
 * Real samples with 1 to 8 bytes changed, from fixed seeds, each read to its end from a heap
 * array and from a stream ({@link SourceKind#STREAM}): the reader must reach EOF or throw a
 * {@link MigrationReadException} with a one-line message, and do so within {@link #PER_CASE} (a
 * hang fails). Where only device state was changed, the stream's outcome must be the heap
 * array's. A failure names the seed, which rebuilds the case ({@link #mutate}), and the changed
 * offsets.
 *
 * <p>Changes go where structure is: a fifth near the start (file or libvirt header,
 * CONFIGURATION, RAM block list, first RAM records), a third in the device state, a fifth in the
 * JSON description, the rest anywhere (RAM records, pages). In the JSON, most cases change only
 * digits, so that the description stays valid JSON but says other sizes, counts, versions and
 * instance ids (the device state is then read out of step); the others make garbage of it.
 */
final class BitFlipTest {

    private static final Duration PER_CASE = Duration.ofSeconds(20);
    private static final int MAX_FLIPS = 8;
    private static final int[] SPECIAL = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x10, 0x20,
        0x7e, '{', '}', '[', '"', ':', '9', '-'};
    private static final HexFormat HEX = HexFormat.of();

    /** Sample, cases, base seed: about 4100 cases in all, fewer on the large samples. */
    static Stream<Arguments> samples() {
        return Stream.of(
                Arguments.of("a-pc-paused", 800, 1_000_000L),
                Arguments.of("d-aarch64-virt", 700, 2_000_000L),
                Arguments.of("g-ignore-shared", 800, 3_000_000L),
                Arguments.of("m-arm-versatilepb-1k", 300, 4_000_000L),
                Arguments.of("n-pc-paused", 700, 5_000_000L),
                Arguments.of("k-libvirt-save", 500, 6_000_000L),
                Arguments.of("h-compress", 150, 7_000_000L),
                Arguments.of("i-live-xbzrle", 150, 8_000_000L));
    }

    /** Where a sample's parts lie: the first device section and the VMDESCRIPTION record. */
    private record Layout(byte[] bytes, int devicesAt, int descriptionAt) {

        static Layout of(String name) {
            byte[] bytes = sample(name);
            int devices = -1;
            try (MigrationReader reader = CleanFailure.reader(bytes)) {
                for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                    if (e == MigrationEvent.SECTION_START && reader.recordType() == RecordType.FULL) {
                        devices = Math.toIntExact(reader.eventOffset());
                        break;
                    }
                }
            }
            int description = descriptionRecordOffset(bytes);
            return new Layout(bytes, devices < 0 ? description : devices, description);
        }
    }

    /** One changed byte. */
    private record Flip(int offset, int before, int after) {
        @Override
        public String toString() {
            return offset + ":" + String.format("%02x>%02x", before, after);
        }
    }

    /** The case of {@code seed}: the changes it makes to {@code bytes}, applied to {@code into}. */
    static List<Flip> mutate(byte[] bytes, int devicesAt, int descriptionAt, long seed, byte[] into) {
        Random random = new Random(seed);
        int region = random.nextInt(100);
        int lo;
        int hi;
        if (region < 20) {
            lo = 0;
            hi = Math.min(bytes.length, Math.max(devicesAt > 0 ? Math.min(devicesAt, 4096) : 4096, 64));
        } else if (region < 55) {
            lo = devicesAt;
            hi = descriptionAt;
        } else if (region < 75) {
            lo = descriptionAt;
            hi = bytes.length;
        } else {
            lo = 0;
            hi = bytes.length;
        }
        if (hi <= lo) {
            lo = 0;
            hi = bytes.length;
        }
        int count = 1 + random.nextInt(MAX_FLIPS);
        boolean numbersOnly = region >= 55 && region < 75 && random.nextInt(10) < 6;
        List<Flip> flips = new ArrayList<>(count);
        int first = lo + random.nextInt(hi - lo);
        for (int i = 0; i < count; i++) {
            int offset = i == 0 ? first
                    : random.nextBoolean() ? Math.clamp(first + random.nextInt(33) - 16, lo, hi - 1)
                    : lo + random.nextInt(hi - lo);
            if (numbersOnly) {
                // keep the JSON valid, change a number in it (size, array_len, version, page_size)
                int digit = offset;
                while (digit < hi && (into[digit] < '0' || into[digit] > '9')) {
                    digit++;
                }
                if (digit < hi) {
                    offset = digit;
                    int before = into[offset] & 0xff;
                    int after = '0' + random.nextInt(10);
                    into[offset] = (byte) after;
                    flips.add(new Flip(offset, before, after));
                    continue;
                }
            }
            int before = into[offset] & 0xff;
            int after = switch (random.nextInt(10)) {
                case 0, 1, 2, 3 -> before ^ (1 << random.nextInt(8));
                case 4, 5, 6 -> random.nextInt(256);
                default -> SPECIAL[random.nextInt(SPECIAL.length)];
            };
            if (after == before) {
                after = before ^ 0x80;
            }
            into[offset] = (byte) after;
            flips.add(new Flip(offset, before, after));
        }
        return flips;
    }

    /**
     * Null when a stream's outcome is the heap array's: both EOF, or the same failure (class,
     * problem with the end of the data named alike, event offset, position). A stream finds the
     * description only at the device state, so this holds only where the changes leave RAM and
     * the description as they were.
     */
    private static String sameOutcome(MigrationReadException heap, MigrationReadException stream) {
        if (heap == null || stream == null) {
            return heap == stream ? null : "STREAM " + (stream == null ? "read to EOF" : stream.getMessage())
                    + " vs HEAP " + (heap == null ? "read to EOF" : heap.getMessage());
        }
        boolean same = heap.getClass() == stream.getClass()
                && SourceKind.sameForEveryKind(heap.problem()).equals(SourceKind.sameForEveryKind(stream.problem()))
                && heap.eventOffset() == stream.eventOffset() && heap.position() == stream.position();
        return same ? null : "STREAM " + stream.getClass().getSimpleName() + " " + stream.getMessage() + " (position "
                + stream.position() + ") vs HEAP " + heap.getClass().getSimpleName() + " " + heap.getMessage()
                + " (position " + heap.position() + ")";
    }

    @ParameterizedTest(name = "{0}: {1} cases from seed {2}")
    @MethodSource("samples")
    void changedBytesFailCleanlyOrReadToEof(String name, int cases, long baseSeed) {
        Layout layout = Layout.of(name);
        byte[] original = layout.bytes();
        // the control: unchanged, a stream reads the sample to its EOF too
        assertNull(readAll(SourceKind.STREAM, original, ReadOptions.DEFAULT, CleanFailure.eventBound(original.length)),
                name + " from a stream");
        List<String> failures = new ArrayList<>();
        int failed = 0;
        int errors = 0;
        for (int c = 0; c < cases; c++) {
            long seed = baseSeed + c;
            byte[] input = original.clone();
            List<Flip> flips = mutate(original, layout.devicesAt(), layout.descriptionAt(), seed, input);
            boolean deviceStateOnly = flips.stream().allMatch(
                    f -> f.offset() >= layout.devicesAt() && f.offset() < layout.descriptionAt());
            String problem;
            try {
                MigrationReadException e = assertTimeoutPreemptively(PER_CASE, () -> readAll(input));
                if (e != null) {
                    errors++;
                    assertWellFormed(e, input.length);
                }
                MigrationReadException stream = assertTimeoutPreemptively(PER_CASE, () -> readAll(SourceKind.STREAM,
                        input, ReadOptions.DEFAULT, CleanFailure.eventBound(input.length)));
                if (stream != null) {
                    assertWellFormed(stream, input.length);
                }
                problem = deviceStateOnly ? sameOutcome(e, stream) : null;
            } catch (AssertionFailedError timeoutOrCheck) {
                problem = timeoutOrCheck.getMessage()
                        + (timeoutOrCheck.getCause() instanceof TimeoutException ? " (a hang?)" : "");
            } catch (Throwable t) {
                problem = describe(t);
            }
            if (problem != null && ++failed <= 20) {
                failures.add("seed " + seed + " flips " + flips + " near "
                        + HEX.formatHex(Arrays.copyOfRange(input, Math.max(0, flips.getFirst().offset() - 8),
                        Math.min(input.length, flips.getFirst().offset() + 8))) + ": " + problem);
            }
        }
        if (failed > 0) {
            fail(name + ": " + failed + " of " + cases + " cases failed uncleanly (" + errors + " clean errors):\n"
                    + String.join("\n", failures));
        }
    }
}
