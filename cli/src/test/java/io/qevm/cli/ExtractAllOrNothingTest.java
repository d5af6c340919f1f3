package io.qevm.cli;

import static io.qevm.OutputFiles.files;
import static io.qevm.OutputFiles.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qevm.CleanFailure;
import io.qevm.Samples;
import io.qevm.StreamBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code qevm -x} all or nothing, end to end (PageExtractorTest checks the extractor alone): a
 * run that fails leaves no file in the output directory, neither under a final name nor as a
 * {@code .partial}; one that succeeds leaves the final names only. Each runs on the dump as a
 * file and as a FIFO ({@code -f FIFO}): on a stream the description comes last, so the blocks'
 * files are made before the reader knows whether the dump is whole, and their names are printed
 * only once it knows there is a description.
 */
final class ExtractAllOrNothingTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int PAGE = 4096;

    /** How the CLI gets the dump. */
    enum Input {
        FILE, FIFO
    }

    @TempDir
    Path scratch;

    /** The CLI on a real dump whose middle was cut out (its description kept): exit 1, no files. */
    @ParameterizedTest
    @EnumSource(Input.class)
    void failureOnATruncatedSampleLeavesNothing(Input input) throws IOException {
        byte[] full = Files.readAllBytes(Samples.dump("c-pc-loader-data"));
        byte[] cut = CleanFailure.cutWithTrailer(full, 3 << 20, // inside pc.ram's loader data
                Arrays.copyOfRange(full, CleanFailure.descriptionRecordOffset(full), full.length));
        Path dump = Files.write(scratch.resolve("cut.mig"), cut);
        Path out = scratch.resolve("out");

        CliRun run = run(input, dump, "-x", "-o", out.toString());
        assertEquals(1, run.exit(), "exit code; stderr: " + run.err());
        if (input == Input.FILE) {
            // the description is known from the start; the cut is found in the page it falls in
            assertEquals(error(input, dump, "at byte 0x2ff878 (3143800), section 'ram' #2: expected 4096 bytes of page,"
                    + " found the end of the stream (the JSON VM description starts at byte 3145728)"), run.err());
            assertEquals("desc.json\npc.ram\n/rom@etc/acpi/tables\npc.bios\npc.rom\n/rom@etc/table-loader\n"
                    + "/rom@etc/acpi/rsdp\n", run.outText(), "the blocks were started");
        } else {
            // a stream reads on into the description's bytes as RAM records (the page's 4096 bytes
            // end 2048 bytes into them), and never reaches a description: no name is printed
            assertEquals(error(input, dump, "at byte 0x300880 (3147904), section 'ram' #2: expected one RAM_SAVE_FLAG"
                    + " (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH), found flags 0x369"), run.err());
            assertEquals("", run.outText());
        }
        assertEquals(List.of(), files(out), "no final-named and no .partial file after a failure");
    }

    /**
     * --ram-only on a dump cut short (no description at all; QEMU 7.2 gives no
     * target-page-bits, hence --page-size): the same.
     */
    @ParameterizedTest
    @EnumSource(Input.class)
    void ramOnlyFailureLeavesNothing(Input input) throws IOException {
        byte[] full = Files.readAllBytes(Samples.dump("c-pc-loader-data"));
        Path dump = Files.write(scratch.resolve("cut.mig"), Arrays.copyOf(full, 3 << 20));
        Path out = scratch.resolve("out");

        CliRun run = run(input, dump, "-x", "--ram-only", "--page-size", "4096", "-o", out.toString());
        assertEquals(1, run.exit(), "exit code; stderr: " + run.err());
        assertEquals(error(input, dump, "at byte 0x2ff878 (3143800), section 'ram' #2: expected 4096 bytes of page,"
                + " found the end of the " + (input == Input.FILE ? "file" : "input") + " (at byte 3145728)"), run.err());
        // on a file the reader knows from the start that there is no description; a stream
        // learns it only at its end, and the names wait for it
        assertEquals(input == Input.FILE
                ? "pc.ram\n/rom@etc/acpi/tables\npc.bios\npc.rom\n/rom@etc/table-loader\n/rom@etc/acpi/rsdp\n" : "",
                run.outText(), "the blocks started (no description: no desc.json)");
        assertEquals(List.of(), files(out), "no final-named and no .partial file after a failure");
    }

    @ParameterizedTest
    @EnumSource(Input.class)
    void successLeavesFinalNamesOnly(Input input) throws IOException {
        byte[] stream = StreamBuilder.stream()
                .sectionStart(2, "ram", 0, 4).memSize(2L * PAGE).block("pc.ram", 2L * PAGE)
                .page(PAGE, "pc.ram", StreamBuilder.filled(PAGE, 0x61))
                .eos().footer(2)
                .eof().description("{\"page_size\": " + PAGE + ", \"devices\": []}")
                .toByteArray();
        Path dump = Files.write(scratch.resolve("ok.mig"), stream);
        Path out = scratch.resolve("out");
        CliRun run = run(input, dump, "-x", "-o", out.toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals("desc.json\npc.ram\nstate.json\n", run.outText());
        assertEquals("", run.err());
        assertEquals(List.of("desc.json", "pc.ram", "state.json"), files(out));
        assertArrayEquals(new byte[PAGE], read(out.resolve("pc.ram"), 0, PAGE), "page 0, never sent");
        assertArrayEquals(StreamBuilder.filled(PAGE, 0x61), read(out.resolve("pc.ram"), PAGE, PAGE));
        assertEquals("{\n    \"ram (2)\": {\n        \"section sizes\": {\n            \"pc.ram\": \"0x0000000000002000\"\n"
                + "        }\n    }\n}", Files.readString(out.resolve("state.json")));
    }

    // ================================================================== helpers

    /**
     * The line the CLI prints for a read error: {@code qevm: FILE: MESSAGE}, FILE as given to
     * {@code -f}.
     */
    private String error(Input input, Path dump, String message) {
        return "qevm: " + (input == Input.FILE ? dump : fifo()) + ": " + message + System.lineSeparator();
    }

    /** Where {@link Input#FIFO} makes its FIFO. */
    private Path fifo() {
        return scratch.resolve("dump.fifo");
    }

    private CliRun run(Input input, Path dump, String... args) throws IOException {
        return switch (input) {
            case FILE -> {
                List<String> all = new ArrayList<>(List.of("-f", dump.toString()));
                all.addAll(List.of(args));
                yield CliRun.inProcess(scratch, TIMEOUT, all.toArray(String[]::new));
            }
            case FIFO -> CliRun.throughFifo(scratch, fifo(), dump, TIMEOUT, List.of(args));
        };
    }
}
