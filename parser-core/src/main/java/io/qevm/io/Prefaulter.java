package io.qevm.io;

import io.qevm.internal.Threads;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * Maps a file's pages ahead of the reader from a second thread. A walk that reads one page
 * header per 4 KiB of a mapped dump spends most of its time in the kernel, mapping each page on
 * its first touch (and waiting for the line from memory): touching the pages a little ahead on
 * another core takes that work off the reader's thread. One read per {@link #STEP} bytes is
 * enough: a fault maps the pages around it that are in the page cache (Linux's fault-around,
 * 64 KiB). MADV_POPULATE_READ was measured too and maps each page on its own: slower.
 *
 * <p>The reader says where it is ({@link #readingAt}); the thread touches from there up to
 * {@link #AHEAD} bytes past the window it was handed, then waits. It only reads the mapping,
 * never past its end, and is stopped ({@link #stop}) before the mapping is closed.
 */
final class Prefaulter implements Runnable {

    /** Linux maps up to 64 KiB of cached pages around a faulting one (fault_around_bytes). */
    private static final long STEP = 64 << 10;
    /** How far past the reader's window the thread goes: far enough to stay ahead, near enough
     * that the pages it maps and the reader has not yet read add little to the resident set. */
    static final long AHEAD = 16L << 20;
    /** How often the thread looks for a new request while it touches. */
    private static final long CHECK_EVERY = 1 << 20;

    private final MemorySegment mapping;
    private final Thread thread;
    /** Where the reader's current window starts, and where it ends. */
    private volatile long requestFrom;
    private volatile long requestTo;
    private volatile boolean stopped;
    /** Keeps the touches from being optimised away. */
    private volatile int sink;

    private Prefaulter(MemorySegment mapping, String name) {
        this.mapping = mapping;
        this.thread = Thread.ofPlatform().daemon().name("qevm-prefault " + name).unstarted(this);
    }

    /** A started prefaulter for {@code mapping}. */
    static Prefaulter start(MemorySegment mapping, String name) {
        Prefaulter prefaulter = new Prefaulter(mapping, name);
        prefaulter.thread.start();
        return prefaulter;
    }

    /** The reader now reads [from, to) of the mapping. */
    void readingAt(long from, long to) {
        requestFrom = from;
        requestTo = to;
        LockSupport.unpark(thread);
    }

    /** Stops the thread and waits for it: afterwards it touches nothing. */
    void stop() {
        stopped = true;
        LockSupport.unpark(thread);
        Threads.joinUninterruptibly(thread);
    }

    @Override
    public void run() {
        long size = mapping.byteSize();
        long touched = 0;
        long seenFrom = -1;
        int sum = 0;
        while (!stopped) {
            long from = requestFrom;
            // nothing before the first request: a reader may want only the file's ends
            long to = requestTo == 0 ? 0 : Math.min(size, requestTo + AHEAD);
            if (from != seenFrom) {
                seenFrom = from;
                // a jump back (a random-access reader) starts over at the window; forward, the
                // pages between the window and what is touched are mapped already
                if (from < touched - AHEAD || from > touched) {
                    touched = from & -STEP;
                }
            }
            if (touched >= to) {
                LockSupport.park(this);
                continue;
            }
            long stop = Math.min(to, touched + CHECK_EVERY);
            try {
                for (long at = touched; at < stop; at += STEP) {
                    sum += mapping.get(ValueLayout.JAVA_BYTE, at);
                }
            } catch (IllegalStateException | InternalError e) {
                // the mapping closed under it (stop() not called), or the file shrank under the
                // mapping (SIGBUS, which the JVM turns into InternalError): the reader meets the
                // same when it gets there and says so; this thread only must not print a trace
                break;
            }
            touched = stop;
        }
        sink = sum;
    }
}
