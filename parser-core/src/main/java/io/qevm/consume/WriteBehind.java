package io.qevm.consume;

import io.qevm.internal.Threads;
import java.io.IOException;

/**
 * One write at a time on a thread of its own, while the caller goes on reading: {@code -x}'s
 * direct writes each wait for the disk, and the reader has the next run to gather meanwhile.
 * {@link #submit} waits for the write before it (so its buffer is free again when submit
 * returns), {@link #drain} for the one in flight; either throws what the write before it threw.
 * The writes must not overlap what the caller writes itself: it drains first.
 */
final class WriteBehind implements AutoCloseable {

    /** A write, run on the thread. */
    interface Write {
        void run() throws IOException;
    }

    private final String name;
    private Thread thread;
    private Write pending;
    private boolean running;
    private Throwable failure;
    private boolean closed;

    WriteBehind(String name) {
        this.name = name;
    }

    /** Starts {@code write} once the write before it is done; throws that one's failure. */
    synchronized void submit(Write write) throws IOException {
        awaitIdle();
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name(name).start(this::loop);
        }
        pending = write;
        notifyAll();
    }

    /** Waits for the write in flight; throws its failure. */
    synchronized void drain() throws IOException {
        awaitIdle();
    }

    private void awaitIdle() throws IOException {
        boolean interrupted = false;
        while (pending != null || running) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true; // the write ends by itself: it is a bounded one
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable failed = failure;
        failure = null;
        switch (failed) {
            case null -> {
            }
            case IOException io -> throw io;
            case RuntimeException r -> throw r;
            case Error e -> throw e;
            default -> throw new IllegalStateException(failed); // Write.run throws nothing else
        }
    }

    private void loop() {
        while (true) {
            Write write;
            synchronized (this) {
                while (pending == null && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        // only close() ends the thread
                    }
                }
                if (pending == null) {
                    return;
                }
                write = pending;
                pending = null;
                running = true;
            }
            Throwable failed = null;
            try {
                write.run();
            } catch (IOException | RuntimeException | Error e) {
                failed = e;
            }
            synchronized (this) {
                running = false;
                if (failure == null) {
                    failure = failed;
                }
                notifyAll();
            }
        }
    }

    /** Waits for the write in flight (its failure dropped: the caller is on its way out) and ends the thread. */
    @Override
    public void close() {
        Thread started;
        synchronized (this) {
            closed = true;
            notifyAll();
            started = thread;
        }
        if (started != null) {
            Threads.joinUninterruptibly(started);
        }
    }
}
