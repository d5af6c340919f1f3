package io.qevm.io;

import io.qevm.SourceKind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The byte sources of the {@code io} tests, each over the same bytes: a test that passes on one
 * and fails on another is the point. {@link Kind#MAPPED} maps a temporary file; the stream kinds
 * differ in how much one read hands out, so that a window is refilled at every kind of boundary.
 */
final class Sources {

    private Sources() {
    }

    enum Kind {
        HEAP,
        MAPPED,
        /** An InputStream through {@code Channels.newChannel}: up to 8 KiB a read. */
        STREAM,
        /** {@link SourceKind#trickle}: 1 to 4096 bytes a read, often fewer than 8. */
        TRICKLE,
        /** One byte a read: every read of the cursor takes its slow path. */
        ONE_BYTE;

        boolean isStream() {
            return this != HEAP && this != MAPPED;
        }

        /** What the end of the data is called in messages. */
        String end() {
            return isStream() ? "input" : "file";
        }
    }

    static ByteSource open(Kind kind, byte[] bytes) {
        return switch (kind) {
            case HEAP -> ByteSource.of(bytes, "<heap>");
            case MAPPED -> {
                try {
                    yield ByteSource.open(tempFile(bytes));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            case STREAM -> ByteSource.of(new ByteArrayInputStream(bytes), "<stream>");
            case TRICKLE -> ByteSource.of(SourceKind.trickle(bytes, bytes.length), "<trickle>");
            case ONE_BYTE -> ByteSource.of(new Chunked(bytes, 1, 1), "<one byte>");
        };
    }

    static Path tempFile(byte[] bytes) throws IOException {
        Path file = Files.createTempFile("qevm-io-test-", ".bin");
        file.toFile().deleteOnExit();
        Files.write(file, bytes);
        return file;
    }

    /** Bytes counting up from {@code seed} in steps of 37: every byte differs from its neighbours. */
    static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (seed + i * 37);
        }
        return bytes;
    }

    /**
     * A channel that hands out {@code first} bytes on its first read and {@code chunk} bytes on
     * every later one (fewer at the end); it counts the reads and whether it was closed.
     */
    static final class Chunked implements ReadableByteChannel {
        private final byte[] bytes;
        private final int first;
        private final int chunk;
        private int at;
        int reads;
        int zeroReadsLeft;
        boolean closed;

        Chunked(byte[] bytes, int first, int chunk) {
            this.bytes = bytes;
            this.first = first;
            this.chunk = chunk;
        }

        @Override
        public int read(ByteBuffer into) {
            if (zeroReadsLeft > 0) {
                zeroReadsLeft--;
                return 0; // a non-blocking channel with nothing yet
            }
            if (at == bytes.length) {
                return -1;
            }
            int most = reads++ == 0 ? Math.max(first, 1) : chunk;
            int n = Math.min(Math.min(most, into.remaining()), bytes.length - at);
            into.put(bytes, at, n);
            at += n;
            return n;
        }

        /** Bytes handed out so far. */
        int handedOut() {
            return at;
        }

        @Override
        public boolean isOpen() {
            return !closed;
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
