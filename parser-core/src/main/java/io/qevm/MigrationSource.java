package io.qevm;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The bytes a {@link MigrationReader} reads: a memory-mapped file, a heap array, or (later) a
 * sequential stream.
 *
 * <p>The reader asks for windows: {@link #window(long, long)} returns a segment whose byte 0 is
 * the stream offset asked for. A random-access source hands out its whole remainder at once, so a
 * reader over a mapped file asks once and then reads straight from the mapping. A sequential
 * source (stdin, a socket) can implement the same contract with a buffer that it refills forward,
 * dropping what lies before the lowest offset asked for; it reports {@link #size()} as -1 and
 * {@link #isRandomAccess()} false, and the reader then only does what needs no going back.
 */
public interface MigrationSource extends Closeable {

    /**
     * Bytes from {@code offset} on: a segment whose index 0 is stream offset {@code offset}, at
     * least {@code minBytes} long unless the source ends first, in which case it ends where the
     * source ends (possibly empty). Valid until the next call or {@link #close()}.
     *
     * @throws IOException if the bytes cannot be read
     */
    MemorySegment window(long offset, long minBytes) throws IOException;

    /** Total length in bytes, or -1 when not known in advance. */
    long size();

    /** Whether {@link #window} may be called with offsets lower than earlier ones. */
    boolean isRandomAccess();

    /** A name for messages, e.g. the file path. */
    String name();

    /**
     * A hint that the reader is done with the bytes [from, to) for now: a mapped source lets the
     * kernel take those pages out of the process's resident set (they stay in the page cache,
     * and reading them again maps them again), so that reading a file of many GB does not grow
     * the process by as much. Sequential sources may ignore it. Default: nothing.
     */
    default void release(long from, long to) {
    }

    /**
     * Maps {@code file} read-only into one segment of any size (no 2 GiB limit). The channel is
     * closed right after mapping; the mapping is released by {@link #close()}.
     *
     * @throws IOException if the file cannot be opened or mapped
     */
    static MigrationSource mapped(Path file) throws IOException {
        return MappedFileSource.open(file);
    }

    /** A source over a heap array, e.g. a stream built in a test. The array is not copied. */
    static MigrationSource of(byte[] bytes) {
        return new HeapSource(bytes, "<memory>");
    }
}
