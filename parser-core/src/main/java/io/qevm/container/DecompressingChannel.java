package io.qevm.container;

import io.qevm.io.ByteSource;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Decompressed bytes as a channel, for the reader's sequential source: a thread of its own runs
 * the {@link Decoder} into a few buffers of {@link #BUFFER_BYTES}, handed over through a small
 * bounded queue, so that decompressing and reading overlap (on two cores the decompressor is the
 * bottleneck, as the compressor command is) and memory stays at those few buffers whatever the
 * sizes, a decompression bomb's included.
 *
 * <p>A failure of the decoder (bad data, the layer under it) reaches the reader at the point of
 * the stream where it happened: every byte decompressed before it is read first. {@link #close()}
 * stops the thread (interrupting it, which also unblocks a read of standard input) and waits for
 * it before freeing the decoder and closing the layer, so that nothing is freed under it.
 */
final class DecompressingChannel implements ReadableByteChannel {

    /** One buffer's size: large enough that the hand-over costs nothing per byte. */
    static final int BUFFER_BYTES = 1 << 20;
    /** Buffers filled ahead of the reader: the decompressor never waits while the reader works on one. */
    static final int QUEUED = 3;
    /** How long {@link #close()} waits for the thread: a decoder's step is far shorter. */
    private static final long JOIN_MILLIS = 10_000;

    /** Marks the end of the data (or of the thread, after a failure) in the queue. */
    private static final ByteBuffer END = ByteBuffer.allocate(0);

    private final Decoder decoder;
    private final ByteSource layer;
    private final BlockingQueue<ByteBuffer> filled = new ArrayBlockingQueue<>(QUEUED + 1);
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(QUEUED + 1);
    private final Thread thread;
    /** What stopped the thread, read after taking END (the queue orders it). */
    private volatile Throwable failure;
    private ByteBuffer current;
    private boolean open = true;

    /**
     * Starts decompressing {@code decoder}'s data; the channel owns {@code layer} (what the
     * decoder reads) and closes it.
     */
    DecompressingChannel(Decoder decoder, ByteSource layer, String format) {
        this.decoder = decoder;
        this.layer = layer;
        for (int i = 0; i < QUEUED + 1; i++) {
            free.add(ByteBuffer.allocateDirect(BUFFER_BYTES));
        }
        // a daemon: a reader its user never closed must not keep the JVM alive
        this.thread = Thread.ofPlatform().name("qevm-" + format + "-decompressor").daemon().unstarted(this::run);
        thread.start();
    }

    private void run() {
        try {
            boolean more = true;
            while (more) {
                ByteBuffer buffer = free.take();
                buffer.clear();
                more = decoder.fill(buffer);
                buffer.flip();
                if (buffer.hasRemaining()) {
                    filled.put(buffer);
                } else {
                    free.put(buffer);
                }
            }
        } catch (InterruptedException e) {
            return; // closed: nobody reads on
        } catch (Throwable e) { // the reader rethrows it, whatever it is
            failure = e;
        }
        try {
            filled.put(END);
        } catch (InterruptedException e) {
            // closed meanwhile
        }
    }

    @Override
    public int read(ByteBuffer into) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        while (current == null || !current.hasRemaining()) {
            if (current == END) {
                return end();
            }
            if (current != null) {
                free.add(current); // never full: QUEUED + 1 buffers in all
            }
            try {
                current = filled.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                current = null;
                throw new InterruptedIOException("interrupted while waiting for the decompressor");
            }
        }
        int count = Math.min(into.remaining(), current.remaining());
        into.put(into.position(), current, current.position(), count);
        into.position(into.position() + count);
        current.position(current.position() + count);
        return count;
    }

    /** At END: -1 when the data ended, else the thread's failure, rethrown. */
    private int end() throws IOException {
        Throwable e = failure;
        if (e == null) {
            return -1;
        }
        switch (e) {
            case IOException io -> throw io;
            case UncheckedIOException unchecked -> throw unchecked.getCause();
            case RuntimeException runtime -> throw runtime;
            case Error error -> throw error;
            default -> throw new IOException(e);
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        thread.interrupt();
        boolean stopped = false;
        try {
            stopped = thread.join(Duration.ofMillis(JOIN_MILLIS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stopped) {
            decoder.close(); // its native memory, now that nothing uses it
        }
        try {
            // a thread still blocked (on a stream's read that an interrupt cannot stop) ends
            // when the layer is closed under it
            layer.close();
        } catch (IllegalStateException e) {
            // that read holds the layer's memory: it is freed when the read returns, at exit at
            // the latest
        }
        filled.clear();
    }

    /** For tests: whether the thread has ended. */
    boolean threadEnded(long waitMillis) throws InterruptedException {
        return thread.join(Duration.ofMillis(waitMillis));
    }
}
