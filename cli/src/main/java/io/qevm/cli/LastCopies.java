package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the last copy of every RAM page of a dump is, for {@code qevm diff} only: a stop-gap
 * until the library's guest-memory index is merged. One pass over the stream: a raw or mapped
 * page is kept as its offset in the file, a zero page as its fill byte, any other (zlib,
 * XBZRLE) decoded into a spool file; 8 bytes a page of guest RAM, in chunks made as pages
 * arrive. Needs a random-access source (a file, not a pipe).
 */
final class LastCopies implements RamDiff.Ram {

    private static final int CHUNK_BITS = 12;
    private static final int CHUNK = 1 << CHUNK_BITS;
    private static final long NEVER = 0;
    private static final long FILL = 1L << 62;
    private static final long SOURCE = 2L << 62;
    private static final long SPOOL = 3L << 62;
    private static final long KIND = 3L << 62;

    private final MigrationReader reader;
    private final Map<String, BlockPages> blocks = new LinkedHashMap<>();
    private final FileChannel spool;
    private final Path spoolFile;
    private long spoolSize;

    private static final class BlockPages {
        final RamDiff.Block block;
        final long[][] chunks;

        BlockPages(RamDiff.Block block) {
            this.block = block;
            if (block.length() / block.pageSize() > 1L << 40) {
                throw new IllegalArgumentException("RAM block " + block.name() + " of " + block.length() + " bytes");
            }
            this.chunks = new long[(int) Math.ceilDiv(Math.ceilDiv(block.length(), block.pageSize()), CHUNK)][];
        }

        long get(long page) {
            long[] chunk = chunks[(int) (page >>> CHUNK_BITS)];
            return chunk == null ? NEVER : chunk[(int) (page & (CHUNK - 1))];
        }

        void set(long page, long location) {
            int c = (int) (page >>> CHUNK_BITS);
            if (chunks[c] == null) {
                chunks[c] = new long[CHUNK];
            }
            chunks[c][(int) (page & (CHUNK - 1))] = location;
        }
    }

    private LastCopies(MigrationReader reader) throws IOException {
        this.reader = reader;
        this.spoolFile = Files.createTempFile("qevm-diff-", ".pages");
        this.spool = FileChannel.open(spoolFile, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE);
    }

    static LastCopies open(Path file, ReadOptions options) throws IOException {
        MigrationReader reader = MigrationReader.open(file, options);
        LastCopies copies = null;
        try {
            if (!reader.isRandomAccess()) {
                throw new IOException("not a seekable file: diff reads each dump twice");
            }
            copies = new LastCopies(reader);
            copies.index();
            return copies;
        } catch (IOException | RuntimeException | Error e) {
            if (copies != null) {
                copies.close();
            } else {
                reader.close();
            }
            throw e;
        }
    }

    private void index() throws IOException {
        List<String> order = new ArrayList<>();
        Map<String, Long> lengths = new LinkedHashMap<>();
        BlockPages current = null;
        for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
            switch (e) {
                case RAM_BLOCK -> {
                    if (!lengths.containsKey(reader.blockName())) {
                        order.add(reader.blockName());
                    }
                    lengths.put(reader.blockName(), reader.blockLength());
                }
                case RAM_PAGE, ZERO_PAGE -> {
                    String name = reader.blockName();
                    if (current == null || !current.block.name().equals(name)) {
                        current = blocks.get(name);
                        if (current == null) {
                            long length = lengths.getOrDefault(name, 0L);
                            current = new BlockPages(new RamDiff.Block(name, length, reader.pageSize()));
                            blocks.put(name, current);
                        }
                    }
                    long page = reader.pageOffset() / reader.pageSize();
                    if (page >= Math.ceilDiv(current.block.length(), current.block.pageSize())) {
                        throw new IOException("page at offset 0x" + Long.toHexString(reader.pageOffset())
                                + " beyond RAM block " + name + " at byte " + reader.eventOffset());
                    }
                    if (e == MigrationEvent.ZERO_PAGE) {
                        current.set(page, FILL | reader.fillByte());
                    } else if (reader.pageSourceOffset() >= 0) {
                        current.set(page, SOURCE | reader.pageSourceOffset());
                    } else {
                        MemorySegment data = reader.page();
                        long at = spoolSize;
                        ByteBuffer buffer = data.asByteBuffer();
                        while (buffer.hasRemaining()) {
                            spool.write(buffer, at + (data.byteSize() - buffer.remaining()));
                        }
                        spoolSize += data.byteSize();
                        current.set(page, SPOOL | at);
                    }
                }
                default -> {
                }
            }
        }
        // blocks announced but never sent a page: all zero
        long pageSize = reader.ramPageSize() > 0 ? reader.ramPageSize() : 4096;
        Map<String, BlockPages> ordered = new LinkedHashMap<>();
        for (String name : order) {
            BlockPages pages = blocks.get(name);
            ordered.put(name, pages != null ? pages
                    : new BlockPages(new RamDiff.Block(name, lengths.get(name), (int) pageSize)));
        }
        ordered.putAll(blocks);
        blocks.clear();
        blocks.putAll(ordered);
    }

    @Override
    public List<RamDiff.Block> blocks() {
        return blocks.values().stream().map(b -> b.block).toList();
    }

    @Override
    public RamDiff.Kind kind(String block, long page) {
        long location = blocks.get(block).get(page);
        return switch ((int) ((location & KIND) >>> 62)) {
            case 0 -> RamDiff.Kind.ZERO;
            case 1 -> (location & 0xff) == 0 ? RamDiff.Kind.ZERO : RamDiff.Kind.FILL;
            default -> RamDiff.Kind.DATA;
        };
    }

    @Override
    public void read(String block, long offset, byte[] dst, int dstOffset, int length) throws IOException {
        BlockPages pages = blocks.get(block);
        int pageSize = pages.block.pageSize();
        while (length > 0) {
            long page = offset / pageSize;
            int within = (int) (offset % pageSize);
            int n = Math.min(length, pageSize - within);
            long location = pages.get(page);
            long value = location & ~KIND;
            switch ((int) ((location & KIND) >>> 62)) {
                case 0 -> java.util.Arrays.fill(dst, dstOffset, dstOffset + n, (byte) 0);
                case 1 -> java.util.Arrays.fill(dst, dstOffset, dstOffset + n, (byte) value);
                case 2 -> MemorySegment.copy(reader.bytesAt(value + within, n), ValueLayout.JAVA_BYTE, 0, dst,
                        dstOffset, n);
                default -> {
                    ByteBuffer into = ByteBuffer.wrap(dst, dstOffset, n);
                    while (into.hasRemaining()) {
                        if (spool.read(into, value + within + (n - into.remaining())) < 0) {
                            throw new IOException("spool file ended early");
                        }
                    }
                }
            }
            offset += n;
            dstOffset += n;
            length -= n;
        }
    }

    @Override
    public void close() {
        try {
            spool.close();
        } catch (IOException e) {
            // deleted on close regardless; nothing to report for a temporary file
        }
        reader.close();
    }
}
