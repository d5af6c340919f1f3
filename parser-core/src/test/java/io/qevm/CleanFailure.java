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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the failure tests share: the real samples (read once per JVM), the trailer split of a
 * sample (device stream / VMDESCRIPTION record), a bounded drain of a reader, and the checks that
 * make a failure "clean": one {@link MigrationReadException} subclass, a one-line message, and
 * offsets inside the file.
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
     * Opens {@code bytes} and drains them; returns the failure, or {@code null} on a clean EOF.
     * Anything but a {@link MigrationReadException} propagates.
     */
    public static MigrationReadException readAll(byte[] bytes) {
        return readAll(bytes, eventBound(bytes.length));
    }

    /** As {@link #readAll(byte[])}, with another bound on the events. */
    public static MigrationReadException readAll(byte[] bytes, long maxEvents) {
        try (MigrationReader reader = reader(bytes)) {
            drain(reader, maxEvents);
            return null;
        } catch (MigrationReadException e) {
            return e;
        }
    }

    /**
     * Checks what every reader failure must hold: a message of one line that names the byte
     * offset, and offsets inside the input.
     */
    public static void assertWellFormed(MigrationReadException e, long inputSize) {
        String message = e.getMessage();
        assertNotNull(message, "message");
        assertFalse(message.isBlank(), "message is blank");
        assertFalse(message.contains("\n") || message.contains("\r"),
                () -> "message of more than one line: " + message);
        assertTrue(message.startsWith("at byte "), () -> "message does not start with the offset: " + message);
        assertTrue(e.eventOffset() >= 0 && e.eventOffset() <= inputSize,
                () -> "eventOffset " + e.eventOffset() + " outside the " + inputSize + "-byte input: " + message);
        assertTrue(e.position() >= 0 && e.position() <= inputSize,
                () -> "position " + e.position() + " outside the " + inputSize + "-byte input: " + message);
    }

    /**
     * Reads {@code bytes} to the end and asserts it fails with exactly {@code expected} (not a
     * subclass), cleanly; returns the exception.
     */
    public static <T extends MigrationReadException> T assertFails(Class<T> expected, byte[] bytes) {
        MigrationReadException e;
        try {
            e = readAll(bytes);
        } catch (RuntimeException | Error other) {
            throw new AssertionError("expected " + expected.getSimpleName() + ", got " + describe(other), other);
        }
        if (e == null) {
            fail("expected " + expected.getSimpleName() + ", but the stream was read to its EOF");
        }
        assertEquals(expected, e.getClass(), () -> "exception class; message: " + e.getMessage());
        assertWellFormed(e, bytes.length);
        return expected.cast(e);
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
