package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * <p>Runs of pages that lie in the source file and follow each other in a block are written with
 * one gathering write, straight from the mapping.
 */
public final class PageExtractor implements MigrationConsumer, Closeable {

    private static final String PARTIAL = ".partial";
    private static final int RUN_PAGES = 64;
    private static final int PAGES_PER_SEEN_CHUNK = 1 << 16;

    private final Path root;
    private final Consumer<String> onBlock;
    private final Map<String, BlockFile> blocks = new HashMap<>();
    private final Map<Path, String> owners = new HashMap<>();
    private final Map<Path, Path> pending = new LinkedHashMap<>();
    private final List<FileChannel> channels = new ArrayList<>();
    private boolean committed;

    // the run of pages waiting for one gathering write
    private BlockFile runFile;
    private long runStart;
    private long runNext;
    private final ByteBuffer[] runBuffers = new ByteBuffer[RUN_PAGES];
    private int runCount;
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
            String owner = owners.putIfAbsent(path, name);
            if (owner != null) {
                throw new OutputFileException(path, "RAM blocks '" + OutputPaths.printable(owner) + "' and '"
                        + OutputPaths.printable(name) + "' would be written to the same file");
            }
            OutputPaths.createParents(root, path);
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
        long address = reader.pageAddress();
        int size = reader.pageSize();
        file.markSeen(address / size);
        if (reader.pageSourceOffset() >= 0) {
            // the bytes stay valid in the source after next(): gather them into one write
            if (runCount == 0 || runFile != file || runNext != address || runCount == RUN_PAGES) {
                flushRun();
                runFile = file;
                runStart = address;
                runNext = address;
            }
            runBuffers[runCount++] = reader.page().asByteBuffer();
            runNext += size;
        } else {
            flushRun();
            write(file, reader.page().asByteBuffer(), address);
        }
    }

    private void zeroPage(MigrationReader reader) throws IOException {
        BlockFile file = blocks.get(reader.blockName());
        long address = reader.pageAddress();
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
        if (runCount == 0) {
            return;
        }
        try {
            FileChannel channel = runFile.channel;
            channel.position(runStart);
            // a gathering write may stop short: go on until the last buffer is drained
            while (runBuffers[runCount - 1].hasRemaining()) {
                channel.write(runBuffers, 0, runCount);
            }
        } catch (IOException e) {
            throw new OutputFileException(runFile.path, e);
        } finally {
            java.util.Arrays.fill(runBuffers, 0, runCount, null);
            runCount = 0;
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
     * A stream to a whole file {@code name} under the output directory, renamed into place by
     * {@link #commit()} with the blocks. The caller closes it.
     */
    public OutputStream newFile(String name) throws IOException {
        Path path = OutputPaths.resolve(root, name);
        if (owners.putIfAbsent(path, name) != null) {
            throw new OutputFileException(path, "a RAM block would be written to the same file");
        }
        OutputPaths.createParents(root, path);
        return Channels.newOutputStream(create(path));
    }

    /** Creates {@code path}'s partial file; never follows or reuses what is there. */
    private FileChannel create(Path path) throws IOException {
        Path partial = path.resolveSibling(path.getFileName() + PARTIAL);
        try {
            Files.deleteIfExists(partial);
            FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            channels.add(channel);
            pending.put(partial, path);
            return channel;
        } catch (FileAlreadyExistsException e) {
            throw new OutputFileException(partial, "exists and cannot be replaced");
        } catch (IOException e) {
            throw new OutputFileException(partial, e);
        }
    }

    /** Writes what is pending and renames every file into place. */
    public void commit() throws IOException {
        flushRun();
        closeChannels();
        for (Map.Entry<Path, Path> file : pending.entrySet()) {
            try {
                Files.move(file.getKey(), file.getValue(), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
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
