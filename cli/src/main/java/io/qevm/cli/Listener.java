package io.qevm.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The socket {@code --incoming} listens on, as QEMU's destination listens
 * (util/qemu-sockets.c): TCP with SO_REUSEADDR, or a unix socket whose path, if a socket is
 * there already (left by a run that was killed), is replaced. It accepts the source's
 * connection and stays open while the capture runs: a source using multifd connects again to
 * the same address, which {@link Connection} notices. {@link #close()} removes a unix socket's
 * path; so does {@link #abort()}, from a signal's shutdown hook.
 */
final class Listener implements AutoCloseable {

    /** Connections the kernel may queue before one is accepted: a source with multifd opens a few at once. */
    private static final int BACKLOG = 16;

    private final IncomingUri uri;
    private final ServerSocketChannel channel;
    private final Path unixPath;
    private final SocketAddress address;
    private volatile boolean bound;
    private volatile boolean closed;

    private Listener(IncomingUri uri, ServerSocketChannel channel, Path unixPath, SocketAddress address) {
        this.uri = uri;
        this.channel = channel;
        this.unixPath = unixPath;
        this.address = address;
    }

    /**
     * A socket for {@code uri} (a unix path relative to {@code workDir}), not bound yet: its
     * owner keeps it where a signal's shutdown hook finds it before {@link #bind()} makes the
     * path, so that the path goes whenever the signal comes.
     */
    static Listener create(IncomingUri uri, Path workDir) throws IOException {
        if (uri.isUnix()) {
            return new Listener(uri, ServerSocketChannel.open(StandardProtocolFamily.UNIX), workDir.resolve(uri.path()),
                    UnixDomainSocketAddress.of(workDir.resolve(uri.path())));
        }
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            return new Listener(uri, channel, null, uri.bindAddress(workDir));
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    /** Listens; a unix path holding a socket (left by a run that was killed) is replaced first. */
    void bind() throws IOException {
        if (unixPath != null && Files.exists(unixPath, LinkOption.NOFOLLOW_LINKS)) {
            if (!isSocket(unixPath)) {
                throw new IOException(unixPath + " exists and is not a socket");
            }
            Files.delete(unixPath); // QEMU replaces it too
        }
        channel.bind(address, BACKLOG);
        bound = true;
    }

    /**
     * Where it listens, in the syntax QEMU's {@code migrate} takes: {@code tcp:127.0.0.1:4444},
     * {@code tcp:[::1]:4444}, {@code tcp::4444} (every address), {@code unix:PATH}; a port 0
     * given shows the port the system chose.
     */
    String address() throws IOException {
        if (unixPath != null) {
            return "unix:" + unixPath;
        }
        InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
        if (local.getAddress().isAnyLocalAddress()) {
            return "tcp::" + local.getPort();
        }
        String host = local.getAddress().getHostAddress();
        return "tcp:" + (host.indexOf(':') >= 0 ? "[" + shortIpv6(host) + "]" : host) + ":" + local.getPort();
    }

    /**
     * An IPv6 address as people write it (RFC 5952): {@code ::1}, not Java's
     * {@code 0:0:0:0:0:0:0:1}; the longest run of two or more zero groups becomes {@code ::}.
     */
    static String shortIpv6(String address) {
        int scope = address.indexOf('%');
        String[] groups = (scope < 0 ? address : address.substring(0, scope)).split(":", -1);
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < groups.length; ) {
            int j = i;
            while (j < groups.length && groups[j].equals("0")) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        if (bestStart < 0) {
            return String.join(":", groups);
        }
        return String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart)) + "::"
                + String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
    }

    /** Waits for the source's connection (as long as it takes: QEMU's destination waits too). */
    Connection accept(long timeoutNanos, SaveFile save) throws IOException {
        SocketChannel socket = channel.accept();
        try {
            return new Connection(socket, channel, timeoutNanos, save);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    IncomingUri uri() {
        return uri;
    }

    /** Whether {@code path} is a socket (neither a file, a directory nor a link). */
    private static boolean isSocket(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops listening; removes a unix socket's path. May be called from a signal's shutdown hook. */
    void abort() {
        close();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // the socket goes with the process
        }
        if (unixPath != null && (bound || isSocket(unixPath))) {
            // its own socket, or one a bind in progress makes (the channel is closed first: a bind
            // that has not begun fails): never a file of someone else's
            try {
                Files.deleteIfExists(unixPath);
            } catch (IOException e) {
                // nothing more can be done about it
            }
        }
    }
}
