package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CLI as a user runs it on a pipe: {@code xz -dc dump.mig.xz | qevm -f - ...}. Each test
 * starts a JVM of its own ({@code java -cp <this class path> io.qevm.cli.Main}, on the running
 * Java 25) and writes the sample into its standard input, a real OS pipe: the CLI reads it
 * forward, once, through its window, holds the device state until the description at the end
 * is found, and applies XBZRLE deltas to the pages it kept (the extractor's files, -m's spool).
 * Its output must be the sample's expected one, byte for byte ({@code expected/*.json}, and
 * {@code expected/extract.sha256} for -x, which must also print the names a run on the file
 * prints). {@code -f FIFO} is checked the same way on two samples.
 */
final class StdinPipeTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(300);

    /** Samples with the encodings a pipe makes hard: XBZRLE, a libvirt header, mapped-ram (140 MB). */
    private static final List<String> SAMPLES = List.of("a-pc-paused", "i-live-xbzrle", "k-libvirt-save",
            "n-mapped-ram");

    private static final List<List<String>> MODES = List.of(
            List.of("-d", "state"), List.of("-d", "desc"), List.of("-d", "state", "-m"), List.of("-x"));

    @TempDir
    Path scratch;

    static Stream<Arguments> samplesAndModes() {
        return SAMPLES.stream().flatMap(sample -> MODES.stream()
                .map(mode -> Arguments.of(sample, String.join(" ", mode))));
    }

    @ParameterizedTest(name = "{0} -f - {1}")
    @MethodSource("samplesAndModes")
    void standardInputGivesTheExpectedOutput(String sample, String mode) throws IOException {
        Path work = Files.createDirectory(scratch.resolve("work"));
        List<String> args = new ArrayList<>(List.of("-f", "-"));
        args.addAll(Arrays.asList(mode.split(" ")));
        CliRun run = CliRun.childWithStdin(work, Samples.dump(sample), TIMEOUT, args);
        checkAgainstExpected(sample, mode, work, run);
    }

    @Test
    void fifoGivesTheExpectedStateWithMemory() throws IOException {
        Path work = Files.createDirectory(scratch.resolve("work"));
        CliRun run = CliRun.childThroughFifo(work, scratch.resolve("dump.fifo"), Samples.dump("i-live-xbzrle"), TIMEOUT,
                List.of("-d", "state", "-m"));
        checkAgainstExpected("i-live-xbzrle", "-d state -m", work, run);
    }

    @Test
    void fifoGivesTheExpectedExtraction() throws IOException {
        Path work = Files.createDirectory(scratch.resolve("work"));
        CliRun run = CliRun.childThroughFifo(work, scratch.resolve("dump.fifo"), Samples.dump("n-mapped-ram"), TIMEOUT, List.of("-x"));
        checkAgainstExpected("n-mapped-ram", "-x", work, run);
    }

    /**
     * Memory stays bounded by the device state, not by guest RAM (EXPECTED.md), on a pipe too:
     * with a 32 MiB heap the CLI extracts n-mapped-ram's 140 MB stream and prints
     * i-live-xbzrle's -m (pages in the spool file, XBZRLE applied to them) as with 512 MiB.
     */
    @Test
    void standardInputInASmallHeap() throws IOException {
        Path work = Files.createDirectory(scratch.resolve("work"));
        assertTrue(Files.size(Samples.dump("n-mapped-ram")) > 128L << 20, "the stream is larger than the heap");
        CliRun extract = CliRun.childWithStdin(work, Samples.dump("n-mapped-ram"), TIMEOUT, "32m", List.of("-f", "-", "-x"));
        checkAgainstExpected("n-mapped-ram", "-x", work, extract);
        CliRun memory = CliRun.childWithStdin(scratch, Samples.dump("i-live-xbzrle"), TIMEOUT, "32m",
                List.of("-f", "-", "-d", "state", "-m"));
        checkAgainstExpected("i-live-xbzrle", "-d state -m", scratch, memory);
    }

    /**
     * {@code --ram-only} on standard input: a dump without a description (sample j) gives the
     * RAM blocks a run on the file gives, and the same note on stderr.
     */
    @Test
    void standardInputRamOnly() throws IOException {
        Path onPipe = Files.createDirectory(scratch.resolve("pipe"));
        Path onFile = Files.createDirectory(scratch.resolve("file"));
        Path dump = Samples.dump("j-suppress-vmdesc");
        CliRun piped = CliRun.childWithStdin(onPipe, dump, TIMEOUT, List.of("-f", "-", "-x", "--ram-only"));
        CliRun file = CliRun.inProcess(onFile, TIMEOUT, "-f", dump.toString(), "-x", "--ram-only");
        assertEquals(0, file.exit(), file.err());
        assertEquals(0, piped.exit(), piped.err());
        assertEquals(file.outText(), piped.outText(), "the names printed");
        assertEquals("qevm: -: no JSON VM description: extracted RAM only, device state was not decoded\n", piped.err());
        assertEquals(SampleConformanceTest.listing(onFile), SampleConformanceTest.listing(onPipe), "the files written");
        assertEquals(6, SampleConformanceTest.listing(onPipe).size(), "the six RAM blocks");
    }

    /**
     * A dump without a JSON description (sample j, suppress-vmdesc) on standard input: the reader
     * learns it only at the end of the stream; exit 1 with the one-line error expected/error
     * matches, as on the file, and nothing extracted.
     */
    @Test
    void standardInputWithoutDescriptionFailsCleanly() throws IOException {
        Path work = Files.createDirectory(scratch.resolve("work"));
        String regex = Files.readString(Samples.folder("j-suppress-vmdesc").resolve("expected/error")).strip();
        for (List<String> mode : MODES) {
            List<String> args = new ArrayList<>(List.of("-f", "-"));
            args.addAll(mode);
            CliRun run = CliRun.childWithStdin(work, Samples.dump("j-suppress-vmdesc"), TIMEOUT, args);
            String what = "-f - " + String.join(" ", mode) + ": ";
            assertEquals(1, run.exit(), what + "exit code; stderr: " + run.err());
            List<String> lines = run.err().lines().toList();
            assertEquals(1, lines.size(), what + "one line on stderr: " + run.err());
            assertTrue(lines.getFirst().startsWith("qevm: -: "), what + lines.getFirst());
            assertTrue(Pattern.compile(regex).matcher(lines.getFirst()).find(), what + lines.getFirst());
            try (Stream<Path> left = Files.list(work)) {
                assertEquals(List.of(), left.toList(), what + "files left in the working directory");
            }
        }
    }

    /** The run succeeded and printed (or, for -x, wrote) what the sample's expected/ folder holds. */
    private void checkAgainstExpected(String sample, String mode, Path work, CliRun run) throws IOException {
        if (run.exit() != 0) {
            fail(sample + " " + mode + ": exit " + run.exit() + ": " + run.err());
        }
        Path expected = Samples.folder(sample).resolve("expected");
        if (mode.equals("-x")) {
            List<String> problems = SampleConformanceTest.compare(
                    SampleConformanceTest.readListing(expected.resolve("extract.sha256")),
                    SampleConformanceTest.listing(work));
            assertEquals(List.of(), problems, sample + " -x: the files written");
            CliRun onFile = CliRun.inProcess(Files.createDirectory(scratch.resolve("file-run")), TIMEOUT,
                    "-f", Samples.dump(sample).toString(), "-x");
            assertEquals(0, onFile.exit(), onFile.err());
            assertEquals(onFile.outText(), run.outText(), sample + " -x: the names printed, as on the file");
            return;
        }
        String file = switch (mode) {
            case "-d state" -> "state.json";
            case "-d desc" -> "desc.json";
            default -> "state-m.json";
        };
        Path want = Files.exists(expected.resolve(file)) ? expected.resolve(file) : expected.resolve(file + ".xz");
        byte[] wanted;
        String source;
        if (Files.exists(want)) {
            wanted = Samples.read(want);
            source = want.toString();
        } else {
            // no reference output for this mode (n-mapped-ram has no state-m.json): the file's
            List<String> args = new ArrayList<>(List.of("-f", Samples.dump(sample).toString()));
            args.addAll(Arrays.asList(mode.split(" ")));
            CliRun onFile = CliRun.inProcess(scratch, TIMEOUT, args.toArray(String[]::new));
            assertEquals(0, onFile.exit(), onFile.err());
            wanted = onFile.out();
            source = "the output of a run on the file";
        }
        String difference = SampleConformanceTest.firstDifference(wanted, run.out());
        assertFalse(difference != null, () -> sample + " " + mode + ": output differs from " + source + "\n"
                + difference);
        assertEquals("", run.err(), sample + " " + mode + ": stderr");
    }
}
