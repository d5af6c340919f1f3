package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.CleanFailure;
import io.qevm.HostileStreams;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CLI's failures: unreadable inputs, bad usage, outputs that cannot be written, and valid but
 * unusual streams that its consumers must not trip on. Every failure is exit 1 (input, output) or
 * 2 (usage) with exactly one line on stderr, no stack trace, and no "internal error" (the catch-all
 * for a bug); nothing hangs.
 */
final class CliErrorTest {

    private static final long TIMEOUT_SECONDS = 30;

    @TempDir
    Path work;
    private Path dump;

    @BeforeEach
    void aGoodDump() throws IOException {
        dump = Files.write(work.resolve("good.mig"), HostileStreams.ramBlocks("pc.ram"));
    }

    record Run(int code, String stdout, String stderr) {
    }

    private Run run(String... args) {
        return run(new ByteArrayOutputStream(), args);
    }

    /** Runs the CLI in {@link #work} on a thread of its own, so that a hang is reported, not suffered. */
    private Run run(OutputStream stdout, String... args) {
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "qevm-cli");
            thread.setDaemon(true);
            return thread;
        });
        try {
            Future<Integer> code = executor.submit(() -> Main.run(work, new PrintStream(stdout, true, UTF_8),
                    new PrintStream(stderr, true, UTF_8), args));
            return new Run(code.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), stdout.toString(), stderr.toString(UTF_8));
        } catch (TimeoutException e) {
            throw new AssertionError("qevm " + String.join(" ", args) + " did not return within " + TIMEOUT_SECONDS
                    + " s (a hang)");
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        } finally {
            executor.shutdownNow();
        }
    }

    private static void assertFailure(int expectedCode, Run run) {
        assertAll(
                () -> assertEquals(expectedCode, run.code(), () -> "exit code; stderr: " + run.stderr()),
                () -> ExtractSafetyTest.assertOneLineError(new ExtractSafetyTest.Run(run.code(), run.stdout(),
                        run.stderr())));
    }

    private static boolean runningAsRoot(Path somewhere) throws IOException {
        Path probe = Files.createTempFile(somewhere, "uid", "");
        try {
            return ((Integer) Files.getAttribute(probe, "unix:uid")) == 0;
        } finally {
            Files.delete(probe);
        }
    }

    // ================================================================== inputs that cannot be read

    @Test
    void inputIsADirectory() throws IOException {
        Files.createDirectory(work.resolve("dir.mig"));
        Run run = run("-f", "dir.mig");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("dir.mig"), run.stderr());
    }

    @Test
    void inputIsMissing() {
        Run run = run("-f", "missing.mig", "-d", "desc");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("missing.mig"), run.stderr());
    }

    @Test
    void inputCannotBeRead() throws IOException {
        assumeFalse(runningAsRoot(work), "root reads any file");
        Path locked = Files.write(work.resolve("locked.mig"), HostileStreams.ramBlocks("pc.ram"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
        Run run = run("-f", "locked.mig");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("locked.mig"), run.stderr());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-d desc", "-d state -m", "-x"})
    void inputIsEmpty(String mode) throws IOException {
        Files.write(work.resolve("empty.mig"), new byte[0]);
        List<String> args = new ArrayList<>(List.of("-f", "empty.mig"));
        args.addAll(List.of(mode.split(" ")));
        assertFailure(1, run(args.toArray(String[]::new)));
        assertFalse(Files.exists(work.resolve("desc.json")));
    }

    @Test
    void inputIsDevNull() {
        assumeTrue(Files.exists(Path.of("/dev/null")));
        assertFailure(1, run("-f", "/dev/null"));
    }

    /**
     * A FIFO is read as a stream (opening it waits for a writer, as {@code cat} does); one whose
     * writer goes away without writing a byte is an empty input: exit 1, one line, as
     * {@code /dev/null}.
     */
    @Test
    void inputIsAFifoClosedEmpty() throws Exception {
        Path fifo = work.resolve("fifo.mig");
        Path empty = Files.createFile(work.resolve("empty"));
        CliRun fifoRun = CliRun.throughFifo(work, fifo, empty, Duration.ofSeconds(TIMEOUT_SECONDS),
                List.of("-d", "state"));
        Run run = new Run(fifoRun.exit(), fifoRun.outText(), fifoRun.err());
        assertFailure(1, run);
        assertTrue(run.stderr().startsWith("qevm: " + fifo + ": "), run.stderr());
    }

    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-d desc", "-d state -m", "-x"})
    void inputIsTruncated(String mode) throws IOException {
        Files.write(work.resolve("cut.mig"), HostileStreams.truncatedInRam());
        List<String> args = new ArrayList<>(List.of("-f", "cut.mig", "-o", "out"));
        if (!mode.equals("-x")) {
            args.subList(2, 4).clear();
        }
        args.addAll(List.of(mode.split(" ")));
        Run run = run(args.toArray(String[]::new));
        if (mode.equals("-d desc")) {
            assertEquals(0, run.code(), "the description alone is intact: " + run.stderr());
            return;
        }
        assertFailure(1, run);
        assertTrue(run.stderr().contains("cut.mig") && run.stderr().contains("at byte"), run.stderr());
    }

    // ================================================================== bad usage

    static Stream<Arguments> badUsage() {
        return Stream.of(
                Arguments.of((Object) new String[0]),
                Arguments.of((Object) new String[] {"-m"}),
                Arguments.of((Object) new String[] {"-f"}),
                Arguments.of((Object) new String[] {"--file"}),
                Arguments.of((Object) new String[] {"--file="}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "--bogus"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-q"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-mq"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "positional"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-d", "foo"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-d"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "--memory=yes"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-o", "out"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "--ram-only"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-x", "--ram-only", "--page-size", "3"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-x", "--ram-only", "--page-size", "-4096"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-x", "--ram-only", "--page-size", "1e3"}),
                Arguments.of((Object) new String[] {"-f", "good.mig", "-x", "--ram-only", "--page-size",
                    "99999999999999999999"}),
                Arguments.of((Object) new String[] {"-f", "missing.mig", "-d", "foo"}));
    }

    /**
     * {@code --page-size} is no longer tied to {@code --ram-only}: it gives the page size of a dump
     * that does not say it. A file that says it (a-pc-paused's description: page_size 4096)
     * ignores another value; on a FIFO the right value changes nothing.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-d state -m", "-x"})
    void pageSizeWithoutRamOnly(String mode) throws IOException {
        Path sample = io.qevm.Samples.dump("a-pc-paused");
        List<String> args = List.of(mode.split(" "));
        CliRun plain = cliOnFile(sample, args);
        assertEquals(0, plain.exit(), plain.err());
        CliRun onFile = cliOnFile(sample, Stream.concat(args.stream(), Stream.of("--page-size", "8192")).toList());
        assertEquals(0, onFile.exit(), onFile.err());
        assertEquals(plain.outText(), onFile.outText(), "on the file, --page-size 8192");
        CliRun onFifo = CliRun.throughFifo(work, work.resolve("dump.fifo"), sample, Duration.ofSeconds(TIMEOUT_SECONDS),
                Stream.concat(args.stream(), Stream.of("--page-size", "4096")).toList());
        assertEquals(0, onFifo.exit(), onFifo.err());
        assertEquals(plain.outText(), onFifo.outText(), "on a FIFO, --page-size 4096");
    }

    /**
     * A wrong --page-size on a FIFO: the file ignores the option (its description gives the
     * size); the stream tries it at the first page record, finds that the records do not read as
     * such pages, and tells the size from them instead: the same output.
     */
    @Test
    void wrongPageSizeOnAFifoIsNotTrustedOverTheDump() throws IOException {
        Path sample = io.qevm.Samples.dump("a-pc-paused");
        CliRun plain = cliOnFile(sample, List.of("-d", "state", "-m"));
        CliRun onFifo = CliRun.throughFifo(work, work.resolve("dump.fifo"), sample, Duration.ofSeconds(TIMEOUT_SECONDS),
                List.of("-d", "state", "-m", "--page-size", "8192"));
        assertEquals(0, onFifo.exit(), onFifo.err());
        assertEquals(plain.outText(), onFifo.outText());
    }

    private CliRun cliOnFile(Path dump, List<String> args) {
        return CliRun.inProcess(work, Duration.ofSeconds(TIMEOUT_SECONDS),
                Stream.concat(Stream.of("-f", dump.toString()), args.stream()).toArray(String[]::new));
    }

    @ParameterizedTest
    @MethodSource("badUsage")
    void badUsageExits2(String[] args) {
        Run run = run(args);
        assertFailure(2, run);
        assertTrue(run.stderr().startsWith("qevm: error: "), run.stderr());
        assertEquals("", run.stdout());
    }

    // ================================================================== outputs that cannot be written

    @Test
    void outputDirectoryIsAFile() throws IOException {
        Files.writeString(work.resolve("taken"), "a file");
        Run run = run("-f", "good.mig", "-x", "-o", "taken");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("taken"), run.stderr());
        assertEquals("a file", Files.readString(work.resolve("taken")));
    }

    @Test
    void outputDirectoryUnderAFile() throws IOException {
        Files.writeString(work.resolve("taken"), "a file");
        Run run = run("-f", "good.mig", "-x", "-o", "taken/sub");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("taken"), run.stderr());
    }

    @Test
    void outputDirectoryIsReadOnly() throws IOException {
        assumeFalse(runningAsRoot(work), "root writes anywhere");
        Path locked = Files.createDirectory(work.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        Run run = run("-f", "good.mig", "-x", "-o", "locked");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("locked"), run.stderr());
    }

    /** stdout that fails every write, as a closed pipe or a full disk does. */
    private static final class FailingStream extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            throw new IOException("No space left on device");
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            throw new IOException("No space left on device");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-d desc", "-d state -m"})
    void stdoutFails(String mode) {
        List<String> args = new ArrayList<>(List.of("-f", "good.mig"));
        args.addAll(List.of(mode.split(" ")));
        Run run = run(new FailingStream(), args.toArray(String[]::new));
        assertFailure(1, run);
        assertTrue(run.stderr().contains("<stdout>"), run.stderr());
    }

    /**
     * {@code -x} prints each file's name as it goes: when that fails the run fails (exit 1), and
     * a failed -x leaves no file under its final name.
     */
    @Test
    void stdoutFailsDuringExtraction() throws IOException {
        Run run = run(new FailingStream(), "-f", "good.mig", "-x", "-o", "out");
        assertFailure(1, run);
        assertTrue(run.stderr().contains("<stdout>"), run.stderr());
        // the output directory the run made is removed too
        assertEquals(List.of(), io.qevm.OutputFiles.files(work.resolve("out")), "files left by a failed -x");
    }

    // ================================================================== valid streams the consumers must handle

    /**
     * The reference keys RAM, htab and storage-attribute sections by (idstr, instance 0); with
     * another instance the idstr is an ordinary device, described in the JSON like any other.
     */
    @ParameterizedTest
    @ValueSource(strings = {"ram", "spapr/htab", "s390-storage_attributes"})
    void deviceWithTheIdstrOfAnIterativeSection(String name) throws IOException {
        Files.write(work.resolve("dev.mig"), HostileStreams.deviceNamedLikeAnIterativeSection(name));
        Run run = run("-f", "dev.mig");
        assertEquals(0, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertTrue(run.stdout().contains("\"x\": \"0x2a\""), run.stdout());
    }

    /**
     * Pages are tracked by 40-bit page numbers: a block of 2^41 pages (8 PiB with 4 KiB pages) is
     * refused when it is listed, and a page just under the bound keeps its block and address in -m.
     */
    @Test
    void memoryDumpOfPagesNearThe2To40PageBound() throws IOException {
        Files.write(work.resolve("huge.mig"), HostileStreams.oneBlock(1L << 53, 1L << 52));
        Run refused = run("-f", "huge.mig", "-d", "state", "-m");
        assertEquals(1, refused.code(), () -> "exit code; stderr: " + refused.stderr());
        assertTrue(refused.stderr().contains("too many pages in RAM block 'pc.ram'"), refused.stderr());

        long address = (1L << 51) - 4096;
        Files.write(work.resolve("large.mig"), HostileStreams.oneBlock(1L << 51, address));
        Run run = run("-f", "large.mig", "-d", "state", "-m");
        assertEquals(0, run.code(), () -> "exit code; stderr: " + run.stderr());
        assertTrue(run.stdout().contains("\"pc.ram (0x0007fffffffff000)\""), run.stdout());
    }

    /**
     * A 274-byte stream whose description makes one record 16 Mi empty structs (the reader's
     * default maxEmptyValues): {@code -d state} builds a map per struct and runs out of a 256 MB
     * heap. The CLI must refuse it (a lower bound) or print it, not run out of memory. Run in a
     * JVM of its own, so that running out of memory cannot take the test JVM with it.
     */
    @Test
    void emptyStructsDoNotExhaustTheHeap() throws Exception {
        Path file = Files.write(work.resolve("empty-structs.mig"), HostileStreams.emptyStructs(16 << 20));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "-f", file.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(work.resolve("stderr.txt").toFile())
                .start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("qevm -f empty-structs.mig did not finish within 120 s");
        }
        String err = Files.readString(work.resolve("stderr.txt"));
        assertFalse(err.contains("out of memory"), err);
        if (process.exitValue() != 0) {
            assertFailure(1, new Run(process.exitValue(), "", err));
        }
    }

    /** Every real sample's first kilobyte, with its description: a clean failure in every mode. */
    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-d state -m", "-x"})
    void realSampleCutShort(String mode) throws IOException {
        byte[] sample = CleanFailure.sample("a-pc-paused");
        int description = CleanFailure.descriptionRecordOffset(sample);
        byte[] cut = CleanFailure.cutWithTrailer(sample, 1024,
                java.util.Arrays.copyOfRange(sample, description, sample.length));
        Files.write(work.resolve("cut.mig"), cut);
        List<String> args = new ArrayList<>(List.of("-f", "cut.mig"));
        args.addAll(List.of(mode.split(" ")));
        if (mode.equals("-x")) {
            args.addAll(List.of("-o", "out"));
        }
        Run run = run(args.toArray(String[]::new));
        assertFailure(1, run);
        assertTrue(run.stderr().contains("at byte 0x"), run.stderr());
        if (mode.equals("-x")) {
            assertEquals(List.of(), io.qevm.OutputFiles.files(work.resolve("out")));
        }
    }
}
