package io.qevm.internal;

/** What the library's own threads (mapping ahead, writing behind) need from their owners. */
public final class Threads {

    private Threads() {
    }

    /**
     * Waits for {@code thread} to end, however often the caller is interrupted (the interrupt is
     * kept): a thread that still touches a mapping or writes a file must be gone before the
     * mapping or the file is closed.
     */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
