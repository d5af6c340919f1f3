package io.qevm.consume;

import static io.qevm.OutputFiles.files;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The extractor's ways out: {@link PageExtractor#abort()} from another thread (the CLI's shutdown
 * hook) while the extracting thread is in the middle of a block, and against a commit;
 * {@link PageExtractor.Option#NO_CLOBBER}; the partial files' names and the removal of stale
 * ones; the causes {@link OutputFileException} gives. (The CLI's tests send real signals to a
 * real process, fill real file systems.)
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class PageExtractorAbortTest {

    private static final int PAGE = 4096;

    @TempDir
    Path scratch;

    /** Two blocks, the second under a subdirectory, 64 pages each. */
    private static byte[] stream() {
        RamStreams s = RamStreams.start(PAGE, "pc.ram", 64L * PAGE, "/rom@etc/t", 64L * PAGE);
        s.page(0, "pc.ram", RamStreams.pattern(PAGE, 0));
        for (int i = 1; i < 64; i++) {
            s.page((long) i * PAGE, null, RamStreams.pattern(PAGE, i));
        }
        s.page(0, "/rom@etc/t", RamStreams.pattern(PAGE, 100));
        for (int i = 1; i < 64; i++) {
            s.page((long) i * PAGE, null, RamStreams.pattern(PAGE, 100 + i));
        }
        return s.endRecord().finish().toByteArray();
    }

    /**
     * The extracting thread is held in the middle of the second block (its pages gathered, not
     * yet written); another thread aborts. The extracting thread then fails, harmlessly: its
     * files are closed and gone, and the directories it made, and it cannot commit.
     */
    @Test
    void abortFromAnotherThreadMidBlock() throws Exception {
        Path out = scratch.resolve("new/out");
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch aborted = new CountDownLatch(1);
        PageExtractor extractor = new PageExtractor(out, name -> { });
        MigrationConsumer gate = new MigrationConsumer() {
            int pages;

            @Override
            public void accept(MigrationEvent event, MigrationReader reader) {
                if (event == MigrationEvent.RAM_PAGE && ++pages == 64 + 10) {
                    held.countDown();
                    try {
                        aborted.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        CompletableFuture<Throwable> extracting = CompletableFuture.supplyAsync(() -> {
            try (MigrationReader reader = MigrationReader.open(stream(), ReadOptions.DEFAULT); extractor) {
                MigrationConsumer.drive(reader, extractor, gate);
                extractor.commit();
                return null;
            } catch (IOException | RuntimeException e) {
                return e;
            }
        });
        assertTrue(held.await(20, TimeUnit.SECONDS));
        List<String> partials = files(scratch.resolve("new"));
        assertEquals(2, partials.size(), partials.toString());
        assertTrue(partials.stream().allMatch(f -> f.matches("out/(rom@etc/)?\\.qevm-[0-9a-f]{16}\\.partial")),
                "partial names: .qevm-, 16 hex digits, .partial " + partials);

        extractor.abort();
        assertTrue(extractor.isAborted());
        assertFalse(Files.exists(scratch.resolve("new")), "the partial files and the directories made are gone");
        aborted.countDown();

        Throwable failure = extracting.get(20, TimeUnit.SECONDS);
        assertInstanceOf(OutputFileException.class, failure, String.valueOf(failure));
        assertFalse(Files.exists(scratch.resolve("new")), "the extracting thread made nothing after the abort");
    }

    /** An abort after the commit changes nothing; a commit after an abort fails and renames nothing. */
    @Test
    void abortAndCommitExcludeEachOther() throws IOException {
        Path out = scratch.resolve("out");
        try (MigrationReader reader = MigrationReader.open(stream(), ReadOptions.DEFAULT);
                PageExtractor extractor = new PageExtractor(out, name -> { })) {
            MigrationConsumer.drive(reader, extractor);
            extractor.commit();
            extractor.abort();
        }
        assertEquals(List.of("pc.ram", "rom@etc/t"), files(out));

        Path second = scratch.resolve("second");
        try (MigrationReader reader = MigrationReader.open(stream(), ReadOptions.DEFAULT);
                PageExtractor extractor = new PageExtractor(second, name -> { })) {
            MigrationConsumer.drive(reader, extractor);
            extractor.abort();
            OutputFileException e = assertThrows(OutputFileException.class, extractor::commit);
            assertEquals("the extraction was aborted", e.getMessage());
        }
        assertFalse(Files.exists(second));
    }

    /**
     * NO_CLOBBER refuses a file that is there before the output is written, and one that
     * appears while it is (the rename is a link, which fails if the name exists): the file there
     * is kept, and the outputs renamed before it are removed again.
     */
    @Test
    void noClobberRefusesAFileThereBeforeOrMeanwhile() throws IOException {
        Path out = Files.createDirectory(scratch.resolve("out"));
        Files.writeString(out.resolve("pc.ram"), "the user's");
        try (MigrationReader reader = MigrationReader.open(stream(), ReadOptions.DEFAULT);
                PageExtractor extractor = new PageExtractor(out, name -> { }, PageExtractor.Option.NO_CLOBBER)) {
            OutputFileException e = assertThrows(OutputFileException.class, () -> MigrationConsumer.drive(reader, extractor));
            assertEquals(out.toRealPath().resolve("pc.ram") + ": cannot write: file exists", e.describe());
        }
        assertEquals(List.of("pc.ram"), files(out));

        Files.delete(out.resolve("pc.ram"));
        try (MigrationReader reader = MigrationReader.open(stream(), ReadOptions.DEFAULT);
                PageExtractor extractor = new PageExtractor(out, name -> { }, PageExtractor.Option.NO_CLOBBER)) {
            MigrationConsumer.drive(reader, extractor);
            Files.createDirectories(out.resolve("rom@etc"));
            Files.writeString(out.resolve("rom@etc/t"), "made meanwhile");
            OutputFileException e = assertThrows(OutputFileException.class, extractor::commit);
            assertEquals(out.toRealPath().resolve("rom@etc/t") + ": cannot write: file exists", e.describe());
        }
        assertEquals(List.of("rom@etc/t"), files(out), "pc.ram, renamed first, removed again");
        assertEquals("made meanwhile", Files.readString(out.resolve("rom@etc/t")));
    }

    /**
     * The first sweep reaches four levels of subdirectories; an output deeper than that sweeps
     * its own directory before it is written there. Elsewhere, deeper, stale files stay.
     */
    @Test
    void aDeepOutputSweepsItsDirectory() throws IOException {
        Path out = Files.createDirectory(scratch.resolve("out"));
        Path deep = Files.createDirectories(out.resolve("a/b/c/d/e"));
        Path other = Files.createDirectories(out.resolve("a/b/c/d/f"));
        Files.writeString(deep.resolve(".qevm-00000000000000aa.partial"), "stale");
        Files.writeString(other.resolve(".qevm-00000000000000bb.partial"), "stale, not where this run writes");
        Files.writeString(out.resolve("a/b/c/d/.qevm-00000000000000cc.partial"), "stale, within the first sweep");
        byte[] stream = RamStreams.start(PAGE, "a/b/c/d/e/block", PAGE).page(0, "a/b/c/d/e/block", RamStreams.pattern(PAGE, 1))
                .endRecord().finish().toByteArray();
        try (MigrationReader reader = MigrationReader.open(stream, ReadOptions.DEFAULT);
                PageExtractor extractor = new PageExtractor(out, name -> { })) {
            assertFalse(Files.exists(out.resolve("a/b/c/d/.qevm-00000000000000cc.partial")), "swept on creation");
            assertTrue(Files.exists(deep.resolve(".qevm-00000000000000aa.partial")), "too deep for the first sweep");
            MigrationConsumer.drive(reader, extractor);
            extractor.commit();
        }
        assertEquals(List.of("a/b/c/d/e/block", "a/b/c/d/f/.qevm-00000000000000bb.partial"), files(out));
    }

    @Test
    void outputDirectoryThatIsAFile() throws IOException {
        Path file = Files.writeString(scratch.resolve("file"), "the user's");
        OutputFileException e = assertThrows(OutputFileException.class, () -> new PageExtractor(file, name -> { }));
        assertEquals(file + ": cannot write: not a directory", e.describe());
        e = assertThrows(OutputFileException.class, () -> new PageExtractor(file.resolve("a/b"), name -> { }));
        assertEquals(file.resolve("a/b") + ": cannot write: " + file + " is not a directory", e.describe());
    }

    /** The causes, as the system's messages say them, in lower case and without Java's file names. */
    @Test
    void causes() {
        assertEquals("permission denied", OutputFileException.reason(new AccessDeniedException("/x/.qevm-1.partial")));
        assertEquals("no such file or directory", OutputFileException.reason(new NoSuchFileException("/x")));
        assertEquals("read-only file system",
                OutputFileException.reason(new FileSystemException("/x/.qevm-1.partial", null, "Read-only file system")));
        assertEquals("not a directory", OutputFileException.reason(new FileSystemException("/x", null, "Not a directory")));
        assertEquals("no space left on device", OutputFileException.reason(new IOException("No space left on device")));
        assertEquals("file too large", OutputFileException.reason(new IOException("File too large")));
        assertEquals("IOException", OutputFileException.reason(new IOException()));
        assertEquals("no space left on device (wrote 8192 of 65536 bytes)", new OutputFileException(Path.of("/x/pc.ram"),
                new IOException("No space left on device"), 8192, 65536).getMessage());
        assertEquals("/x/pc.ram: cannot write: file too large (wrote 0 bytes)", new OutputFileException(Path.of("/x/pc.ram"),
                new IOException("File too large"), 0, -1).describe());
    }

    /** A whole file written by writeFile goes by the same rule: partial, then renamed. */
    @Test
    void writeFileIsRenamedOnCommit() throws IOException {
        Path out = scratch.resolve("out");
        try (PageExtractor extractor = new PageExtractor(out, name -> { })) {
            extractor.writeFile("state.json", "{}".getBytes(UTF_8));
            try (Stream<Path> files = Files.list(out)) {
                assertTrue(files.allMatch(p -> p.getFileName().toString().matches("\\.qevm-[0-9a-f]{16}\\.partial")));
            }
            extractor.commit();
        }
        assertEquals("{}", Files.readString(out.resolve("state.json")));
    }
}
