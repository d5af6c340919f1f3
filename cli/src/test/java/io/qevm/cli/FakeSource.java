package io.qevm.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A migration source for tests, over a real socket: it connects to qevm's address (waiting for
 * it to listen), writes a stream as QEMU's migration thread does, and reads the return path on a
 * thread of its own, as QEMU's source_return_path_thread does. {@link #awaitShut} waits, as a
 * QEMU source with the return-path capability does before it completes, for MIG_RP_MSG_SHUT;
 * {@link #close()} then closes the connection.
 */
final class FakeSource implements AutoCloseable {

    /** A return-path message: migrate_send_rp_message's be16 type, be16 length, payload. */
    record Message(int type, byte[] payload) {
        int u32() {
            return ByteBuffer.wrap(payload).getInt();
        }
    }

    private final SocketChannel socket;
    private final ByteArrayOutputStream answers = new ByteArrayOutputStream();
    private final Thread reader;
    private volatile boolean closedByPeer;

    private FakeSource(SocketChannel socket) {
        this.socket = socket;
        this.reader = Thread.ofPlatform().daemon().name("fake-source-return-path").start(this::readAnswers);
    }

    /** Connects to {@code unix:PATH} or {@code tcp:HOST:PORT} once something listens there, within {@code timeout}. */
    static FakeSource connect(String uri, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            SocketChannel socket = null;
            try {
                SocketAddress address;
                if (uri.startsWith("unix:")) {
                    socket = SocketChannel.open(StandardProtocolFamily.UNIX);
                    address = UnixDomainSocketAddress.of(uri.substring(5));
                } else {
                    String hostPort = uri.substring(4);
                    int colon = hostPort.lastIndexOf(':');
                    String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
                    socket = SocketChannel.open();
                    address = new InetSocketAddress(host.isEmpty() ? "127.0.0.1" : host,
                            Integer.parseInt(hostPort.substring(colon + 1)));
                }
                socket.connect(address);
                return new FakeSource(socket);
            } catch (IOException e) {
                if (socket != null) {
                    socket.close();
                }
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }

    private void readAnswers() {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        try {
            while (true) {
                buffer.clear();
                int read = socket.read(buffer);
                if (read < 0) {
                    break;
                }
                synchronized (answers) {
                    answers.write(buffer.array(), 0, read);
                    answers.notifyAll();
                }
            }
        } catch (IOException e) {
            // reset, or closed here
        }
        closedByPeer = true;
        synchronized (answers) {
            answers.notifyAll();
        }
    }

    /** Writes all of {@code bytes}. */
    FakeSource send(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            socket.write(buffer);
        }
        return this;
    }

    /** Writes {@code bytes}, failing quietly (false) when qevm has closed the connection meanwhile. */
    boolean trySend(byte[] bytes) {
        try {
            send(bytes);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The return-path messages received so far. */
    List<Message> messages() {
        byte[] bytes;
        synchronized (answers) {
            bytes = answers.toByteArray();
        }
        List<Message> messages = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.remaining() >= 4) {
            int type = in.getShort() & 0xffff;
            int length = in.getShort() & 0xffff;
            if (in.remaining() < length) {
                break;
            }
            byte[] payload = new byte[length];
            in.get(payload);
            messages.add(new Message(type, payload));
        }
        return messages;
    }

    /** The raw bytes of the return path so far. */
    byte[] answerBytes() {
        synchronized (answers) {
            return answers.toByteArray();
        }
    }

    /** Waits until a MIG_RP_MSG_SHUT came (as QEMU's source waits), or qevm closed; the messages then. */
    List<Message> awaitShut(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (answers) {
            while (messages().stream().noneMatch(m -> m.type() == ReturnPath.MIG_RP_MSG_SHUT) && !closedByPeer) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no MIG_RP_MSG_SHUT within " + timeout + "; got " + messages());
                }
                answers.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
        return messages();
    }

    /** Waits until qevm closes its end (its reads of the return path end), within {@code timeout}. */
    boolean awaitClosedByPeer(Duration timeout) throws InterruptedException {
        reader.join(timeout.toMillis());
        return closedByPeer;
    }

    @Override
    public void close() throws IOException {
        socket.close();
        try {
            reader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
