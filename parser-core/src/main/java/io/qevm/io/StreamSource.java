package io.qevm.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

/**
 * A non-seekable source (standard input, a pipe, a FIFO, a socket, a decompressor) read
 * through a sliding window of native memory: what lies before the lowest offset asked for is
 * forgotten, so memory stays at the window's size whatever the stream's length.
 *
 * <p>Reads stop as soon as the bytes asked for are there: a live stream is never waited on for
 * more than the reader needs. Once the end has been read (a window asked for past it), every
 * offset from the window's start on is answered: what the window holds is all that is left.
 */
final class StreamSource implements ByteSource {

    /** The window's first size: room for many pages, so that a refill reads a lot at once. */
    static final int INITIAL_WINDOW = 4 << 20;

    private final ReadableByteChannel channel;
    private final String name;
    private final String kind;
    private Arena arena;
    private MemorySegment buffer;
    private ByteBuffer io;
    /** Stream offset of buffer[0]. */
    private long base;
    /** Bytes of the stream in buffer[0, filled). */
    private long filled;
    /** The stream's length, once its end has been read; -1 before. */
    private long total = -1;
    private boolean closed;
    /** Waits for a non-blocking selectable channel's bytes; made when first needed. */
    private Selector selector;

    StreamSource(ReadableByteChannel channel, String name) {
        this(channel, name, "input");
    }

    /** {@code kind}: what its end is called in messages ("input", "gzip-decompressed stream"). */
    StreamSource(ReadableByteChannel channel, String name, String kind) {
        this.channel = channel;
        this.name = name;
        this.kind = kind;
        allocate(INITIAL_WINDOW);
    }

    @Override
    public MemorySegment window(long offset, long minBytes) throws IOException {
        MemorySegment atEnd = startAt(offset);
        if (atEnd != null) {
            return atEnd;
        }
        // a pipe hands out what it has: read until the bytes asked for are there, growing as
        // they arrive, not to the length asked for: a length read from a short or corrupt
        // stream ends as truncated input, and allocates no more than the stream holds
        while (filled < minBytes) {
            if (filled == buffer.byteSize()) {
                grow(Math.min(minBytes, 2 * buffer.byteSize()));
            }
            if (!readSome()) {
                break;
            }
        }
        return buffer.asSlice(0, filled);
    }

    /**
     * Reads while the channel gives bytes now: a read that returns none (a non-blocking channel
     * with nothing yet) ends it, where {@link #window} would read again.
     */
    @Override
    public MemorySegment windowAvailable(long offset, long maxBytes) throws IOException {
        MemorySegment atEnd = startAt(offset);
        if (atEnd != null) {
            return atEnd;
        }
        while (filled < maxBytes && total < 0) {
            if (filled == buffer.byteSize()) {
                grow(Math.min(maxBytes, 2 * buffer.byteSize()));
            }
            if (readOnce() <= 0) {
                break;
            }
        }
        return buffer.asSlice(0, filled);
    }

    /**
     * Where a window starts: the window itself when the end has been read (what is held is then
     * all there is, and any offset from the buffer's start is answered as it is, nothing
     * forgotten); else null, buffer[0] moved to {@code offset}.
     */
    private MemorySegment startAt(long offset) throws IOException {
        if (offset < base) {
            throw new IllegalStateException("a stream cannot go back to offset " + offset + " from " + base);
        }
        if (total >= 0 && offset <= base + filled) {
            return buffer.asSlice(offset - base, filled - (offset - base));
        }
        moveTo(offset);
        return null;
    }

    /** Makes buffer[0] stream offset {@code offset}: keeps what is buffered past it, skips to it. */
    private void moveTo(long offset) throws IOException {
        long shift = offset - base;
        if (shift == 0) {
            return;
        }
        if (shift < filled) {
            MemorySegment.copy(buffer, shift, buffer, 0, filled - shift);
            filled -= shift;
            base = offset;
            return;
        }
        // past everything buffered: read and drop up to the offset
        long toDrop = shift - filled;
        base += filled;
        filled = 0;
        while (toDrop > 0) {
            if (!readSome()) {
                base = offset;
                filled = 0;
                return; // the stream ended before the offset: windows past it are empty
            }
            long dropped = Math.min(toDrop, filled);
            MemorySegment.copy(buffer, dropped, buffer, 0, filled - dropped);
            filled -= dropped;
            base += dropped;
            toDrop -= dropped;
        }
    }

    /** One read into the free part of the buffer, waiting for a byte; false at the end of the stream. */
    private boolean readSome() throws IOException {
        if (total >= 0) {
            return false;
        }
        int read = readOnce();
        while (read == 0) {
            awaitBytes(); // a non-blocking channel with nothing yet; blocking ones return at least one byte
            read = readOnce();
        }
        return read > 0;
    }

    /**
     * Waits for bytes on a non-blocking channel that gave none: on a selectable one (a socket, a
     * pipe) until it has some, else (a channel that waits a while itself before it gives none)
     * not at all.
     */
    private void awaitBytes() throws IOException {
        if (channel instanceof SelectableChannel selectable && !selectable.isBlocking()) {
            if (selector == null) {
                selector = Selector.open();
                selectable.register(selector, SelectionKey.OP_READ);
            }
            selector.select();
            selector.selectedKeys().clear();
        } else {
            Thread.onSpinWait();
        }
    }

    /** One read into the free part of the buffer: the bytes read, 0 if the channel had none now, -1 at the end. */
    private int readOnce() throws IOException {
        io.limit((int) buffer.byteSize()).position((int) filled);
        int read = channel.read(io);
        if (read < 0) {
            total = base + filled;
            return -1;
        }
        filled += read;
        return read;
    }

    /** A buffer of {@code bytes}, holding what the old one held. Callers bound the size. */
    private void grow(long bytes) {
        if (bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("window of " + bytes + " bytes");
        }
        Arena old = arena;
        MemorySegment oldBuffer = buffer;
        allocate((int) bytes);
        MemorySegment.copy(oldBuffer, 0, buffer, 0, filled);
        old.close();
    }

    private void allocate(int bytes) {
        arena = Arena.ofShared();
        buffer = arena.allocate(bytes, 64);
        io = buffer.asByteBuffer();
    }

    @Override
    public long size() {
        return total;
    }

    @Override
    public boolean isRandomAccess() {
        return false;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        try {
            channel.close();
            if (selector != null) {
                selector.close();
            }
        } catch (IOException e) {
            // nothing more will be read from it
        }
    }
}
