package io.qevm.io;

import java.lang.foreign.MemorySegment;

/**
 * A source whose bytes are all in one segment already: a heap array (streams built in tests,
 * small inputs in memory), or a mapped file ({@link MappedFileSource}). Random-access; the cursor
 * gets it in windows of {@link #WINDOW} bytes (unless told otherwise), slices that cost nothing.
 */
class SegmentSource implements ByteSource {

    /** How much of the segment one window shows: the cursor asks again this rarely. */
    static final long WINDOW = 64L << 20;

    final MemorySegment bytes;
    private final String name;
    private final long windowBytes;

    SegmentSource(MemorySegment bytes, String name) {
        this(bytes, name, WINDOW);
    }

    SegmentSource(MemorySegment bytes, String name, long windowBytes) {
        this.bytes = bytes;
        this.name = name;
        this.windowBytes = windowBytes;
    }

    @Override
    public final MemorySegment window(long offset, long minBytes) {
        long from = Math.min(offset, bytes.byteSize());
        return bytes.asSlice(from, Math.min(bytes.byteSize() - from, Math.max(minBytes, windowBytes)));
    }

    @Override
    public final long size() {
        return bytes.byteSize();
    }

    @Override
    public final boolean isRandomAccess() {
        return true;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String kind() {
        return "file";
    }

    @Override
    public void close() {
        // nothing to release: a heap array belongs to the caller
    }
}
