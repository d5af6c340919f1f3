package io.qevm.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file mapped read-only into one long-indexed segment, as Lucene's MMapDirectory does: the
 * channel is closed right after mapping, the arena on failure and in {@link #close()}.
 *
 * <p>The cursor gets the mapping in windows of {@link #WINDOW} bytes: slices, so a new window
 * costs nothing, and at each one it hands the pages behind it back to the kernel.
 */
final class MappedFileSource extends SegmentSource {

    /** Pages are handed back in whole granules of this many bytes. */
    private static final long RELEASE_GRANULE = 1 << 21;

    private final Arena arena;

    private MappedFileSource(Arena arena, MemorySegment mapping, String name) {
        super(mapping, name);
        this.arena = arena;
    }

    static MappedFileSource open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            // A zero-length mapping is legal but useless; an empty segment reads the same.
            MemorySegment mapping = size == 0
                    ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedFileSource(arena, mapping, file.toString());
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void release(long from, long to) {
        // whole granules, rounded down at both ends: the granule holding `to` may still be in
        // use, and the one holding `from` is where the previous call stopped
        long start = Math.max(0, from) & ~(RELEASE_GRANULE - 1);
        long end = Math.min(to, bytes.byteSize()) & ~(RELEASE_GRANULE - 1);
        if (end > start) {
            bytes.asSlice(start, end - start).unload();
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
