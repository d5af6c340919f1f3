package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code --incoming URI}, {@code --save}, {@code --timeout}: QEMU's {@code -incoming} syntax
 * (util/qemu-sockets.c {@code inet_parse}: {@code tcp:HOST:PORT}, HOST empty or 0 for every
 * address, IPv6 in brackets; {@code unix:PATH}), its other transports refused with what to do
 * instead, and the options that go (or not) with it.
 */
final class IncomingOptionsTest {

    private static String usageError(String... args) {
        return assertThrows(Options.UsageException.class, () -> Options.parse(args)).getMessage();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "tcp:127.0.0.1:4444 | 127.0.0.1 | 4444",
        "tcp::4444          | ''        | 4444",
        "tcp:0:4444         | ''        | 4444",
        "tcp:[::1]:4444     | ::1       | 4444",
        "tcp:[::]:0         | ::        | 0",
        "tcp:localhost:65535| localhost | 65535",
    })
    void tcpAddresses(String uri, String host, int port) throws Options.UsageException {
        Options options = Options.parse(new String[] {"--incoming", uri});
        IncomingUri incoming = options.incoming();
        assertEquals(uri, incoming.uri());
        assertEquals(host, incoming.host());
        assertEquals(port, incoming.port());
        assertNull(incoming.path());
        assertNull(options.file());
        assertEquals(uri, options.source(), "messages name the URI");
        assertEquals(Options.DEFAULT_TIMEOUT_SECONDS, options.timeoutSeconds());
    }

    @Test
    void everyAddressIsTheWildcard() throws Exception {
        InetSocketAddress all = (InetSocketAddress) IncomingUri.parse("tcp:0:4444").bindAddress(Path.of("/"));
        assertTrue(all.getAddress().isAnyLocalAddress());
        assertEquals(4444, all.getPort());
        assertTrue(((InetSocketAddress) IncomingUri.parse("tcp::0").bindAddress(Path.of("/"))).getAddress()
                .isAnyLocalAddress());
    }

    @ParameterizedTest
    @CsvSource({
        "0:0:0:0:0:0:0:1, ::1",
        "0:0:0:0:0:0:0:0, ::",
        "fe80:0:0:0:1:0:0:2%lo, fe80::1:0:0:2",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "1:0:0:2:0:0:0:3, 1:0:0:2::3",
    })
    void ipv6AddressesAreShownShort(String full, String shown) {
        assertEquals(shown, Listener.shortIpv6(full));
    }

    @Test
    void unixPathsAreRelativeToTheWorkingDirectory() throws Exception {
        IncomingUri uri = IncomingUri.parse("unix:run/qevm.sock");
        assertTrue(uri.isUnix());
        assertEquals(UnixDomainSocketAddress.of(Path.of("/work/dir/run/qevm.sock")), uri.bindAddress(Path.of("/work/dir")));
        assertEquals(UnixDomainSocketAddress.of(Path.of("/tmp/q.sock")),
                IncomingUri.parse("unix:/tmp/q.sock").bindAddress(Path.of("/work/dir")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "exec:cat > f        | 'exec:cat > f' is not supported: expected tcp:HOST:PORT or unix:PATH (QEMU's -incoming syntax); for a command, give it to the source instead: migrate \"exec:qevm -f - ...\"",
        "file:/tmp/vm.mig    | 'file:/tmp/vm.mig' is not supported: expected tcp:HOST:PORT or unix:PATH (QEMU's -incoming syntax); for a file, migrate to it and read it with -f FILE",
        "rdma:host:4444      | 'rdma:host:4444' is not supported: expected tcp:HOST:PORT or unix:PATH (QEMU's -incoming syntax)",
        "fd:3                | 'fd:3' is not supported: expected tcp:HOST:PORT or unix:PATH (QEMU's -incoming syntax); for a descriptor, read it with -f /dev/fd/N",
        "defer               | 'defer' is not supported: expected tcp:HOST:PORT or unix:PATH (QEMU's -incoming syntax)",
        "tcp:4444            | 'tcp:4444' has no :PORT: expected tcp:HOST:PORT or unix:PATH",
        "tcp:host:port       | 'tcp:host:port' has port 'port', which is not a number from 0 to 65535: expected tcp:HOST:PORT or unix:PATH",
        "tcp:host:65536      | 'tcp:host:65536' has port '65536', which is not a number from 0 to 65535: expected tcp:HOST:PORT or unix:PATH",
        "tcp:host:+44        | 'tcp:host:+44' has port '+44', which is not a number from 0 to 65535: expected tcp:HOST:PORT or unix:PATH",
        "tcp:host:           | 'tcp:host:' has port '', which is not a number from 0 to 65535: expected tcp:HOST:PORT or unix:PATH",
        "tcp:::1:4444        | 'tcp:::1:4444' has an IPv6 address outside brackets (write tcp:[ADDRESS]:PORT): expected tcp:HOST:PORT or unix:PATH",
        "tcp:[::1]4444       | 'tcp:[::1]4444' has an IPv6 address in brackets followed by :PORT: expected tcp:HOST:PORT or unix:PATH",
        "tcp:host:4444,to=9  | 'tcp:host:4444,to=9' has socket options (',...'), which qevm does not take: expected tcp:HOST:PORT or unix:PATH",
        "unix:               | 'unix:' has an empty socket path: expected tcp:HOST:PORT or unix:PATH",
    })
    void otherTransportsAndBadAddressesAreUsageErrors(String uri, String message) {
        assertEquals("argument --incoming: " + message, usageError("--incoming", uri));
    }

    @Test
    void withOrWithoutAFile() {
        assertEquals("argument --incoming: not allowed with argument -f/--file",
                usageError("-f", "vm.mig", "--incoming", "tcp::4444"));
        assertEquals("one of the arguments -f/--file --incoming is required", usageError("-x"));
        assertEquals("argument --incoming: not allowed with argument --snapshot",
                usageError("--incoming", "tcp::4444", "--snapshot", "1"));
        assertEquals("argument --incoming: not allowed with argument --list-snapshots",
                usageError("--incoming", "tcp::4444", "--list-snapshots"));
    }

    @Test
    void saveAndTimeoutGoWithIncoming() throws Options.UsageException {
        Options options = Options.parse(new String[] {"--inc", "unix:q.sock", "-x", "--save", "raw.mig", "--timeout", "0"});
        assertEquals("raw.mig", options.save());
        assertEquals(0, options.timeoutSeconds());
        assertTrue(options.extract());
        assertEquals("argument --save: only with --incoming", usageError("-f", "vm.mig", "--save", "raw.mig"));
        assertEquals("argument --timeout: only with --incoming", usageError("-f", "vm.mig", "--timeout", "5"));
        assertEquals("argument --save: empty file name", usageError("--incoming", "tcp::1", "--save", ""));
        assertEquals("argument --timeout: expected a number of seconds from 0 to 1000000, found '-1'",
                usageError("--incoming", "tcp::1", "--timeout", "-1"));
        assertEquals("argument --timeout: expected a number of seconds from 0 to 1000000, found '1m'",
                usageError("--incoming", "tcp::1", "--timeout", "1m"));
    }

    @Test
    void aUsageErrorExitsTwoNamingTheHelp() {
        CliRun run = CliRun.inProcess(Path.of("."), java.time.Duration.ofSeconds(30), "--incoming", "exec:cat");
        assertEquals(Main.BAD_USAGE, run.exit());
        assertEquals("", run.outText());
        assertTrue(run.err().startsWith("qevm: error: argument --incoming: 'exec:cat' is not supported"), run.err());
        assertTrue(run.err().endsWith("(see qevm --help)\n"), run.err());
    }
}
