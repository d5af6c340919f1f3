package io.qevm.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * Where {@code --incoming} listens, in QEMU's own {@code -incoming} syntax (util/qemu-sockets.c
 * {@code socket_parse}, {@code inet_parse}): {@code tcp:HOST:PORT}, HOST empty or {@code 0} for
 * every address, an IPv6 address in brackets ({@code tcp:[::1]:4444}), PORT 0 for any free
 * port; {@code unix:PATH}. QEMU's other transports ({@code exec:}, {@code fd:}, {@code file:},
 * {@code rdma:}, {@code vsock:}, {@code defer}) and its {@code ,option=...} suffixes are refused,
 * each with what to do instead.
 *
 * @param uri  the text given
 * @param host for tcp: the host as given (empty for every address), else null
 * @param port for tcp: the port (0: any free one), else -1
 * @param path for unix: the socket's path as given, else null
 */
record IncomingUri(String uri, String host, int port, String path) {

    /** What --incoming accepts, for messages. */
    static final String SUPPORTED = "tcp:HOST:PORT or unix:PATH";

    boolean isUnix() {
        return path != null;
    }

    /** {@code uri} parsed, or a usage error naming what is supported. */
    static IncomingUri parse(String uri) throws Options.UsageException {
        if (uri.startsWith("tcp:")) {
            return tcp(uri, uri.substring(4));
        }
        if (uri.startsWith("unix:")) {
            String path = uri.substring(5);
            if (path.isEmpty()) {
                throw usage(uri, "an empty socket path");
            }
            if (path.indexOf(',') >= 0) {
                throw usage(uri, "socket options (',...'), which qevm does not take");
            }
            return new IncomingUri(uri, null, -1, path);
        }
        int colon = uri.indexOf(':');
        String scheme = colon < 0 ? uri : uri.substring(0, colon + 1);
        String instead = switch (scheme) {
            case "exec:" -> "; for a command, give it to the source instead: migrate \"exec:qevm -f - ...\"";
            case "file:" -> "; for a file, migrate to it and read it with -f FILE";
            case "fd:" -> "; for a descriptor, read it with -f /dev/fd/N";
            default -> "";
        };
        throw new Options.UsageException("argument --incoming: '" + uri + "' is not supported: expected "
                + SUPPORTED + " (QEMU's -incoming syntax)" + instead);
    }

    private static IncomingUri tcp(String uri, String address) throws Options.UsageException {
        String host;
        String port;
        if (address.startsWith("[")) {
            int close = address.indexOf(']');
            if (close < 0 || close + 1 >= address.length() || address.charAt(close + 1) != ':') {
                throw usage(uri, "an IPv6 address in brackets followed by :PORT");
            }
            host = address.substring(1, close);
            port = address.substring(close + 2);
        } else {
            int colon = address.lastIndexOf(':');
            if (colon < 0) {
                throw usage(uri, "no :PORT");
            }
            host = address.substring(0, colon);
            port = address.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw usage(uri, "an IPv6 address outside brackets (write tcp:[ADDRESS]:PORT)");
            }
        }
        if (port.indexOf(',') >= 0) {
            throw usage(uri, "socket options (',...'), which qevm does not take");
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            number = -1;
        }
        if (number < 0 || number > 65535 || !port.chars().allMatch(Character::isDigit)) {
            throw usage(uri, "port '" + port + "', which is not a number from 0 to 65535");
        }
        return new IncomingUri(uri, host.equals("0") ? "" : host, number, null);
    }

    private static Options.UsageException usage(String uri, String problem) {
        return new Options.UsageException("argument --incoming: '" + uri + "' has " + problem + ": expected "
                + SUPPORTED);
    }

    /** The address to bind: every address for an empty host; a unix path resolved against {@code workDir}. */
    SocketAddress bindAddress(Path workDir) throws UnknownHostException {
        if (isUnix()) {
            return UnixDomainSocketAddress.of(workDir.resolve(path));
        }
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(InetAddress.getByName(host), port);
    }
}
