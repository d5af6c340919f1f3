package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.PageStore;
import java.lang.foreign.MemorySegment;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Writes guest RAM out of a migration stream, as {@code analyze-migration.py -x} does: one file
 * per RAM block, named by its idstr under the output directory (see {@link OutputPaths}), sized
 * to the block's used_length, sparse, each page at its offset; the last copy of a page wins,
 * and zero pages stay holes unless they replace earlier data.
 *
 * <p>All or nothing: every file is written under a partial name of its own
 * ({@code .qevm-<16 hex digits>.partial}, beside its final name) and renamed into place by
 * {@link #commit()}; {@link #close()} without a commit removes them, and the directories the
 * extractor created. {@link #abort()} does the same from another thread, while this one writes
 * (a shutdown hook, on SIGINT or SIGTERM). A run killed where nothing can run (SIGKILL, a crash)
 * leaves its partial files: the next extraction into the same directory removes them before it
 * starts. Whole files written alongside ({@code desc.json}, {@code state.json}) go through
 * {@link #writeFile} or {@link #newFile} for the same rule.
 *
 * <p>Errors are {@link OutputFileException}s naming the final path, never the partial one, and
 * the cause; a failed write says how many of the bytes the file needs were written.
 *
 * <p>Pages that follow each other in a block are gathered in a buffer and written with one
 * write: whatever the source, a page's bytes are copied once, while they are valid. Runs are
 * written on a second thread, one write in flight while the next run is gathered; a fill page,
 * a block's size and a read back ({@link #readPage}) wait for the write in flight first.
 *
 * <p>The files hold the last copy of every page written so far, so the extractor is also a
 * {@link PageStore}: a reader over a stream applies XBZRLE deltas to what it wrote.
 */
public final class PageExtractor implements MigrationConsumer, PageStore, Closeable {

    /** How an extraction treats what is already there. */
    public enum Option {
        /**
         * Refuse to replace a file that exists under an output's name (the CLI's
         * {@code --no-clobber}): checked before the output is written, and again, atomically,
         * when it is renamed into place.
         */
        NO_CLOBBER
    }

    /**
     * The bytes of contiguous pages gathered for one write, handed to the writing thread while
     * the next run is gathered. 1 MiB writes took ~40% longer than 256 KiB ones on ext4
     * (parser-bench/scripts/WriteSize.java, results/issue8/write-size.log): a run goes to the
     * kernel in {@link #WRITE_BYTES} pieces.
     */
    private static final int RUN_BYTES = 1 << 20;
    private static final int WRITE_BYTES = 256 << 10;
    private static final int PAGES_PER_SEEN_CHUNK = 1 << 16;
    /**
     * How many levels of subdirectories under the output directory a run looks into for an
     * earlier run's partial files before it starts: more than QEMU's block names make
     * ({@code /rom@etc/acpi/tables}: two, {@code 0000:00:02.0/vga.vram}: one), and bounded, so
     * that {@code -x} in a home directory does not walk all of it. A deeper directory is swept
     * when an output is first put in it.
     */
    private static final int SWEEP_DEPTH = 4;

    private final Path root;
    private final Consumer<String> onBlock;
    private final boolean noClobber;
    private final Map<String, BlockFile> blocks = new HashMap<>();
    /** Final path of every output file, and what it holds (a block's name, or desc.json...). */
    private final Map<Path, String> owners = new HashMap<>();
    /** Directories the outputs need: no output file may have one of these paths. */
    private final Set<Path> directories = new HashSet<>();
    /** Directories deeper than the first sweep reached, swept since. */
    private final Set<Path> swept = new HashSet<>();

    /**
     * Guards what {@link #abort()} undoes from another thread: the files and directories made,
     * the renames. Writes to the channels are not under it: abort closes the channels under them.
     */
    private final Object lock = new Object();
    /** Directories this extractor created, outermost first: removed again if it fails. */
    private final List<Path> createdDirectories = new ArrayList<>();
    /** Partial file -> final path, for every output not yet renamed into place. */
    private final Map<Path, Path> pending = new LinkedHashMap<>();
    /** Every channel open, with its output's final path; read by abort() without the lock. */
    private final List<Output> open = new CopyOnWriteArrayList<>();
    private boolean committed;
    private volatile boolean aborted;

    // the run of pages waiting for one write
    private BlockFile runFile;
    private long runStart;
    /** Bytes of pages in the run that are their page's first copy in the file. */
    private long runFirstCopies;
    private ByteBuffer run = ByteBuffer.allocateDirect(RUN_BYTES);
    private MemorySegment runBytes = MemorySegment.ofBuffer(run);
    /** The buffer of the write in flight, or of the last one: the next run goes there. */
    private ByteBuffer spare;
    private MemorySegment spareBytes;
    /**
     * Runs are written on a thread of their own, one at a time, while this one reads on: most of
     * {@code -x} is the kernel copying the pages into the page cache.
     */
    private final WriteBehind writes = new WriteBehind("qevm-x-writer");
    private ByteBuffer fillPage;

    private record Output(Path path, FileChannel channel) {
    }

    /** A block's output file and which of its pages were written. */
    private static final class BlockFile {
        final Path path;
        final FileChannel channel;
        long length;
        /** Bytes of distinct pages written (what the failed write of a full disk reports). */
        long written;
        /** One bit per page sent, in chunks allocated as pages arrive: never sized from the stream. */
        final Map<Long, long[]> seen = new HashMap<>();

        BlockFile(Path path, FileChannel channel) {
            this.path = path;
            this.channel = channel;
        }

        /** Marks the page and says whether it had been sent before. */
        boolean markSeen(long page) {
            long[] chunk = seen.computeIfAbsent(page / PAGES_PER_SEEN_CHUNK, k -> new long[PAGES_PER_SEEN_CHUNK / 64]);
            int bit = (int) (page % PAGES_PER_SEEN_CHUNK);
            boolean before = (chunk[bit >>> 6] & (1L << bit)) != 0;
            chunk[bit >>> 6] |= 1L << bit;
            return before;
        }
    }

    /**
     * An extractor writing under {@code outputDirectory} (created if missing). Removes the
     * partial files a killed run left there: regular files named {@code .qevm-<16 hex
     * digits>.partial} that no live extraction holds a lock on, in the directory and four levels
     * of subdirectories.
     *
     * @param outputDirectory where the files go
     * @param onBlock told each block's name when its file is created (the CLI prints it)
     * @param options what to do about files already there
     * @throws OutputFileException if the directory cannot be created or resolved
     */
    public PageExtractor(Path outputDirectory, Consumer<String> onBlock, Option... options)
            throws OutputFileException {
        this.root = OutputPaths.createRoot(outputDirectory, createdDirectories);
        this.onBlock = onBlock;
        this.noClobber = List.of(options).contains(Option.NO_CLOBBER);
        if (createdDirectories.isEmpty()) {
            OutputPaths.removeStalePartials(root, SWEEP_DEPTH + 1); // + 1: the files in the deepest ones
        }
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) throws IOException {
        switch (event) {
            case RAM_BLOCK -> openBlock(reader.blockName(), reader.blockLength());
            case RAM_PAGE -> page(reader);
            case ZERO_PAGE -> zeroPage(reader);
            case EOF -> flushRun();
            default -> {
            }
        }
    }

    private void openBlock(String name, long length) throws IOException {
        BlockFile file = blocks.get(name);
        if (file == null) {
            Path path = OutputPaths.resolve(root, name);
            claim(path, "RAM block '" + OutputPaths.printable(name) + "'");
            file = new BlockFile(path, create(path));
            blocks.put(name, file);
            onBlock.accept(name);
        }
        flushRun();
        writes.drain();
        resize(file, length);
    }

    /** Sizes the file to the block's length: a hole that reads as zero, as pages never sent are. */
    private static void resize(BlockFile file, long length) throws IOException {
        try {
            if (length < file.length) {
                file.channel.truncate(length);
            } else if (length > file.length) {
                file.channel.write(ByteBuffer.allocate(1), length - 1);
            }
            file.length = length;
        } catch (IOException e) {
            throw new OutputFileException(file.path, e, file.written, length);
        }
    }

    private void page(MigrationReader reader) throws IOException {
        BlockFile file = blocks.get(reader.blockName());
        long address = reader.pageOffset();
        int size = reader.pageSize();
        boolean firstCopy = !file.markSeen(address / size);
        // first: decoding an XBZRLE page of a stream reads the page's last copy back (readPage)
        MemorySegment data = reader.pageData();
        long index = reader.pageDataOffset();
        if (run.position() > 0 && (runFile != file || runStart + run.position() != address
                || run.remaining() < size)) {
            flushRun();
        }
        if (run.position() == 0) {
            runFile = file;
            runStart = address;
        }
        MemorySegment.copy(data, index, runBytes, run.position(), size);
        run.position(run.position() + size);
        if (firstCopy) {
            runFirstCopies += size;
        }
    }

    private void zeroPage(MigrationReader reader) throws IOException {
        BlockFile file = blocks.get(reader.blockName());
        long address = reader.pageOffset();
        int size = reader.pageSize();
        boolean sentBefore = file.markSeen(address / size);
        if (reader.fillByte() == 0 && !sentBefore) {
            return; // a hole already reads as zero
        }
        if (runFile == file) {
            flushRun();
        }
        writes.drain();
        if (fillPage == null || fillPage.capacity() != size || fillPage.get(0) != (byte) reader.fillByte()) {
            byte[] fill = new byte[size];
            java.util.Arrays.fill(fill, (byte) reader.fillByte());
            fillPage = ByteBuffer.wrap(fill);
        }
        write(file, fillPage.duplicate(), address);
        if (!sentBefore) {
            file.written += size;
        }
    }

    private void flushRun() throws IOException {
        if (run.position() == 0) {
            return;
        }
        run.flip();
        try {
            BlockFile file = runFile;
            ByteBuffer bytes = run;
            long at = runStart;
            long firstCopies = runFirstCopies;
            writes.submit(() -> {
                writeRun(file, bytes, at);
                file.written += firstCopies; // counted once written: a failure says what is on disk
            });
            // the write before this one is done: its buffer takes the next run
            if (spare == null) {
                spare = ByteBuffer.allocateDirect(RUN_BYTES);
                spareBytes = MemorySegment.ofBuffer(spare);
            }
            run = spare;
            spare = bytes;
            MemorySegment segment = runBytes;
            runBytes = spareBytes;
            spareBytes = segment;
        } finally {
            run.clear();
            runFile = null;
            runFirstCopies = 0;
        }
    }

    /** A run, in pieces of {@link #WRITE_BYTES}. */
    private static void writeRun(BlockFile file, ByteBuffer bytes, long address) throws IOException {
        int end = bytes.limit();
        for (int at = 0; at < end; at += WRITE_BYTES) {
            // write() places the buffer's position at address + position
            write(file, bytes.limit(Math.min(end, at + WRITE_BYTES)).position(at), address);
        }
    }

    private static void write(BlockFile file, ByteBuffer page, long address) throws IOException {
        try {
            while (page.hasRemaining()) {
                file.channel.write(page, address + page.position());
            }
        } catch (IOException e) {
            throw new OutputFileException(file.path, e, file.written, file.length);
        }
    }

    /**
     * The last copy of a page as written so far: what a reader over a stream applies an XBZRLE
     * delta to. A page never written reads as zero (a hole).
     */
    @Override
    public void readPage(String block, long offset, MemorySegment into) throws IOException {
        BlockFile file = blocks.get(block);
        if (file == null) {
            into.fill((byte) 0);
            return;
        }
        if (runFile == file) {
            flushRun();
        }
        writes.drain();
        ByteBuffer buffer = into.asByteBuffer();
        try {
            while (buffer.hasRemaining()) {
                if (file.channel.read(buffer, offset + buffer.position()) < 0) {
                    into.asSlice(buffer.position()).fill((byte) 0); // past the end: never written
                    break;
                }
            }
        } catch (IOException e) {
            throw new OutputFileException(file.path, e);
        }
    }

    /**
     * Writes {@code content} to a whole file {@code name} under the output directory, renamed
     * into place by {@link #commit()} with the blocks.
     *
     * @param name    the file's name, relative to the output directory
     * @param content all its bytes
     * @throws IOException an {@link OutputFileException} naming the file
     */
    public void writeFile(String name, byte[] content) throws IOException {
        Path path = OutputPaths.resolve(root, name);
        claim(path, "'" + OutputPaths.printable(name) + "'");
        FileChannel channel = create(path);
        ByteBuffer bytes = ByteBuffer.wrap(content);
        try {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        } catch (IOException e) {
            throw new OutputFileException(path, e, bytes.position(), content.length);
        }
    }

    /**
     * A stream to a whole file {@code name} under the output directory, renamed into place by
     * {@link #commit()} with the blocks. The caller closes it. Its errors are
     * {@link OutputFileException}s naming the file.
     *
     * @param name the file's name, relative to the output directory
     * @return the stream to write it with
     * @throws IOException an {@link OutputFileException} naming the file
     */
    public OutputStream newFile(String name) throws IOException {
        Path path = OutputPaths.resolve(root, name);
        claim(path, "'" + OutputPaths.printable(name) + "'");
        OutputStream stream = Channels.newOutputStream(create(path));
        return new OutputStream() {
            private long written;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                try {
                    stream.write(bytes, offset, length);
                    written += length;
                } catch (IOException e) {
                    throw new OutputFileException(path, e, written, -1);
                }
            }

            @Override
            public void close() throws IOException {
                try {
                    stream.close();
                } catch (IOException e) {
                    throw new OutputFileException(path, e);
                }
            }
        };
    }

    /**
     * Reserves {@code path} for one output, refusing a second output of the same path, and a path
     * that another output needs as a directory or whose directories another output is: found
     * here, before anything is written, not when the renames fail. Refuses, too, a path where a
     * directory is (a rename could not replace it), and with {@link Option#NO_CLOBBER} one where
     * anything is.
     */
    private void claim(Path path, String what) throws OutputFileException {
        String owner = owners.get(path);
        if (owner != null) {
            throw new OutputFileException(path, what + " and " + owner + " would be written to the same file");
        }
        if (directories.contains(path)) {
            throw new OutputFileException(path, what + " would be a file where another output needs a directory");
        }
        for (Path parent = path.getParent(); parent != null && !parent.equals(root); parent = parent.getParent()) {
            if (owners.containsKey(parent)) {
                throw new OutputFileException(parent, what + " needs a directory where " + owners.get(parent)
                        + " is written");
            }
            directories.add(parent);
        }
        owners.put(path, what);
        synchronized (lock) {
            checkNotAborted(path);
            OutputPaths.createParents(root, path, createdDirectories);
        }
        Path parent = path.getParent();
        if (parent.getNameCount() - root.getNameCount() > SWEEP_DEPTH && swept.add(parent)) {
            OutputPaths.removeStalePartials(parent, 1);
        }
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new OutputFileException(path, "is a directory");
        }
        if (noClobber && Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new OutputFileException(path, "file exists");
        }
    }

    /**
     * Creates a partial file beside {@code path}: a fresh name of its own, so that no output,
     * whatever its name, can be another's partial file; never follows or reuses what is there.
     * Locks it, to tell other runs it is no stale one.
     */
    private FileChannel create(Path path) throws IOException {
        synchronized (lock) {
            for (int attempt = 0; ; attempt++) {
                checkNotAborted(path);
                // not Files.createTempFile: its files are private (0600), outputs get the umask's mode
                Path partial = OutputPaths.partialSibling(path);
                FileChannel channel;
                try {
                    channel = FileChannel.open(partial, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.READ, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    if (attempt == 16) {
                        throw new OutputFileException(path, e);
                    }
                    continue;
                } catch (IOException e) {
                    throw new OutputFileException(path, e);
                }
                pending.put(partial, path);
                open.add(new Output(path, channel));
                if (OutputPaths.lockAsLive(channel)) {
                    return channel;
                }
                // a concurrent run's sweep holds it and removes it: make another
                if (attempt == 16) {
                    throw new OutputFileException(path, "its partial file was locked by another process");
                }
            }
        }
    }

    private void checkNotAborted(Path path) throws OutputFileException {
        if (aborted) {
            throw new OutputFileException(path, "the extraction was aborted");
        }
    }

    /**
     * Writes what is pending and renames every file into place. A file already there is
     * replaced, or with {@link Option#NO_CLOBBER} refused. If it fails, the files renamed are
     * removed again ({@link #close()} removes the rest).
     *
     * @throws OutputFileException naming the file, also if {@link #abort()} came first
     */
    public void commit() throws IOException {
        synchronized (lock) {
            checkNotAborted(root);
            flushRun();
            writes.drain();
            writes.close();
            closeChannels();
            List<Path> renamed = new ArrayList<>();
            for (Map.Entry<Path, Path> file : pending.entrySet()) {
                try {
                    // an abort that came meanwhile waits for the lock: undo the renames, it removes the rest
                    checkNotAborted(file.getValue());
                    rename(file.getKey(), file.getValue());
                    renamed.add(file.getValue());
                } catch (IOException e) {
                    // all or nothing: what was already renamed goes too
                    for (Path done : renamed) {
                        Files.deleteIfExists(done);
                    }
                    throw e instanceof OutputFileException ? e : new OutputFileException(file.getValue(), e);
                }
            }
            pending.clear();
            committed = true;
        }
    }

    private void rename(Path partial, Path path) throws IOException {
        if (!noClobber) {
            Files.move(partial, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        // rename(2) replaces silently; link(2) fails if the name exists, at the moment it is made
        try {
            Files.createLink(path, partial);
        } catch (FileAlreadyExistsException e) {
            throw new OutputFileException(path, "file exists");
        } catch (IOException | UnsupportedOperationException e) {
            // no hard links here (vfat...): check, then rename
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                throw new OutputFileException(path, "file exists");
            }
            Files.move(partial, path, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Files.delete(partial);
    }

    /**
     * Stops the extraction from another thread, as on SIGINT or SIGTERM (the CLI calls it from a
     * shutdown hook): closes the files, so that the writes of the thread that extracts fail
     * (it must not report that failure: {@link #isAborted()}), and removes every partial file and
     * every directory the extractor created. After a {@link #commit()} that completed it changes
     * nothing; one that has not begun fails. Never throws.
     */
    public void abort() {
        aborted = true;
        for (Output output : open) {
            try {
                output.channel().close(); // a write in progress ends with AsynchronousCloseException
            } catch (IOException e) {
                // removed below all the same
            }
        }
        synchronized (lock) {
            discard();
        }
    }

    /**
     * Whether {@link #abort()} was called.
     *
     * @return true when the failures that follow are the abort's doing
     */
    public boolean isAborted() {
        return aborted;
    }

    /**
     * Removes every file not committed, and ends the thread that writes. Never throws: it runs on
     * the way out of a failure.
     */
    @Override
    public void close() {
        writes.close(); // before the channels close under a write in flight
        synchronized (lock) {
            discard();
        }
    }

    /** With the lock: closes the channels and, unless committed, removes what was made. */
    private void discard() {
        try {
            closeChannels();
        } catch (IOException e) {
            // removing them below is all that is left to do
        }
        if (committed) {
            return;
        }
        for (Path partial : pending.keySet()) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                // best effort: a leftover keeps its partial name, never the final one, and the next run removes it
            }
        }
        pending.clear();
        for (Path directory : createdDirectories.reversed()) {
            try {
                Files.deleteIfExists(directory); // only if empty: it fails otherwise
            } catch (IOException e) {
                // not empty (the user put something there meanwhile), or gone: leave it
            }
        }
        createdDirectories.clear();
    }

    private void closeChannels() throws OutputFileException {
        OutputFileException first = null;
        for (Output output : open) {
            try {
                output.channel().close();
            } catch (IOException e) {
                first = first == null ? new OutputFileException(output.path(), e) : first;
            }
        }
        open.clear();
        if (first != null) {
            throw first;
        }
    }
}
