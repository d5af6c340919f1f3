package io.qevm.cli;

import static io.qevm.cli.ExtractInterruptTest.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.qevm.Samples;
import io.qevm.StreamBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qevm -x} into outputs that cannot be written, on real file systems: one line
 * {@code qevm: PATH: cannot write: CAUSE}, PATH the output's final name (never its partial one)
 * and CAUSE the system's (permission denied, read-only file system, not a directory, no space
 * left on device, file too large), exit 1, and nothing left. Then {@code --no-clobber}.
 *
 * <p>Some need root (a tmpfs mounted read-only or small; another user for permission denied):
 * they are skipped, saying why, where that is refused (a container without CAP_SYS_ADMIN).
 */
final class ExtractOutputErrorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    /** pc.ram's used_length in c-pc-loader-data: what its file needs. */
    private static final long PC_RAM = 128L << 20;

    @TempDir
    Path scratch;
    /** Its real path, as the messages name the outputs. */
    private Path work;
    private Path dump;
    private final List<Path> mounts = new ArrayList<>();

    @BeforeEach
    void paths() throws IOException {
        work = scratch.toRealPath();
        dump = Samples.dump("c-pc-loader-data");
    }

    @AfterEach
    void unmount() throws IOException {
        for (Path mount : mounts) {
            ChildCli.succeeds(List.of("umount", "-l", mount.toString()));
        }
    }

    @Test
    void readOnlyFileSystem() throws IOException {
        Path ro = mountTmpfs("ro", "ro,size=1m");
        CliRun run = extract("-o", ro.toString());
        assertError(run, ro.resolve("pc.ram") + ": cannot write: read-only file system");
        assertEquals(List.of(), tree(ro));
    }

    /**
     * A directory the user may not write to: a mode without w for a user, or for root (whom mode
     * bits do not stop) a child JVM run as nobody with setpriv.
     */
    @Test
    void permissionDenied() throws IOException {
        Path locked = Files.createDirectory(work.resolve("locked"));
        Files.writeString(locked.resolve("keep.txt"), "the user's");
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        String expected = locked.resolve("pc.ram") + ": cannot write: permission denied";
        if (!runningAsRoot()) {
            assertError(extract("-o", locked.toString()), expected);
        } else {
            assumeTrue(ChildCli.succeeds(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true")),
                    "root, and setpriv (util-linux) cannot run a command as nobody: mode bits do not stop root");
            // nobody reads the classes and the dump from a copy it may read, runs in a directory it may enter
            Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxr-xr-x"));
            String classPath = worldReadableClassPath(Files.createDirectory(work.resolve("cp")));
            Path copy = Files.copy(dump, work.resolve("dump.mig"));
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
            try (ChildCli child = ChildCli.start(work, List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                    classPath, List.of("-f", copy.toString(), "-x", "-o", locked.toString()))) {
                int status = child.waitFor(TIMEOUT);
                assertError(new CliRun(status, child.out().getBytes(UTF_8), child.err()), expected);
            }
        }
        assertEquals(List.of("keep.txt"), tree(locked));
    }

    @Test
    void outputDirectoryIsARegularFile() throws IOException {
        Path file = Files.writeString(work.resolve("taken"), "a file");
        assertError(extract("-o", "taken"), file + ": cannot write: not a directory");
        assertEquals("a file", Files.readString(file));
    }

    @Test
    void outputDirectoryUnderARegularFile() throws IOException {
        Path file = Files.writeString(work.resolve("taken"), "a file");
        assertError(extract("-o", "taken/sub"), file.resolve("sub") + ": cannot write: " + file + " is not a directory");
        assertEquals("a file", Files.readString(file));
    }

    /** A block's path (/rom@etc/acpi/tables) through a file of the user's (out/rom@etc). */
    @Test
    void blockPathThroughARegularFile() throws IOException {
        Path out = Files.createDirectory(work.resolve("out"));
        Files.writeString(out.resolve("rom@etc"), "a file");
        assertError(extract("-o", "out"), out.resolve("rom@etc/acpi/tables") + ": cannot write: " + out.resolve("rom@etc")
                + " is not a directory");
        assertEquals(List.of("rom@etc"), tree(out));
    }

    /** A 2 MiB tmpfs fills up in pc.ram's loader data: how much of the 128 MiB it needs was written. */
    @Test
    void noSpaceLeftOnDevice() throws IOException {
        Path full = mountTmpfs("full", "size=2m");
        CliRun run = extract("-o", full.toString());
        assertErrorMatches(run, Pattern.quote("qevm: " + full.resolve("pc.ram")
                + ": cannot write: no space left on device (wrote ") + "[1-9][0-9]{5,6}" + Pattern.quote(" of " + PC_RAM
                + " bytes)"));
        assertEquals(List.of(), tree(full), "the space given back: no partial file");
    }

    /**
     * On a stream, an XBZRLE page reads its last copy back from the extracted file, writing the
     * pages gathered before it first: when the disk is full then, the failure comes through the
     * reader, and is still the output's (it was reported as "INPUT: cannot read").
     */
    @Test
    void noSpaceLeftOnDeviceWhileTheReaderReadsAPageBack() throws IOException {
        Path full = mountTmpfs("full", "size=128k");
        int pages = 48; // 192 KiB gathered, written at once before the XBZRLE page is decoded
        StreamBuilder stream = StreamBuilder.stream().configuration("pc").targetPageBits(12)
                .sectionStart(2, "ram", 0, 4).memSize(1 << 20).block("pc.ram", 1 << 20)
                .page(0, "pc.ram", StreamBuilder.pattern(4096, 0));
        for (int i = 1; i < pages; i++) {
            stream.page(i * 4096L, null, StreamBuilder.pattern(4096, i));
        }
        byte[] bytes = stream.xbzrlePage(0, null, new byte[] {0, 1, 0x7f}).eos().footer(2).eof()
                .description("{\"page_size\": 4096, \"devices\": []}").toByteArray();
        Path input = Files.write(work.resolve("xbzrle.mig"), bytes);
        CliRun run = CliRun.throughFifo(work, work.resolve("dump.fifo"), input, TIMEOUT, List.of("-x", "-o", full.toString()));
        assertError(run, full.resolve("pc.ram") + ": cannot write: no space left on device (wrote 0 of 1048576 bytes)");
        assertEquals(List.of(), tree(full));
    }

    /** A file size limit ({@code ulimit -f}, 1 MiB) below pc.ram's 128 MiB: EFBIG, as the system names it. */
    @Test
    void fileTooLarge() throws IOException {
        Path out = work.resolve("out");
        try (ChildCli child = ChildCli.start(work, List.of("bash", "-c", "ulimit -f 1024 && exec \"$@\"", "bash"),
                List.of("-f", dump.toString(), "-x", "-o", "out"))) {
            int status = child.waitFor(TIMEOUT);
            assertError(new CliRun(status, child.out().getBytes(UTF_8), child.err()),
                    out.resolve("pc.ram") + ": cannot write: file too large (wrote 0 of " + PC_RAM + " bytes)");
        }
        assertEquals(List.of(), tree(out), "the output directory the run made is gone too");
    }

    /**
     * {@code --no-clobber}: an output already there (pc.ram from an earlier run, or state.json,
     * the last file written) fails the run, naming it, before anything is replaced; the earlier
     * files stay as they were, nothing is added. Into an empty directory it writes as without.
     */
    @Test
    void noClobberRefusesToReplaceAFile() throws IOException {
        CliRun first = extract("-o", "out", "--no-clobber");
        assertEquals(0, first.exit(), first.err());
        Path out = work.resolve("out");
        List<String> outputs = tree(out);
        Files.writeString(out.resolve("pc.ram"), "the earlier pc.ram");
        assertError(extract("-o", "out", "--no-clobber"), out.resolve("pc.ram") + ": cannot write: file exists");
        assertEquals(outputs, tree(out));
        assertEquals("the earlier pc.ram", Files.readString(out.resolve("pc.ram")));

        Path only = Files.createDirectory(work.resolve("only"));
        Files.writeString(only.resolve("state.json"), "{}");
        assertError(extract("-o", "only", "--no-clobber"), only.resolve("state.json") + ": cannot write: file exists");
        assertEquals(List.of("state.json"), tree(only));
        assertEquals("{}", Files.readString(only.resolve("state.json")));
    }

    @Test
    void noClobberIsForExtractOnlyAndInTheHelp() {
        CliRun run = CliRun.inProcess(work, TIMEOUT, "-f", dump.toString(), "--no-clobber");
        assertEquals(2, run.exit());
        assertEquals("qevm: error: argument --no-clobber: only with -x or --save (see qevm --help)" + System.lineSeparator(), run.err());
        CliRun help = CliRun.inProcess(work, TIMEOUT, "--help");
        assertTrue(help.outText().contains("[--no-clobber]") && help.outText().contains("\n  --no-clobber "),
                help.outText());
    }

    // ================================================================== helpers

    private CliRun extract(String... args) {
        List<String> all = new ArrayList<>(List.of("-f", dump.toString(), "-x"));
        all.addAll(List.of(args));
        return CliRun.inProcess(work, TIMEOUT, all.toArray(String[]::new));
    }

    /** Exit 1 and exactly the line {@code qevm: MESSAGE} on stderr. */
    private static void assertError(CliRun run, String message) {
        assertEquals(1, run.exit(), "exit status; stderr: " + run.err());
        assertEquals("qevm: " + message + System.lineSeparator(), run.err());
    }

    private static void assertErrorMatches(CliRun run, String regex) {
        assertEquals(1, run.exit(), "exit status; stderr: " + run.err());
        assertTrue(run.err().matches(regex + "\\R"), "stderr " + run.err() + " matches " + regex);
    }

    /** A tmpfs mounted at {@code name} with {@code options}; the test is skipped where mounting is refused. */
    private Path mountTmpfs(String name, String options) throws IOException {
        Path at = Files.createDirectory(work.resolve(name));
        boolean mounted = ChildCli.succeeds(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", at.toString()));
        assumeTrue(mounted, "mount -t tmpfs refused: it needs root with CAP_SYS_ADMIN (not in an unprivileged container)");
        mounts.add(at);
        return at;
    }

    /** Whether this JVM runs as root: the owner of a file it creates. */
    private boolean runningAsRoot() throws IOException {
        Path probe = Files.createTempFile(work, "uid", "");
        try {
            return ((Integer) Files.getAttribute(probe, "unix:uid")) == 0;
        } finally {
            Files.delete(probe);
        }
    }

    /** This JVM's class path, copied where every user may read it (root's ~/.m2 is private). */
    private static String worldReadableClassPath(Path into) throws IOException {
        List<String> entries = new ArrayList<>();
        int index = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path from = Path.of(entry);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = into.resolve(index++ + "-" + from.getFileName());
            try (Stream<Path> paths = Files.walk(from)) {
                for (Path path : paths.toList()) {
                    Path target = to.resolve(from.relativize(path).toString());
                    if (Files.isDirectory(path)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(path, target);
                    }
                }
            }
            entries.add(to.toString());
        }
        try (Stream<Path> paths = Files.walk(into)) {
            for (Path path : paths.toList()) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path)
                        ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return entries.stream().collect(Collectors.joining(java.io.File.pathSeparator));
    }
}
