package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.qevm.Samples;
import io.qevm.StreamBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code qevm -x} stopped by a real signal sent to a real process: a child JVM extracting, killed
 * with SIGTERM ({@link Process#destroy()}) or SIGINT ({@code kill -INT}), exits 143 or 130 (the
 * JVM's 128 + signal, after its shutdown hooks) and leaves nothing but complete files: no partial
 * file ({@code .qevm-*}), no directory it made, and with all or nothing, no output at all unless
 * its commit completed. The moments are chosen by feeding the dump through a FIFO a piece at a
 * time, or hit while the child writes as fast as it can. And a run removes the partial files a
 * killed run left (never one a live run writes, never anything else).
 */
final class ExtractInterruptTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final int SIGINT_STATUS = 130;
    private static final int SIGTERM_STATUS = 143;
    /** A partial file as a killed run leaves one: the child's sweep removing it shows its extractor is up. */
    private static final String STALE = ".qevm-0123456789abcdef.partial";
    private static final String KEEP = "keep.txt";
    private static final int PAGE = 4096;

    @TempDir
    Path scratch;

    /** Where the signal comes in a run fed through a FIFO. */
    enum Moment {
        /** The reader has the header and the configuration; no RAM block is known yet. */
        BEFORE_THE_FIRST_BLOCK,
        /** 3,000,000 bytes in: in pc.ram's loader data, every block's file made. */
        MID_BLOCK,
        /**
         * All but the last byte: every page written, the description (last on a stream) still
         * incomplete, so desc.json, state.json and the renames are still to come.
         */
        AFTER_THE_LAST_PAGE
    }

    /**
     * SIGTERM at a chosen moment of {@code -x} over a FIFO into a directory that holds a file of
     * the user's: 143, nothing on stderr, only that file left.
     */
    @ParameterizedTest
    @EnumSource(Moment.class)
    void sigtermAtAChosenMomentLeavesNothing(Moment moment) throws Exception {
        byte[] dump = Files.readAllBytes(Samples.dump("c-pc-loader-data"));
        int prefix = switch (moment) {
            case BEFORE_THE_FIRST_BLOCK -> ramSectionStart(dump);
            case MID_BLOCK -> 3_000_000;
            case AFTER_THE_LAST_PAGE -> dump.length - 1;
        };
        Path out = outputWithUserFileAndStalePartial();
        Path fifo = CliRun.mkfifo(scratch.resolve("dump.fifo"));
        CountDownLatch fed = new CountDownLatch(1);
        Thread feeder = feed(fifo, to -> {
            to.write(dump, 0, prefix);
            to.flush();
            fed.countDown();
            Thread.sleep(TIMEOUT.toMillis()); // the FIFO stays open: the child waits for more
        });
        try (ChildCli child = ChildCli.start(scratch, List.of(), List.of("-f", fifo.toString(), "-x", "-o", "out"))) {
            await(() -> !Files.exists(out.resolve(STALE)), child, "the child's extractor sweeps the stale partial file");
            await(() -> fed.getCount() == 0, child, "the child reads the first " + prefix + " bytes");
            if (moment != Moment.BEFORE_THE_FIRST_BLOCK) {
                await(() -> !partialFiles(out).isEmpty(), child, "the child makes its partial files");
            }
            Thread.sleep(300); // the child has read what it was fed, and waits for more
            assertTrue(child.isAlive(), "the child waits for the rest of the dump; stderr: " + child.err());
            List<Path> partials = partialFiles(out);
            if (moment == Moment.AFTER_THE_LAST_PAGE) {
                assertEquals(6, partials.size(), "a partial file per block before the signal: " + partials);
            }
            child.terminate();
            assertEquals(SIGTERM_STATUS, child.waitFor(TIMEOUT), "exit status; stderr: " + child.err());
            assertEquals("", child.err(), "a signal is reported by the exit status alone");
        } finally {
            release(fifo, feeder);
        }
        assertEquals(List.of(KEEP), tree(out), "the user's file only: no partial file, no output, no directory");
    }

    /** SIGINT (Ctrl-C) in the middle of a block, into a directory the run creates: 130, and the directory gone too. */
    @Test
    void sigintMidBlockLeavesNothing() throws Exception {
        byte[] dump = Files.readAllBytes(Samples.dump("c-pc-loader-data"));
        Path fifo = CliRun.mkfifo(scratch.resolve("dump.fifo"));
        Path out = scratch.resolve("new/out");
        Thread feeder = feed(fifo, to -> {
            to.write(dump, 0, 3_000_000);
            to.flush();
            Thread.sleep(TIMEOUT.toMillis());
        });
        try (ChildCli child = ChildCli.start(scratch, ChildCli.defaultSigint(),
                List.of("-f", fifo.toString(), "-x", "-o", "new/out"))) {
            await(() -> partialFiles(out).size() == 6, child, "the child makes a partial file per block");
            Thread.sleep(300);
            child.signal("INT");
            assertEquals(SIGINT_STATUS, child.waitFor(TIMEOUT), "exit status; stderr: " + child.err());
            assertEquals("", child.err());
        } finally {
            release(fifo, feeder);
        }
        assertFalse(Files.exists(scratch.resolve("new"), LinkOption.NOFOLLOW_LINKS),
                "the directories the run made are removed: " + tree(scratch));
    }

    /**
     * SIGTERM while the child writes as fast as it can: pages of a 512 MiB block fed without a
     * pause, the signal some time after its first partial file appears. Whatever the write in
     * progress, nothing is left.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 150, 500})
    void sigtermWhileWritingLeavesNothing(int delayMillis) throws Exception {
        long length = 512L << 20;
        Path fifo = CliRun.mkfifo(scratch.resolve("dump.fifo"));
        Path out = scratch.resolve("out");
        Thread feeder = feed(fifo, to -> {
            to.write(StreamBuilder.stream().configuration("pc").targetPageBits(12)
                    .sectionStart(2, "ram", 0, 4).memSize(length).block("pc.ram", length)
                    .page(0, "pc.ram", StreamBuilder.pattern(PAGE, 0)).toByteArray());
            for (long address = PAGE; address < length; address += 64 * PAGE) {
                StreamBuilder pages = StreamBuilder.empty();
                for (int i = 0; i < 64; i++) {
                    pages.page(address + (long) i * PAGE, null, StreamBuilder.pattern(PAGE, i + 1));
                }
                to.write(pages.toByteArray());
            }
            Thread.sleep(TIMEOUT.toMillis());
        });
        try (ChildCli child = ChildCli.start(scratch, List.of(), List.of("-f", fifo.toString(), "-x", "-o", "out"))) {
            await(() -> !partialFiles(out).isEmpty(), child, "the child makes pc.ram's partial file");
            Thread.sleep(delayMillis);
            assertTrue(child.isAlive(), "still extracting; stderr: " + child.err());
            child.terminate();
            assertEquals(SIGTERM_STATUS, child.waitFor(TIMEOUT), "exit status; stderr: " + child.err());
            assertEquals("", child.err());
        } finally {
            release(fifo, feeder);
        }
        assertFalse(Files.exists(out, LinkOption.NOFOLLOW_LINKS), "the output directory it made is gone: " + tree(out));
    }

    /**
     * SIGTERM at some moment of {@code -x} on a multi-MB file, from the first partial file to the
     * end: when it comes before the commit completes, 143 and only the user's file; when after,
     * every output complete, as a run not interrupted writes it (143, or 0 if it had finished).
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 40, 120, 300})
    void sigtermAnyMomentOnAFileLeavesNothingOrEverything(int delayMillis) throws Exception {
        Path dump = Samples.dump("c-pc-loader-data");
        CliRun reference = CliRun.inProcess(scratch, TIMEOUT, "-f", dump.toString(), "-x", "-o", "reference");
        assertEquals(0, reference.exit(), reference.err());
        Path out = outputWithUserFileAndStalePartial();
        int status;
        try (ChildCli child = ChildCli.start(scratch, List.of(), List.of("-f", dump.toString(), "-x", "-o", "out"))) {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partialFiles(out).isEmpty() && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Thread.sleep(delayMillis);
            child.terminate();
            status = child.waitFor(TIMEOUT);
            assertEquals("", child.err());
        }
        List<String> left = tree(out);
        List<String> complete = new ArrayList<>(tree(scratch.resolve("reference")));
        complete.add(KEEP);
        complete.sort(null);
        if (status == 0 || !left.equals(List.of(KEEP))) {
            assertEquals(complete, left, "the commit completed (exit " + status + "): every output");
            for (String name : tree(scratch.resolve("reference"))) {
                Path file = scratch.resolve("reference").resolve(name);
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    assertEquals(-1, Files.mismatch(file, out.resolve(name)), name + " as complete as the reference's");
                }
            }
        }
        assertTrue(status == 0 || status == SIGTERM_STATUS, "exit status " + status);
        assertTrue(partialFiles(out).isEmpty(), "no partial file");
    }

    /**
     * The next run removes what a killed run left: regular files named as qevm names its partial
     * files, in the output directory and four levels of subdirectories (a bounded walk: {@code -x}
     * in a home directory must not read it all). Names only like them, and what is not a regular
     * file (a directory, a symbolic link, a FIFO), are the user's: left alone.
     */
    @Test
    void aRunRemovesStalePartialFilesOnly() throws IOException {
        Path out = Files.createDirectory(scratch.resolve("out"));
        Path elsewhere = Files.writeString(scratch.resolve("elsewhere"), "outside");
        Files.writeString(out.resolve(STALE), "stale");
        Files.createDirectories(out.resolve("rom@etc/acpi"));
        Files.writeString(out.resolve("rom@etc/acpi/.qevm-00000000000000ff.partial"), "stale");
        Files.createDirectories(out.resolve("other/dir"));
        Files.writeString(out.resolve("other/dir/.qevm-fedcba9876543210.partial"), "stale, where this run does not write");
        Files.createDirectories(out.resolve("1/2/3/4/5"));
        Files.writeString(out.resolve("1/2/3/4/5/.qevm-fedcba9876543210.partial"), "deeper than the sweep goes");
        List<String> users = List.of(".qevm-notours.partial", ".qevm-0123456789ABCDEF.partial", ".qevm-0123456789abcde.partial",
                ".qevm-0123456789abcdef.partial.bak", "qevm-0123456789abcdef.partial");
        for (String name : users) {
            Files.writeString(out.resolve(name), "the user's");
        }
        Files.createDirectory(out.resolve(".qevm-1111111111111111.partial"));
        Files.writeString(out.resolve(".qevm-1111111111111111.partial/inside"), "the user's");
        Files.createSymbolicLink(out.resolve(".qevm-2222222222222222.partial"), elsewhere);
        CliRun.mkfifo(out.resolve(".qevm-3333333333333333.partial"));

        CliRun run = CliRun.inProcess(scratch, TIMEOUT, "-f", Samples.dump("c-pc-loader-data").toString(), "-x", "-o", "out");
        assertEquals(0, run.exit(), run.err());

        List<String> expected = new ArrayList<>(List.of(".qevm-1111111111111111.partial",
                ".qevm-1111111111111111.partial/inside", ".qevm-2222222222222222.partial",
                ".qevm-3333333333333333.partial", "1", "1/2", "1/2/3", "1/2/3/4", "1/2/3/4/5",
                "1/2/3/4/5/.qevm-fedcba9876543210.partial", "desc.json", "other", "other/dir",
                "pc.bios", "pc.ram", "pc.rom", "rom@etc", "rom@etc/acpi", "rom@etc/acpi/rsdp", "rom@etc/acpi/tables",
                "rom@etc/table-loader", "state.json"));
        expected.addAll(users);
        expected.sort(null);
        assertEquals(expected, tree(out));
        assertEquals("outside", Files.readString(elsewhere), "the link's target");
        for (String name : users) {
            assertEquals("the user's", Files.readString(out.resolve(name)), name);
        }
    }

    /**
     * A partial file that a live run writes is no stale one: a run into the same directory
     * (here one that succeeds, replacing the outputs) leaves it, and the first run, fed the rest
     * of its dump, completes.
     */
    @Test
    void aRunLeavesTheFilesOfALiveRun() throws Exception {
        Path dump = Samples.dump("c-pc-loader-data");
        byte[] bytes = Files.readAllBytes(dump);
        Path out = Files.createDirectory(scratch.resolve("out"));
        Path fifo = CliRun.mkfifo(scratch.resolve("dump.fifo"));
        CountDownLatch rest = new CountDownLatch(1);
        Thread feeder = feed(fifo, to -> {
            to.write(bytes, 0, 3_000_000);
            to.flush();
            rest.await();
            to.write(bytes, 3_000_000, bytes.length - 3_000_000);
        });
        try (ChildCli first = ChildCli.start(scratch, List.of(), List.of("-f", fifo.toString(), "-x", "-o", "out"))) {
            await(() -> partialFiles(out).size() == 6, first, "the first run makes a partial file per block");
            List<Path> live = partialFiles(out);

            CliRun second = CliRun.inProcess(scratch, TIMEOUT, "-f", dump.toString(), "-x", "-o", "out");
            assertEquals(0, second.exit(), second.err());
            assertEquals(live, partialFiles(out), "the live run's partial files are still there");

            rest.countDown();
            assertEquals(0, first.waitFor(TIMEOUT), first.err());
        } finally {
            rest.countDown();
            release(fifo, feeder);
        }
        assertEquals(List.of("desc.json", "pc.bios", "pc.ram", "pc.rom", "rom@etc", "rom@etc/acpi", "rom@etc/acpi/rsdp",
                "rom@etc/acpi/tables", "rom@etc/table-loader", "state.json"), tree(out), "the first run's outputs only");
    }

    // ================================================================== helpers

    /** {@code out/} with a file of the user's and a stale partial file in it. */
    private Path outputWithUserFileAndStalePartial() throws IOException {
        Path out = Files.createDirectory(scratch.resolve("out"));
        Files.writeString(out.resolve(KEEP), "the user's");
        Files.writeString(out.resolve(STALE), "left by a killed run");
        return out;
    }

    /** Where the RAM section's SECTION_START record begins: u8 type, u32 id, then idstr "ram" (u8 len 3). */
    private static int ramSectionStart(byte[] dump) {
        for (int i = 5; i + 4 <= dump.length; i++) {
            if (dump[i] == 3 && dump[i + 1] == 'r' && dump[i + 2] == 'a' && dump[i + 3] == 'm'
                    && dump[i - 5] == StreamBuilder.QEMU_VM_SECTION_START) {
                return i - 5;
            }
        }
        throw new AssertionError("no RAM section start");
    }

    /** Every path under {@code root}, files and directories, relative and sorted; none if it does not exist. */
    static List<String> tree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(p -> !p.equals(root)).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    /** The entries under {@code root} named as qevm names partial files (any .qevm-* but the stale one planted). */
    private static List<Path> partialFiles(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(p -> p.getFileName().toString().startsWith(".qevm-")
                    && !p.getFileName().toString().equals(STALE)).sorted().toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of(); // not there yet, or changing under the walk
        }
    }

    @FunctionalInterface
    private interface Feed {
        void into(OutputStream fifo) throws IOException, InterruptedException;
    }

    /** A thread that opens {@code fifo} for writing (blocking until the child opens it) and runs {@code feed}. */
    private static Thread feed(Path fifo, Feed feed) {
        return Thread.ofPlatform().daemon().name("qevm-fifo-feeder").start(() -> {
            try (OutputStream to = Files.newOutputStream(fifo, StandardOpenOption.WRITE)) {
                feed.into(to);
            } catch (IOException e) {
                // the child is gone (EPIPE)
            } catch (InterruptedException e) {
                // released
            }
        });
    }

    /** Ends the feeder: interrupted in its wait, or freed from opening a FIFO no child opened. */
    private static void release(Path fifo, Thread feeder) throws IOException, InterruptedException {
        feeder.interrupt();
        feeder.join(200);
        if (feeder.isAlive()) {
            // blocked opening the FIFO (no child opened it): an open for reading and writing never blocks, and frees it
            try (FileChannel _ = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (feeder.isAlive() && System.nanoTime() < deadline) {
                    feeder.interrupt(); // its writes are to an interruptible channel
                    feeder.join(50);
                }
            }
        }
        Files.deleteIfExists(fifo);
    }

    /** Waits for {@code condition}, failing if the child ends first or it takes longer than {@link #TIMEOUT}. */
    static void await(BooleanSupplier condition, ChildCli child, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (!child.isAlive()) {
                fail("the child ended before " + what + "; stderr: " + child.err());
            }
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(2);
        }
    }
}
