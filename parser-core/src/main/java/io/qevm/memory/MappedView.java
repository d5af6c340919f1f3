package io.qevm.memory;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Copies out of a segment that may be a file mapping (a dump, the spool), keeping what the
 * mapping holds resident within a budget: a mapped file's pages count in the resident set as
 * they are touched, so that reading a 3 GB dump through would otherwise hold 3 GB. They stay in
 * the page cache: touched again, they map again.
 *
 * <p>Touches are counted in 2 MiB granules: one fault maps the whole page-cache folio it hits
 * (on ext4 with large folios, Linux 6.x, up to 2 MiB: measured, 1024 random 4 KiB reads over a
 * 3 GiB dump made 1.1 GB resident), not only the kernel's 64 KiB fault-around window.
 */
public final class MappedView {

    /** What a view's copies may touch by default (the spool's, a container's) before its pages are handed back. */
    public static final long RELEASE_BYTES = 64L << 20;
    private static final int GRANULE_BITS = 21;

    private final MemorySegment segment;
    private long budget;
    /** Granules touched since the last release, a bit each; null for memory that is not a mapping. */
    private final long[] touched;
    private long touchedCount;

    public MappedView(MemorySegment segment) {
        this(segment, RELEASE_BYTES);
    }

    /** A view whose copies may touch {@code budget} bytes of the mapping (in whole 2 MiB granules). */
    public MappedView(MemorySegment segment, long budget) {
        this.segment = segment;
        this.budget = budget;
        this.touched = segment.isMapped() ? new long[(int) ((segment.byteSize() >>> GRANULE_BITS >>> 6) + 1)] : null;
    }

    /** Sets what copies may touch from now on; a budget below what they have touched hands the mapping back at once. */
    public void budget(long bytes) {
        budget = bytes;
        if (touched != null && touchedCount << GRANULE_BITS > budget) {
            release();
        }
    }

    /** {@return what copies have touched since the last release, in whole 2 MiB granules (0 for memory that is not a mapping)} */
    public long touchedBytes() {
        return touchedCount << GRANULE_BITS;
    }

    private void release() {
        segment.unload();
        Arrays.fill(touched, 0);
        touchedCount = 0;
    }

    /** Copies {@code n} bytes at {@code offset} into {@code dst} at {@code at}, handing the mapping back when over budget. */
    public void copy(long offset, MemorySegment dst, long at, int n) {
        MemorySegment.copy(segment, offset, dst, at, n);
        if (touched != null) {
            touch(offset >>> GRANULE_BITS);
            touch((offset + n - 1) >>> GRANULE_BITS);
        }
    }

    /**
     * Copies {@code n} bytes at {@code offset} into {@code dst} at {@code at} if they lie in
     * granules touched before, or the budget has room for them; else copies nothing and returns
     * false: the caller reads them another way (a positional read), so that reads spread wider
     * than the budget neither grow the resident set nor fault pages in and out.
     */
    public boolean copyIfResident(long offset, MemorySegment dst, long at, int n) {
        if (touched != null) {
            long first = offset >>> GRANULE_BITS;
            long last = (offset + n - 1) >>> GRANULE_BITS;
            long missing = (isTouched(first) ? 0 : 1) + (last != first && !isTouched(last) ? 1 : 0);
            if (missing > 0) {
                if ((touchedCount + missing) << GRANULE_BITS > budget) {
                    return false;
                }
                mark(first);
                mark(last);
            }
        }
        MemorySegment.copy(segment, offset, dst, at, n);
        return true;
    }

    private boolean isTouched(long granule) {
        return (touched[(int) (granule >>> 6)] & 1L << granule) != 0;
    }

    private void mark(long granule) {
        int word = (int) (granule >>> 6);
        long bit = 1L << granule;
        if ((touched[word] & bit) == 0) {
            touched[word] |= bit;
            touchedCount++;
        }
    }

    private void touch(long granule) {
        int word = (int) (granule >>> 6);
        long bit = 1L << granule;
        if ((touched[word] & bit) == 0) {
            touched[word] |= bit;
            if (++touchedCount << GRANULE_BITS > budget) {
                release();
            }
        }
    }
}
