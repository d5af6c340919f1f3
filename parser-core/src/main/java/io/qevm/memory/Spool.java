package io.qevm.memory;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Pages that exist nowhere the index can read again (decoded pages, any page of a stream that
 * is not random-access), appended to an unlinked temporary file: nothing is left behind however
 * the process ends. A page sent again overwrites its own slot, so that a live dump's resends do
 * not grow the file. Appends are buffered; once the index is built, {@link #seal()} maps the
 * file so that a read is a memory copy.
 */
public final class Spool implements Closeable {

    private static final int BUFFER = 1 << 20;

    /** The file, made at the first flush: an index of a plain file with raw pages needs none. */
    private FileChannel channel;
    private final MemorySegment buffer = Arena.ofAuto().allocate(BUFFER);
    private int used;
    /** Bytes in the file (the buffer's bytes start there). */
    private long flushed;
    private Arena arena;
    private MemorySegment mapped;
    private MappedView view;

    public Spool() {
        // the file is made when first needed (making a temporary file seeds a SecureRandom: ms)
    }

    private FileChannel channel() throws IOException {
        if (channel == null) {
            Path file = Files.createTempFile("qevm-memory-", ".tmp");
            try {
                channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } finally {
                Files.deleteIfExists(file);
            }
        }
        return channel;
    }

    /** The size of the spool: file and buffer. */
    public long size() {
        return flushed + used;
    }

    /** Appends {@code length} bytes of {@code from} at {@code index}; returns their offset in the spool. */
    public long append(MemorySegment from, long index, int length) throws IOException {
        if (BUFFER - used < length) {
            flush();
        }
        long at = size();
        MemorySegment.copy(from, index, buffer, used, length);
        used += length;
        return at;
    }

    /** Overwrites the {@code length} bytes at {@code at} (a slot appended before). */
    public void overwrite(long at, MemorySegment from, long index, int length) throws IOException {
        if (at >= flushed) {
            MemorySegment.copy(from, index, buffer, at - flushed, length);
            return;
        }
        ByteBuffer bytes = from.asSlice(index, length).asByteBuffer();
        long to = at;
        while (bytes.hasRemaining()) {
            to += channel().write(bytes, to);
        }
    }

    /** Reads {@code into.length} bytes at {@code at} (before or after {@link #seal()}). */
    public void read(long at, MemorySegment into) throws IOException {
        int length = (int) into.byteSize();
        if (mapped != null) {
            MemorySegment.copy(mapped, at, into, 0, length);
        } else if (at >= flushed) {
            MemorySegment.copy(buffer, at - flushed, into, 0, length);
        } else {
            ByteBuffer bytes = into.asByteBuffer();
            long from = at;
            while (bytes.hasRemaining()) {
                int read = channel().read(bytes, from);
                if (read < 0) {
                    throw new IOException("the spool file ends at " + from + ", before " + (at + length));
                }
                from += read;
            }
        }
    }

    /** Copies {@code length} bytes at {@code at} of the sealed spool into {@code dst} at {@code dstIndex}. */
    public void copy(long at, MemorySegment dst, long dstIndex, int length) {
        view.copy(at, dst, dstIndex, length);
    }

    /** No more writes: flushes and maps the file for reading. */
    public void seal() throws IOException {
        flush();
        arena = Arena.ofShared();
        mapped = flushed == 0 ? MemorySegment.NULL : channel().map(FileChannel.MapMode.READ_ONLY, 0, flushed, arena);
        view = new MappedView(mapped);
    }

    private void flush() throws IOException {
        if (used == 0) {
            return;
        }
        FileChannel file = channel();
        ByteBuffer bytes = buffer.asSlice(0, used).asByteBuffer();
        while (bytes.hasRemaining()) {
            flushed += file.write(bytes, flushed);
        }
        used = 0;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
        }
        mapped = null;
        view = null;
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // the file is already unlinked: closing only frees its space
        }
    }
}
