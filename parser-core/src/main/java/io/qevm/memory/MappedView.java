package io.qevm.memory;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Copies out of a segment that may be a file mapping (a dump, the spool), handing the mapping's
 * pages back to the kernel once copies have touched {@link #RELEASE_BYTES} of it: a mapped
 * file's pages count in the resident set as they are touched, so that reading a 3 GB dump
 * through would otherwise hold 3 GB. They stay in the page cache: touched again, they map again.
 * Touches are counted in the kernel's fault-around unit (64 KiB), the most one fault maps.
 */
public final class MappedView {

    /**
     * How much of the mapping copies may touch before its pages are handed back: 64 MiB, so that
     * the two dumps {@code qevm diff} holds open (two views) stay under 300 MiB of resident set
     * with the JVM's own. Reads that go round a working set of up to this much (1024 pages
     * spread over the whole guest, with the fault-around) stay memory copies; reads spread
     * wider fault their pages in again after each release.
     */
    public static final long RELEASE_BYTES = 64L << 20;
    private static final int GRANULE_BITS = 16;

    private final MemorySegment segment;
    /** Granules touched since the last release, a bit each; null for memory that is not a mapping. */
    private final long[] touched;
    private long touchedCount;

    public MappedView(MemorySegment segment) {
        this.segment = segment;
        this.touched = segment.isMapped() ? new long[(int) ((segment.byteSize() >>> GRANULE_BITS >>> 6) + 1)] : null;
    }

    /** Copies {@code n} bytes at {@code offset} into {@code dst} at {@code at}. */
    public void copy(long offset, MemorySegment dst, long at, int n) {
        MemorySegment.copy(segment, offset, dst, at, n);
        if (touched != null) {
            touch(offset >>> GRANULE_BITS);
            touch((offset + n - 1) >>> GRANULE_BITS);
        }
    }

    private void touch(long granule) {
        int word = (int) (granule >>> 6);
        long bit = 1L << granule;
        if ((touched[word] & bit) == 0) {
            touched[word] |= bit;
            if (++touchedCount << GRANULE_BITS > RELEASE_BYTES) {
                segment.unload();
                Arrays.fill(touched, 0);
                touchedCount = 0;
            }
        }
    }
}
