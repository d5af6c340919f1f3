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
 * costs nothing, and at each one it hands the pages behind it back to the kernel. A file of more
 * than {@link #PREFAULT_FROM} bytes on a machine with more than one core is mapped ahead of the
 * cursor by a {@link Prefaulter}: most of a walk's time is the kernel mapping pages.
 */
final class MappedFileSource extends SegmentSource {

    /** Pages are handed back in whole granules of this many bytes. */
    private static final long RELEASE_GRANULE = 1 << 21;

    /** Smaller files are read before a second thread would get going. */
    static final long PREFAULT_FROM = 2 * WINDOW;
    /**
     * The window when pages are mapped ahead: the prefaulter goes up to {@link Prefaulter#AHEAD}
     * past a window's end, so the smaller the window, the fewer pages mapped and not yet read.
     * A new window costs a slice.
     */
    static final long PREFAULT_WINDOW = 16L << 20;

    private final Arena arena;
    /** Null for a small file or a single core. */
    private final Prefaulter prefaulter;

    private MappedFileSource(Arena arena, MemorySegment mapping, String name, boolean prefault) {
        super(mapping, name, prefault ? PREFAULT_WINDOW : WINDOW);
        this.arena = arena;
        this.prefaulter = prefault ? Prefaulter.start(mapping, name) : null;
    }

    static MappedFileSource open(Path file) throws IOException {
        return open(file, true);
    }

    /** With {@code mapAhead} false, no {@link Prefaulter} whatever the file's size. */
    static MappedFileSource open(Path file, boolean mapAhead) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            // A zero-length mapping is legal but useless; an empty segment reads the same.
            MemorySegment mapping = size == 0
                    ? MemorySegment.ofArray(new byte[0])
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            boolean prefault = mapAhead && size > PREFAULT_FROM && Runtime.getRuntime().availableProcessors() > 1;
            return new MappedFileSource(arena, mapping, file.toString(), prefault);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void readingNext(long from, long to) {
        // not for the first window: -d desc reads the header there and then only the end
        if (prefaulter != null && from > 0) {
            prefaulter.readingAt(from, to);
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
        if (prefaulter != null) {
            prefaulter.stop(); // before the unmapping: it must not touch an unmapped page
        }
        arena.close();
    }
}
