package io.qevm.io;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The bytes a reader reads, one class per kind: a memory-mapped file ({@link MappedFileSource}),
 * a heap array ({@link SegmentSource}), or a non-seekable stream such as a pipe or a socket
 * ({@link StreamSource}). {@link #open(Path)} picks the kind, as protobuf's
 * {@code CodedInputStream.newInstance} and Lucene's {@code MemorySegmentIndexInput.newInstance} do.
 *
 * <p>A {@link ByteCursor} asks for windows: {@link #window} returns a segment whose index 0 is
 * the stream offset asked for. Offsets count from the first byte of the source. A random-access
 * source answers any offset; a sequential one only offsets at or past the lowest it was last
 * asked for, and forgets what lies before it: its memory stays bounded by the window.
 *
 * <p>Not part of the API: the reader's {@code open} methods choose the source.
 */
public interface ByteSource extends AutoCloseable {

    /**
     * Bytes from {@code offset} on: a segment whose index 0 is offset {@code offset}, at least
     * {@code minBytes} long unless the source ends first, in which case it ends where the source
     * ends (possibly empty). Valid until the next call on a sequential source, until
     * {@link #close()} on a random-access one.
     *
     * @throws IOException           if the bytes cannot be read
     * @throws IllegalStateException if a sequential source is asked to go back
     */
    MemorySegment window(long offset, long minBytes) throws IOException;

    /**
     * As {@link #window}, but a stream is read only as far as it has bytes to give now: up to
     * {@code maxBytes} from {@code offset}, fewer when a read gives none (a non-blocking channel,
     * such as a socket a migration source writes into and then waits on the destination's
     * answer) or the source ends. A random-access source, and a stream over a blocking channel
     * (whose reads wait for a byte), answer as {@link #window} does. For a reader that looks
     * ahead only to decide (how far to hold, what the page size is) and must not wait on a live
     * source for bytes it may never send.
     *
     * @throws IOException           if the bytes cannot be read
     * @throws IllegalStateException if a sequential source is asked to go back
     */
    default MemorySegment windowAvailable(long offset, long maxBytes) throws IOException {
        return window(offset, maxBytes);
    }

    /** Total length in bytes, or -1 while not known (a stream not yet read to its end). */
    long size();

    /** Whether {@link #window} may be asked for offsets lower than earlier ones. */
    boolean isRandomAccess();

    /** A name for messages: the file path, or {@code <stdin>}. */
    String name();

    /** What the source's end is called in messages: "file", "input", or e.g. "gzip-decompressed stream". */
    String kind();

    /**
     * A hint that the bytes [from, to) are not needed for now: a mapped source hands those pages
     * back to the kernel (they stay in the page cache, and reading them again maps them again),
     * so that reading a file of many GB does not grow the process by as much. Others ignore it.
     */
    default void release(long from, long to) {
    }

    /**
     * A hint that a reader goes through [from, to) next, in order (a cursor's new window): a
     * mapped source maps those pages ahead of it from a second thread. Others ignore it.
     */
    default void readingNext(long from, long to) {
    }

    /** Releases the source; windows handed out are invalid afterwards. */
    @Override
    void close();

    /**
     * A source for {@code file}: mapped when it is a regular file, read as a stream when it is a
     * pipe, a FIFO or a character device (such as {@code /dev/stdin} on a pipe).
     *
     * @throws IOException if the file cannot be opened or mapped
     */
    static ByteSource open(Path file) throws IOException {
        return open(file, true);
    }

    /**
     * As {@link #open(Path)}; with {@code mapAhead}, a large mapped file is mapped ahead of the
     * reader by a second thread (see {@code ReadOptions.Feature.MAP_AHEAD}).
     */
    static ByteSource open(Path file, boolean mapAhead) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException("is a directory");
        }
        if (Files.isRegularFile(file) || !Files.exists(file)) {
            return MappedFileSource.open(file, mapAhead); // a missing file fails there with NoSuchFileException
        }
        return new StreamSource(FileChannel.open(file, StandardOpenOption.READ), file.toString());
    }

    /** A sequential source over {@code in}, read through a window of bounded size. */
    static ByteSource of(InputStream in, String name) {
        ReadableByteChannel channel = in instanceof java.io.FileInputStream file
                ? file.getChannel() : Channels.newChannel(in);
        return new StreamSource(channel, name);
    }

    /** A sequential source over {@code channel}. */
    static ByteSource of(ReadableByteChannel channel, String name) {
        return new StreamSource(channel, name);
    }

    /**
     * A sequential source over {@code channel} whose end is called {@code kind} in messages
     * (e.g. {@code gzip-decompressed stream}).
     */
    static ByteSource of(ReadableByteChannel channel, String name, String kind) {
        return new StreamSource(channel, name, kind);
    }

    /** A source over a heap array. The array is not copied. */
    static ByteSource of(byte[] bytes, String name) {
        return new SegmentSource(MemorySegment.ofArray(bytes), name);
    }
}
