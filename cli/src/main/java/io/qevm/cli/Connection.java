package io.qevm.cli;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * The source's connection, as the reader reads it: a channel over the socket, which
 * <ul>
 *   <li>writes every byte it reads into the {@code --save} file as it arrives, before the
 *       reader parses it;</li>
 *   <li>waits for bytes a while ({@link #QUIET_NANOS}) and then returns none: the reader then
 *       knows what has arrived, and never waits on the source for bytes it may not send (QEMU
 *       with a return path sends nothing after its JSON description until the destination
 *       answers); when it needs them, it calls again;</li>
 *   <li>gives up when nothing arrives for the timeout ({@code --timeout}, 60 s by default): a
 *       source that stalls (stopped, or gone without closing) does not hang the capture;</li>
 *   <li>watches the listener the source connected to: a second connection whose first bytes are
 *       multifd's magic is a source with the multifd capability, refused (its pages would come
 *       through the channels qevm does not read);</li>
 *   <li>sends the return path's messages ({@link #send}): a few bytes, written without blocking,
 *       bounded by the timeout.</li>
 * </ul>
 * One thread reads and answers (the reader's): nothing is shared but {@link #abort()}, which a
 * signal's shutdown hook calls.
 */
final class Connection implements ReadableByteChannel {

    /**
     * How long a read waits for a byte before it returns none. Longer than QEMU's gaps inside a
     * stream (its bandwidth limit sends in bursts every 100 ms), so that "none" means the source
     * has stopped sending; short enough that the end of a stream costs little.
     */
    static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** How long another connection is given to show its first bytes. */
    private static final int OTHER_CONNECTION_MILLIS = 2000;
    /** How long the end of a capture waits for the source to close the connection. */
    static final long DRAIN_SECONDS = 5;
    /** migration/multifd.c MULTIFD_MAGIC: the first u32 (big-endian) of a multifd channel. */
    static final int MULTIFD_MAGIC = 0x11223344;

    private final SocketChannel socket;
    private final ServerSocketChannel listener;
    private final long timeoutNanos;
    private final SaveFile save;
    private final Selector selector;
    private Selector writeSelector;
    private long received;
    /** Since when reads have found no byte (-1: the last one found some). */
    private long waitingSince = -1;
    private int firstWord;
    private int strayConnections;
    private IncomingFailure lostAnswer;
    private boolean ended;
    private volatile boolean open = true;
    private volatile boolean aborted;

    /**
     * @param timeoutNanos how long nothing may arrive (or an answer wait to be read); 0 for ever
     * @param save         where the bytes go as they arrive, or null
     */
    Connection(SocketChannel socket, ServerSocketChannel listener, long timeoutNanos, SaveFile save)
            throws IOException {
        this.socket = socket;
        this.listener = listener;
        this.timeoutNanos = timeoutNanos;
        this.save = save;
        if (socket.getLocalAddress() instanceof java.net.InetSocketAddress) {
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true); // answers of a few bytes go at once
        }
        socket.configureBlocking(false);
        listener.configureBlocking(false);
        selector = Selector.open();
        try {
            socket.register(selector, SelectionKey.OP_READ);
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            selector.close();
            throw e;
        }
    }

    @Override
    public int read(ByteBuffer into) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        long now = System.nanoTime();
        checkOtherConnections(); // a syscall, next to the read's: cheap, and a multifd source is refused at once
        int read = readNow(into);
        if (read != 0) {
            return read;
        }
        if (waitingSince < 0) {
            waitingSince = now; // the reader's own work (writing -x files) is not the source's silence
        }
        long quietUntil = now + QUIET_NANOS;
        while (true) {
            long waitUntil = timeoutNanos > 0 ? Math.min(quietUntil, waitingSince + timeoutNanos) : quietUntil;
            long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitUntil - now));
            selector.select(millis);
            selector.selectedKeys().clear();
            now = System.nanoTime();
            checkOtherConnections();
            read = readNow(into);
            if (read != 0) {
                return read;
            }
            if (timeoutNanos > 0 && now - waitingSince >= timeoutNanos) {
                throw IncomingFailure.stalled(TimeUnit.NANOSECONDS.toSeconds(timeoutNanos), received);
            }
            if (now - quietUntil >= 0) {
                return 0;
            }
        }
    }

    /** One read of what the socket has now: bytes (saved as they come), 0, or -1 at its end. */
    private int readNow(ByteBuffer into) throws IOException {
        int start = into.position();
        int read;
        try {
            read = socket.read(into);
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            if (aborted) {
                throw e;
            }
            throw IncomingFailure.broken(received, e);
        }
        if (read > 0) {
            for (int i = 0; i < read && received + i < 4; i++) {
                firstWord = firstWord << 8 | into.get(start + i) & 0xff;
            }
            if (save != null) {
                ByteBuffer bytes = into.duplicate();
                bytes.limit(start + read).position(start);
                save.write(bytes);
            }
            received += read;
            waitingSince = -1;
        } else if (read < 0) {
            ended = true;
        }
        return read;
    }

    /**
     * Connections that came while the capture runs: a multifd channel of the same source (its
     * first u32 is {@link #MULTIFD_MAGIC}) fails the capture; anything else is closed, and the
     * capture goes on. Done at every read, and where the stream's RAM is complete: a source with
     * multifd sends part of its RAM through its channels, which it connects before it ends the
     * RAM section (it syncs them there), so they are waiting by then, however short the stream.
     */
    void checkOtherConnections() throws IOException {
        while (true) {
            SocketChannel other;
            try {
                other = listener.accept();
            } catch (IOException e) {
                return; // a listener in trouble (or closed) takes no more connections: nothing to watch
            }
            if (other == null) {
                return;
            }
            try (other) {
                if (firstWord(other) == MULTIFD_MAGIC) {
                    throw IncomingFailure.refused("multifd", "it opened a second connection, a multifd channel");
                }
                strayConnections++;
            }
        }
    }

    /** The first u32 another connection sends within {@link #OTHER_CONNECTION_MILLIS}, else 0. */
    private static int firstWord(SocketChannel other) {
        ByteBuffer word = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN);
        try (Selector wait = Selector.open()) {
            other.configureBlocking(false);
            other.register(wait, SelectionKey.OP_READ);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(OTHER_CONNECTION_MILLIS);
            while (word.hasRemaining()) {
                if (other.read(word) < 0) {
                    return 0;
                }
                long left = deadline - System.nanoTime();
                if (word.hasRemaining()) {
                    if (left <= 0) {
                        return 0;
                    }
                    wait.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    wait.selectedKeys().clear();
                }
            }
            return word.getInt(0);
        } catch (IOException e) {
            return 0; // it went: not a channel of this migration
        }
    }

    /** The first u32 of the stream (big-endian), once 4 bytes have arrived: the magic. */
    int firstWord() {
        return received >= 4 ? firstWord : 0;
    }

    /** Bytes received so far: where the stream received ends. */
    long received() {
        return received;
    }

    /** The first answer the source's connection did not take (it had closed), or null. */
    IncomingFailure lostAnswer() {
        return lostAnswer;
    }

    /** Connections other than the source's that came (and were closed). */
    int strayConnections() {
        return strayConnections;
    }

    /**
     * Sends {@code message} (the return path's: a few bytes) to the source, waiting while it does
     * not read, up to the timeout; {@code what} names it for messages. A connection the source
     * has closed (or reset) takes no answer: that is noted ({@link #lostAnswer()}), not fatal, as
     * on QEMU's destination, which reads on what the source sent.
     */
    void send(byte[] message, String what) throws IOException {
        if (lostAnswer != null) {
            return;
        }
        ByteBuffer bytes = ByteBuffer.wrap(message);
        long start = System.nanoTime();
        while (bytes.hasRemaining()) {
            int written;
            try {
                written = socket.write(bytes);
            } catch (ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                if (aborted) {
                    throw e;
                }
                lostAnswer = IncomingFailure.cannotAnswer(what, received, e);
                return;
            }
            if (written > 0) {
                continue;
            }
            // the socket's buffer is full: the source does not read what it is answered
            if (writeSelector == null) {
                writeSelector = Selector.open();
                socket.register(writeSelector, SelectionKey.OP_WRITE);
            }
            writeSelector.select(TimeUnit.NANOSECONDS.toMillis(QUIET_NANOS));
            writeSelector.selectedKeys().clear();
            if (timeoutNanos > 0 && System.nanoTime() - start >= timeoutNanos) {
                throw IncomingFailure.answerStalled(what, TimeUnit.NANOSECONDS.toSeconds(timeoutNanos), received);
            }
        }
    }

    /**
     * The capture is done: says so (the source's end of the socket sees it end), then reads what
     * the source still sends until it closes (saved as the rest of the stream), for at most
     * {@link #DRAIN_SECONDS}: closing with bytes unread would reset the connection, which the
     * source could see before the last answer.
     *
     * @return whether the source closed in time
     */
    boolean finish() throws IOException {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            // a source that has gone: nothing follows
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(64 << 10);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
        while (!ended) {
            buffer.clear();
            int read;
            try {
                read = readNow(buffer);
            } catch (IncomingFailure e) {
                return true; // reset after its end: what came is all there is
            }
            if (read == 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                selector.selectedKeys().clear();
            }
        }
        return true;
    }

    /** Closes the connection at once (a signal's shutdown hook): the reader's next read fails. */
    void abort() {
        aborted = true;
        close();
    }

    boolean isAborted() {
        return aborted;
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
        try {
            socket.close();
        } catch (IOException e) {
            // closed all the same
        }
        try {
            selector.close();
            if (writeSelector != null) {
                writeSelector.close();
            }
        } catch (IOException e) {
            // nothing held
        }
    }
}
