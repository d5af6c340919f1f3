package io.qevm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.exc.MigrationReadException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the failure tests share: the real samples (read once per JVM), the trailer split of a
 * sample (device stream / VMDESCRIPTION record), a bounded drain of a reader from any
 * {@link SourceKind}, the checks that make a failure "clean" (one {@link MigrationReadException}
 * subclass, a one-line message that starts with the event offset, offsets inside the file), the
 * check that every kind of source fails alike ({@link #assertFails}), and the checks of where a
 * failure is and which check found it ({@link #assertFailure}).
 */
public final class CleanFailure {

    private static final Map<String, byte[]> SAMPLES = new ConcurrentHashMap<>();

    private CleanFailure() {
    }

    /** The folder of the real samples. */
    public static Path samplesDir() {
        return Samples.root();
    }

    /** {@code src-samples/<name>/<name>.mig}. */
    public static Path samplePath(String name) {
        return Samples.dump(name);
    }

    /** The bytes of sample {@code name}, read once; callers must not modify them. */
    public static byte[] sample(String name) {
        return SAMPLES.computeIfAbsent(name, n -> {
            try {
                return Files.readAllBytes(samplePath(n));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A reader over {@code bytes} (not copied), with the default limits, requiring a description. */
    public static MigrationReader reader(byte[] bytes) {
        return MigrationReader.open(bytes, ReadOptions.DEFAULT);
    }

    /** Offset of the VMDESCRIPTION record (0x06, u32 length, JSON) of a well-formed stream. */
    public static int descriptionRecordOffset(byte[] bytes) {
        try (MigrationReader reader = reader(bytes)) {
            long json = reader.descriptionJsonOffset();
            assertTrue(json > 5, "the sample has a JSON description");
            return Math.toIntExact(json - 5);
        }
    }

    /** The stream {@code bytes[0..cut)} followed by {@code trailer}: a device stream that ends early. */
    public static byte[] cutWithTrailer(byte[] bytes, int cut, byte[] trailer) {
        byte[] out = Arrays.copyOf(bytes, cut + trailer.length);
        System.arraycopy(trailer, 0, out, cut, trailer.length);
        return out;
    }

    /**
     * Reads {@code reader} to its EOF and returns the number of events; fails when there is no
     * EOF after {@code maxEvents} events (a loop that does not advance, or events out of
     * proportion to the input).
     */
    public static long drain(MigrationReader reader, long maxEvents) {
        for (long i = 1; i <= maxEvents; i++) {
            if (reader.next() == MigrationEvent.EOF) {
                return i;
            }
        }
        throw new AssertionError("no EOF after " + maxEvents + " events: the cursor is at byte "
                + reader.position() + " of " + reader.sourceSize() + ", on " + reader.currentEvent());
    }

    /** A generous event bound for an input of {@code size} bytes: every real dump stays far below it. */
    public static long eventBound(long size) {
        return 4 * size + 10_000;
    }

    /**
     * Opens {@code bytes} on the heap and drains them; returns the failure, or {@code null} on a
     * clean EOF. Anything but a {@link MigrationReadException} propagates.
     */
    public static MigrationReadException readAll(byte[] bytes) {
        return readAll(bytes, eventBound(bytes.length));
    }

    /** As {@link #readAll(byte[])}, with another bound on the events. */
    public static MigrationReadException readAll(byte[] bytes, long maxEvents) {
        return readAll(SourceKind.HEAP, bytes, ReadOptions.DEFAULT, maxEvents);
    }

    /** As {@link #readAll(byte[])}, from {@code kind} of source, with {@code options}. */
    public static MigrationReadException readAll(SourceKind kind, byte[] bytes, ReadOptions options, long maxEvents) {
        try (MigrationReader reader = kind.open(bytes, options)) {
            drain(reader, maxEvents);
            return null;
        } catch (MigrationReadException e) {
            return e;
        }
    }

    /**
     * Checks what every reader failure must hold: a message of one line that starts with the
     * event offset, and offsets inside the input.
     */
    public static void assertWellFormed(MigrationReadException e, long inputSize) {
        String message = e.getMessage();
        assertNotNull(message, "message");
        assertFalse(message.isBlank(), "message is blank");
        assertFalse(message.contains("\n") || message.contains("\r"),
                () -> "message of more than one line: " + message);
        assertTrue(message.startsWith("at byte 0x" + Long.toHexString(e.eventOffset()) + " (" + e.eventOffset() + ")"),
                () -> "message does not start with the event offset: " + message);
        assertTrue(e.eventOffset() >= 0 && e.eventOffset() <= inputSize,
                () -> "eventOffset " + e.eventOffset() + " outside the " + inputSize + "-byte input: " + message);
        assertTrue(e.position() >= 0 && e.position() <= inputSize,
                () -> "position " + e.position() + " outside the " + inputSize + "-byte input: " + message);
    }

    /**
     * Reads {@code bytes} to the end from every {@link SourceKind} and asserts each fails the
     * same way: exactly {@code expected} (not a subclass), cleanly, with the same problem (the
     * words for the end of the data made the same, {@link SourceKind#sameForEveryKind}), event
     * offset, position, section and event. Returns the heap array's failure.
     */
    public static <T extends MigrationReadException> T assertFails(Class<T> expected, byte[] bytes) {
        return assertFails(expected, bytes, ReadOptions.DEFAULT);
    }

    /** As {@link #assertFails(Class, byte[])}, the reader opened with {@code options}. */
    public static <T extends MigrationReadException> T assertFails(Class<T> expected, byte[] bytes,
                                                                   ReadOptions options) {
        return assertFails(expected, bytes, options, eventBound(bytes.length));
    }

    /** As {@link #assertFails(Class, byte[], ReadOptions)}, with another bound on the events. */
    public static <T extends MigrationReadException> T assertFails(Class<T> expected, byte[] bytes,
                                                                   ReadOptions options, long maxEvents) {
        Map<SourceKind, MigrationReadException> failures = new EnumMap<>(SourceKind.class);
        for (SourceKind kind : SourceKind.values()) {
            failures.put(kind, failClean(expected, kind, bytes, options, maxEvents));
        }
        T heap = expected.cast(failures.get(SourceKind.HEAP));
        for (SourceKind kind : SourceKind.values()) {
            assertSameFailure(heap, failures.get(kind), kind);
        }
        return heap;
    }

    /**
     * The failures of a file (mapped and heap, which must agree as {@link #assertFails} checks)
     * and of a stream, where the stream's legitimately differs: it finds the JSON description only
     * when it reaches the device state.
     */
    public record Apart<T extends MigrationReadException>(T file, MigrationReadException stream) {
    }

    /**
     * Reads {@code bytes} from every kind: a mapped file and a heap array must fail alike with
     * exactly {@code expected}; the stream must fail cleanly, its failure left to the caller.
     */
    public static <T extends MigrationReadException> Apart<T> assertFailsApart(Class<T> expected, byte[] bytes) {
        return assertFailsApart(expected, bytes, ReadOptions.DEFAULT);
    }

    public static <T extends MigrationReadException> Apart<T> assertFailsApart(Class<T> expected, byte[] bytes,
                                                                               ReadOptions options) {
        Map<SourceKind, MigrationReadException> failures = new EnumMap<>(SourceKind.class);
        for (SourceKind kind : SourceKind.values()) {
            failures.put(kind, failClean(kind == SourceKind.STREAM ? MigrationReadException.class : expected,
                    kind, bytes, options, eventBound(bytes.length)));
        }
        T heap = expected.cast(failures.get(SourceKind.HEAP));
        assertSameFailure(heap, failures.get(SourceKind.MAPPED), SourceKind.MAPPED);
        return new Apart<>(heap, failures.get(SourceKind.STREAM));
    }

    /**
     * Asserts where {@code e} was found and which check found it: the event offset, the cursor's
     * position, and the problem text exactly (built with the check's own {@code Messages} template).
     */
    public static void assertFailure(MigrationReadException e, long eventOffset, long position, String problem) {
        assertEquals(problem, e.problem(), () -> "problem of: " + e.getMessage());
        assertEquals(eventOffset, e.eventOffset(), () -> "eventOffset of: " + e.getMessage());
        assertEquals(position, e.position(), () -> "position of: " + e.getMessage());
    }

    /** As {@link #assertFailure}, where the position is not what the test is about. */
    public static void assertFailure(MigrationReadException e, long eventOffset, String problem) {
        assertEquals(problem, e.problem(), () -> "problem of: " + e.getMessage());
        assertEquals(eventOffset, e.eventOffset(), () -> "eventOffset of: " + e.getMessage());
    }

    /** As {@link #assertFailure}, where the problem carries details of a library (Jackson): its start. */
    public static void assertFailureStartsWith(MigrationReadException e, long eventOffset, String problemStart) {
        assertTrue(e.problem().startsWith(problemStart),
                () -> "expected a problem starting '" + problemStart + "', got: " + e.getMessage());
        assertEquals(eventOffset, e.eventOffset(), () -> "eventOffset of: " + e.getMessage());
    }

    /** Reads {@code bytes} from {@code kind}: it must fail with exactly {@code expected}, cleanly. */
    private static MigrationReadException failClean(Class<? extends MigrationReadException> expected,
                                                    SourceKind kind, byte[] bytes, ReadOptions options,
                                                    long maxEvents) {
        MigrationReadException e;
        try {
            e = readAll(kind, bytes, options, maxEvents);
        } catch (RuntimeException | Error other) {
            throw new AssertionError(kind + ": expected " + expected.getSimpleName() + ", got " + describe(other),
                    other);
        }
        if (e == null) {
            fail(kind + ": expected " + expected.getSimpleName() + ", but the stream was read to its EOF");
        }
        if (expected != MigrationReadException.class) {
            assertEquals(expected, e.getClass(), () -> kind + ": exception class; message: " + e.getMessage());
        }
        assertWellFormed(e, bytes.length);
        return e;
    }

    /** {@code other}, from {@code kind}, is the same failure as {@code heap}. */
    private static void assertSameFailure(MigrationReadException heap, MigrationReadException other, SourceKind kind) {
        String context = kind + " differs from HEAP: " + other.getMessage() + " vs " + heap.getMessage();
        assertEquals(heap.getClass(), other.getClass(), context);
        assertEquals(SourceKind.sameForEveryKind(heap.problem()), SourceKind.sameForEveryKind(other.problem()), context);
        assertEquals(heap.eventOffset(), other.eventOffset(), context);
        assertEquals(heap.position(), other.position(), context);
        assertEquals(heap.sectionName(), other.sectionName(), context);
        assertEquals(heap.sectionId(), other.sectionId(), context);
        assertEquals(heap.event(), other.event(), context);
    }

    /** The exception's class, message and top stack frames, on one line each, for failure messages. */
    public static String describe(Throwable t) {
        StringBuilder text = new StringBuilder(t.toString());
        StackTraceElement[] stack = t.getStackTrace();
        for (int i = 0; i < Math.min(6, stack.length); i++) {
            text.append("\n        at ").append(stack[i]);
        }
        return text.toString();
    }
}
