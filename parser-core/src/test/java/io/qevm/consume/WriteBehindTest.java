package io.qevm.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code -x}'s writing thread: writes run one at a time, in the order submitted, off the caller's
 * thread; submit returns only once the write before is done (its buffer is reused then); a
 * failure comes out of the next submit or drain, once; close ends the thread after the write in
 * flight.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class WriteBehindTest {

    @Test
    void writesRunInOrderOffTheCallersThreadOneAtATime() throws Exception {
        List<Integer> done = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean();
        AtomicBoolean overlapped = new AtomicBoolean();
        Thread caller = Thread.currentThread();
        AtomicBoolean onCaller = new AtomicBoolean();
        try (WriteBehind writes = new WriteBehind("test-writer")) {
            for (int i = 0; i < 50; i++) {
                int n = i;
                writes.submit(() -> {
                    overlapped.compareAndSet(false, !running.compareAndSet(false, true));
                    onCaller.compareAndSet(false, Thread.currentThread() == caller);
                    Thread.onSpinWait();
                    synchronized (done) {
                        done.add(n);
                    }
                    running.set(false);
                });
                synchronized (done) {
                    assertTrue(done.size() >= n, "submit " + n + " returned before write " + (n - 1) + " was done");
                }
            }
            writes.drain();
        }
        assertEquals(50, done.size());
        for (int i = 0; i < 50; i++) {
            assertEquals(i, done.get(i), "writes in the order submitted");
        }
        assertFalse(overlapped.get(), "two writes at once");
        assertFalse(onCaller.get(), "a write ran on the caller's thread");
    }

    @Test
    void aFailureComesOutOfTheNextCallOnce() throws Exception {
        IOException full = new IOException("No space left on device");
        try (WriteBehind writes = new WriteBehind("test-writer")) {
            writes.submit(() -> {
                throw full;
            });
            IOException thrown = assertThrows(IOException.class, writes::drain);
            assertSame(full, thrown);
            writes.drain(); // told once
            writes.submit(() -> {
                throw new IllegalStateException("a bug in a write");
            });
            assertThrows(IllegalStateException.class, () -> writes.submit(() -> { }));
        }
    }

    @Test
    void closeWaitsForTheWriteInFlightAndEndsTheThread() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        AtomicBoolean finished = new AtomicBoolean();
        WriteBehind writes = new WriteBehind("test-writer-close");
        writes.submit(() -> {
            started.countDown();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            finished.set(true);
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
        writes.close();
        assertTrue(finished.get(), "close returned before the write in flight was done");
        assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("test-writer-close") && t.isAlive()), "the thread outlived close");
    }
}
