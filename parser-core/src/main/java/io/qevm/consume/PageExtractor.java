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
import java.util.function.Consumer;

/**
 * Writes guest RAM out of a migration stream, as {@code analyze-migration.py -x} does: one file
 * per RAM block, named by its idstr under the output directory (see {@link OutputPaths}), sized
 * to the block's used_length, sparse, each page at its offset; the last copy of a page wins,
 * and zero pages stay holes unless they replace earlier data.
 *
 * <p>All or nothing: every file is written under a {@code .partial} name and renamed into place
 * by {@link #commit()}; {@link #close()} without a commit removes them. Whole files written
 * alongside ({@code desc.json}, {@code state.json}) go through {@link #newFile} for the same rule.
 *
 * <p>Pages that follow each other in a block are gathered in a buffer and written with one
 * write: whatever the source, a page's bytes are copied once, while they are valid.
 *
 * <p>The files hold the last copy of every page written so far, so the extractor is also a
 * {@link PageStore}: a reader over a stream applies XBZRLE deltas to what it wrote.
 */
public final class PageExtractor implements MigrationConsumer, PageStore, Closeable {

    private static final String PARTIAL = ".partial";
    /**
     * The bytes of contiguous pages gathered for one write: 1 MiB writes took ~40% longer than
     * 256 KiB ones on ext4 (parser-bench/scripts/WriteSize.java, results/issue8/write-size.log).
     */
    private static final int RUN_BYTES = 256 << 10;
    private static final int PAGES_PER_SEEN_CHUNK = 1 << 16;

    private final Path root;
    private final Consumer<String> onBlock;
    private final Map<String, BlockFile> blocks = new HashMap<>();
    /** Final path of every output file, and what it holds (a block's name, or desc.json...). */
    private final Map<Path, String> owners = new HashMap<>();
    /** Directories the outputs need: no output file may have one of these paths. */
    private final Set<Path> directories = new HashSet<>();
    /** Directories this extractor created, outermost first: removed again if it fails. */
    private final List<Path> createdDirectories = new ArrayList<>();
    /** Partial file -> final path, for every output not yet renamed into place. */
    private final Map<Path, Path> pending = new LinkedHashMap<>();
    private final List<FileChannel> channels = new ArrayList<>();
    private boolean committed;

    // the run of pages waiting for one write
    private BlockFile runFile;
    private long runStart;
    private final ByteBuffer run = ByteBuffer.allocateDirect(RUN_BYTES);
    private final MemorySegment runBytes = MemorySegment.ofBuffer(run);
    private ByteBuffer fillPage;

    /** A block's output file and which of its pages were written. */
    private static final class BlockFile {
        final Path path;
        final FileChannel channel;
        long length;
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
     * An extractor writing under {@code outputDirectory} (created if missing).
     *
     * @param outputDirectory where the files go
     * @param onBlock told each block's name when its file is created (the CLI prints it)
     * @throws OutputFileException if the directory cannot be created or resolved
     */
    public PageExtractor(Path outputDirectory, Consumer<String> onBlock) throws OutputFileException {
        try {
            Files.createDirectories(outputDirectory);
            this.root = outputDirectory.toRealPath();
        } catch (IOException e) {
            throw new OutputFileException(outputDirectory, e);
        }
        this.onBlock = onBlock;
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
            throw new OutputFileException(file.path, e);
        }
    }

    private void page(MigrationReader reader) throws IOException {
        BlockFile file = blocks.get(reader.blockName());
        long address = reader.pageOffset();
        int size = reader.pageSize();
        file.markSeen(address / size);
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
        if (fillPage == null || fillPage.capacity() != size || fillPage.get(0) != (byte) reader.fillByte()) {
            byte[] fill = new byte[size];
            java.util.Arrays.fill(fill, (byte) reader.fillByte());
            fillPage = ByteBuffer.wrap(fill);
        }
        write(file, fillPage.duplicate(), address);
    }

    private void flushRun() throws IOException {
        if (run.position() == 0) {
            return;
        }
        run.flip();
        try {
            write(runFile, run, runStart);
        } finally {
            run.clear();
            runFile = null;
        }
    }

    private static void write(BlockFile file, ByteBuffer page, long address) throws IOException {
        try {
            while (page.hasRemaining()) {
                file.channel.write(page, address + page.position());
            }
        } catch (IOException e) {
            throw new OutputFileException(file.path, e);
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
     * A stream to a whole file {@code name} under the output directory, renamed into place by
     * {@link #commit()} with the blocks. The caller closes it.
     *
     * @param name the file's name, relative to the output directory
     * @return the stream
     * @throws IOException if the file cannot be created, or the name is refused
     *                     ({@link OutputFileException})
     */
    public OutputStream newFile(String name) throws IOException {
        Path path = OutputPaths.resolve(root, name);
        claim(path, "'" + OutputPaths.printable(name) + "'");
        return Channels.newOutputStream(create(path));
    }

    /**
     * Reserves {@code path} for one output, refusing a second output of the same path, and a path
     * that another output needs as a directory or whose directories another output is: found
     * here, before anything is written, not when the renames fail.
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
        OutputPaths.createParents(root, path, createdDirectories);
    }

    /**
     * Creates a partial file beside {@code path}: a fresh name of its own, so that no output,
     * whatever its name, can be another's partial file; never follows or reuses what is there.
     */
    private FileChannel create(Path path) throws IOException {
        for (int attempt = 0; ; attempt++) {
            // not Files.createTempFile: its files are private (0600), outputs get the umask's mode
            Path partial = path.resolveSibling(".qevm-" + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + PARTIAL);
            try {
                FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.READ, StandardOpenOption.WRITE);
                channels.add(channel);
                pending.put(partial, path);
                return channel;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 16) {
                    throw new OutputFileException(partial, e);
                }
            } catch (IOException e) {
                throw new OutputFileException(partial, e);
            }
        }
    }

    /**
     * Writes what is pending and renames every file into place.
     *
     * @throws IOException if a file cannot be written or renamed ({@link OutputFileException})
     */
    public void commit() throws IOException {
        flushRun();
        closeChannels();
        List<Path> renamed = new ArrayList<>();
        for (Map.Entry<Path, Path> file : pending.entrySet()) {
            try {
                Files.move(file.getKey(), file.getValue(), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
                renamed.add(file.getValue());
            } catch (IOException e) {
                // all or nothing: what was already renamed goes too (close() removes the rest)
                for (Path done : renamed) {
                    Files.deleteIfExists(done);
                }
                throw new OutputFileException(file.getValue(), e);
            }
        }
        pending.clear();
        committed = true;
    }

    /** Removes every file not committed. Never throws: it runs on the way out of a failure. */
    @Override
    public void close() {
        try {
            closeChannels();
        } catch (IOException e) {
            // removing them below is all that is left to do
        }
        if (!committed) {
            for (Path partial : pending.keySet()) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException e) {
                    // best effort: a leftover keeps its .partial name, never the final one
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
        }
    }

    private void closeChannels() throws IOException {
        IOException first = null;
        for (FileChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        channels.clear();
        if (first != null) {
            throw first;
        }
    }
}
