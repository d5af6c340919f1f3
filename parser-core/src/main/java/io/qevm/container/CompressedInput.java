package io.qevm.container;

import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteSource;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The compressed bytes a {@link Decoder} reads: the layer around them (the file, standard input,
 * or an outer decompressed stream) from where they start, read forward. It counts the bytes the
 * decoder consumed, so that an error names where in that layer the compressed data broke. Used
 * by the decompressor's thread only.
 */
final class CompressedInput {

    /** How much one {@link #peek} asks the layer for: a pipe is read in pieces of about this size. */
    static final int CHUNK = 256 << 10;
    /** How far behind the position the pages of a mapped file are handed back to the kernel. */
    private static final long RELEASE_EVERY = 64L << 20;

    private final ByteSource layer;
    private final Compression format;
    private long position;
    private long releasedTo;
    private boolean sawEnd;

    CompressedInput(ByteSource layer, long start, Compression format) {
        this.layer = layer;
        this.position = start;
        this.releasedTo = start;
        this.format = format;
    }

    Compression format() {
        return format;
    }

    /** The offset in the layer of the next byte the decoder reads. */
    long position() {
        return position;
    }

    /** Whether the layer's end was reached: an error then is a truncation. */
    boolean sawEnd() {
        return sawEnd;
    }

    /**
     * The bytes from the position on (at least {@code min} unless the layer ends first; empty at
     * its end), valid until the next call. The position does not move: {@link #advance} does.
     */
    MemorySegment peek(long min) throws IOException {
        MemorySegment window = layer.window(position, Math.max(min, 1));
        if (window.byteSize() < min) {
            sawEnd = true;
        }
        return window;
    }

    /** The decoder consumed {@code bytes} more. */
    void advance(long bytes) {
        position += bytes;
        if (position - releasedTo > RELEASE_EVERY) {
            // a mapped file read through once: hand its pages back, or the resident set grows
            // to the file's size (a stream ignores it)
            layer.release(releasedTo, position);
            releasedTo = position;
        }
    }

    /** The next byte, consumed. */
    int u8() throws IOException {
        MemorySegment window = peek(1);
        if (window.byteSize() == 0) {
            throw truncated();
        }
        advance(1);
        return window.get(ValueLayout.JAVA_BYTE, 0) & 0xff;
    }

    /** The next {@code count} bytes, consumed: a header field's. */
    byte[] bytes(int count) throws IOException {
        MemorySegment window = peek(count);
        if (window.byteSize() < count) {
            advance(window.byteSize());
            throw truncated();
        }
        byte[] bytes = window.asSlice(0, count).toArray(ValueLayout.JAVA_BYTE);
        advance(count);
        return bytes;
    }

    /**
     * The compressed data ends before its end, at the position (which a caller that read to the
     * layer's end has moved there).
     */
    MigrationReadException truncated() {
        return new TruncatedInputException(Messages.compressedTruncated(format.label, layer.kind()), where());
    }

    /** The compressed data is not valid, found when the decoder had consumed the bytes up to the position. */
    MigrationReadException corrupt(String detail) {
        return new MalformedStreamException(Messages.compressedCorrupt(format.label, detail), where());
    }

    /** The compressed data is not valid at {@code offset} of the layer (a field read before the position). */
    MigrationReadException corruptAt(long offset, String detail) {
        return new MalformedStreamException(Messages.compressedCorrupt(format.label, detail),
                new ReadContext(offset, position, null, -1, null, layer.kind()));
    }

    /** An error a library decoder threw, as one of ours: a truncation if it ran into the layer's end. */
    MigrationReadException failed(IOException e) {
        if (sawEnd) {
            return truncated();
        }
        String detail = e.getMessage();
        return corrupt(detail == null || detail.isBlank() ? e.getClass().getSimpleName() : detail);
    }

    private ReadContext where() {
        return ReadContext.at(position).within(layer.kind());
    }

    /** What the layer's offsets count in, for messages: "file", "input", "gzip-decompressed stream". */
    String layerKind() {
        return layer.kind();
    }

    /**
     * The layer could not be read (an I/O error, not bad data): carried through a library
     * decoder's {@code catch (IOException)} to be rethrown as it is.
     */
    static final class LayerFailure extends IOException {
        private static final long serialVersionUID = 1L;

        LayerFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    private MemorySegment peekForStream() throws LayerFailure {
        try {
            return peek(1);
        } catch (IOException e) {
            throw new LayerFailure(e);
        }
    }

    /**
     * The bytes as an {@link InputStream}, for decoders that read one (xz, bzip2): reads move the
     * position, so that it counts what they consumed.
     */
    InputStream stream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                MemorySegment window = peekForStream();
                if (window.byteSize() == 0) {
                    return -1;
                }
                advance(1);
                return window.get(ValueLayout.JAVA_BYTE, 0) & 0xff;
            }

            @Override
            public int read(byte[] into, int offset, int length) throws IOException {
                if (length == 0) {
                    return 0;
                }
                MemorySegment window = peekForStream();
                if (window.byteSize() == 0) {
                    return -1;
                }
                int count = (int) Math.min(length, window.byteSize());
                MemorySegment.copy(window, ValueLayout.JAVA_BYTE, 0, into, offset, count);
                advance(count);
                return count;
            }
        };
    }
}
