package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import io.qevm.StreamBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Errors and notes that tell the user what to do: a dump without a JSON description (use
 * --ram-only), a page size the dump contradicts, an empty input.
 */
final class CliHintsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String NO_DESCRIPTION = "expected a JSON VM description (QEMU_VM_VMDESCRIPTION record) at"
            + " the end of the file, found none (saved with suppress-vmdesc=on, or the file is truncated): device"
            + " state cannot be decoded";

    @TempDir
    Path work;

    private CliRun qevm(String... args) {
        return CliRun.inProcess(work, TIMEOUT, args);
    }

    private static List<String> with(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all;
    }

    // ------------------------------------------------------------------ no description

    /**
     * Without a description only -x can do something (extract the RAM blocks): -x is told to add
     * --ram-only; -d state (with -m or not) and -d desc, which have nothing to print, are told
     * that -x --ram-only extracts the RAM. On a file and on standard input alike.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-x", "-d state", "-d state -m", "-d desc"})
    void noDescriptionSuggestsRamOnly(String mode) throws IOException {
        Path dump = Samples.dump("j-suppress-vmdesc");
        String hint = mode.equals("-x") ? "; extract RAM only with --ram-only"
                : "; its RAM alone can be extracted with -x --ram-only";
        CliRun onFile = qevm(with(List.of("-f", dump.toString()), mode.split(" ")).toArray(String[]::new));
        assertEquals(1, onFile.exit());
        assertEquals("qevm: " + dump + ": at byte 0x7c7d7 (509911): " + NO_DESCRIPTION + hint + "\n", onFile.err());
        CliRun piped = CliRun.childWithStdin(work, dump, TIMEOUT, with(List.of("-f", "-"), mode.split(" ")));
        assertEquals(1, piped.exit());
        assertEquals("qevm: -: at byte 0x7c7d7 (509911): " + NO_DESCRIPTION + hint + "\n", piped.err());
    }

    /** With --ram-only the page size comes from the RAM records (x86 sends no target-page-bits). */
    @Test
    void ramOnlyTellsThePageSizeFromTheRecords() throws IOException {
        Path dump = Samples.dump("j-suppress-vmdesc");
        CliRun run = qevm("-f", dump.toString(), "-x", "--ram-only", "-o", "out");
        assertEquals(0, run.exit(), run.err());
        assertEquals("qevm: " + dump + ": no JSON VM description: extracted RAM only, device state was not decoded\n",
                run.err());
        assertEquals(6, SampleConformanceTest.listing(work.resolve("out")).size(), "the six RAM blocks");
    }

    // ------------------------------------------------------------------ the page size given

    /**
     * --page-size that the dump's records contradict (j-suppress-vmdesc's pages are 4 KiB): the
     * run reads them with their own size, writes what it writes without the option, and says
     * the option was not used, naming both sizes. Too large (odd page addresses rule it out) and
     * too small (its first data page does), on a file and on a pipe.
     */
    @ParameterizedTest
    @ValueSource(ints = {1024, 2048, 8192, 65536})
    void aPageSizeTheRecordsContradictIsNamed(int given) throws IOException {
        Path dump = Samples.dump("j-suppress-vmdesc");
        CliRun plain = qevm("-f", dump.toString(), "-x", "--ram-only", "-o", "plain");
        assertEquals(0, plain.exit(), plain.err());
        for (boolean pipe : new boolean[] {false, true}) {
            String out = pipe ? "piped" : "given";
            List<String> args = List.of("-f", pipe ? "-" : dump.toString(), "-x", "--ram-only", "-o", out,
                    "--page-size", Integer.toString(given));
            CliRun run = pipe ? CliRun.childWithStdin(work, dump, TIMEOUT, args) : qevm(args.toArray(String[]::new));
            assertEquals(0, run.exit(), run.err());
            String name = pipe ? "-" : dump.toString();
            assertEquals("qevm: " + name + ": no JSON VM description: extracted RAM only, device state was not decoded\n"
                    + "qevm: " + name + ": --page-size " + given + " not used: the dump's RAM pages are 4096 bytes (as"
                    + " its RAM records read)\n", run.err());
            assertEquals(SampleConformanceTest.listing(work.resolve("plain")), SampleConformanceTest.listing(work.resolve(out)),
                    "the files written");
        }
    }

    /** A file's description states its page size: another one given is not used, and the run says so. */
    @Test
    void aPageSizeTheDescriptionContradictsIsNamed() {
        Path dump = Samples.dump("a-pc-paused");
        CliRun plain = qevm("-f", dump.toString(), "-d", "state", "-m");
        CliRun run = qevm("-f", dump.toString(), "-d", "state", "-m", "--page-size", "8192");
        assertEquals(0, run.exit(), run.err());
        assertEquals(plain.outText(), run.outText());
        assertEquals("qevm: " + dump + ": --page-size 8192 not used: the dump's RAM pages are 4096 bytes (its JSON VM"
                + " description says so)\n", run.err());
        CliRun right = qevm("-f", dump.toString(), "-d", "state", "--page-size", "4096");
        assertEquals("", right.err(), "the right size: nothing to say");
    }

    /**
     * A size given too small whose first data page lies past what the probe reads ahead (1 MiB
     * of zero-page records first): the records seem to agree, it is taken, and the data page
     * fails to read. The one error line says the size given may be wrong.
     */
    @Test
    void aWrongPageSizeIsNamedInTheErrorItCauses() throws IOException {
        int zeroPages = 120_000;
        long length = (zeroPages + 16L) * 4096;
        StreamBuilder b = StreamBuilder.stream();
        b.sectionStart(1, "ram", 0, 4).memSize(length).block("pc.ram", length).eos().footer(1);
        b.sectionEnd(1).zeroPage(0, "pc.ram", 0);
        for (long n = 1; n < zeroPages; n++) {
            b.zeroPage(n * 4096, null, 0);
        }
        byte[] data = new byte[4096];
        data[2048 + 7] = 0x01;
        Path dump = Files.write(work.resolve("zeros.mig"), b.page(zeroPages * 4096L, null, data).eos().footer(1).eof()
                .toByteArray());
        CliRun run = qevm("-f", dump.toString(), "-x", "--ram-only", "-o", "out", "--page-size", "2048");
        assertEquals(1, run.exit());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("qevm: " + dump + ": at byte 0x"), run.err());
        assertTrue(run.err().endsWith("found flags 0x1; the stream does not state its page size, and the one given,"
                + " 2048 bytes (--page-size), may be wrong\n"), run.err());
        CliRun told = qevm("-f", dump.toString(), "-x", "--ram-only", "-o", "told");
        assertEquals(0, told.exit(), "without it, the records tell 4 KiB: " + told.err());
    }

    // ------------------------------------------------------------------ empty

    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-d desc", "-d state -m", "-x"})
    void anEmptyFile(String mode) throws IOException {
        Files.write(work.resolve("empty.mig"), new byte[0]);
        CliRun run = qevm(with(List.of("-f", "empty.mig"), mode.split(" ")).toArray(String[]::new));
        assertEquals(1, run.exit());
        assertEquals("qevm: empty.mig: empty file\n", run.err());
        try (Stream<Path> left = Files.list(work)) {
            assertEquals(List.of(work.resolve("empty.mig")), left.toList());
        }
    }

    @Test
    void anEmptyStandardInput() throws IOException {
        CliRun run = CliRun.childWithStdin(work, null, TIMEOUT, List.of("-f", "-"));
        assertEquals(1, run.exit());
        assertEquals("qevm: -: empty input\n", run.err());
        assertEquals("", run.outText());
    }
}
