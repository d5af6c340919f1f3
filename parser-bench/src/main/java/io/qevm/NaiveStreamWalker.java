package io.qevm;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The naive baselines' walk of a QEMU migration stream, written the obvious way: a
 * {@code DataInputStream(BufferedInputStream(FileInputStream, 64 KiB))}, {@code readLong} for each
 * RAM record header, the flags tested, {@code readFully} of each data page into one reused
 * {@code byte[]} (a stream cannot skip without reading). Subclasses decide what to do with what it
 * finds, through {@link #block}, {@link #page} and {@link #zeroPage}.
 *
 * <p>It decodes the RAM section only. Device sections (SECTION_FULL) and CONFIGURATION cannot be
 * walked without the JSON description, so it skips them by lengths the real reader measured once
 * ({@link #recordEnds}).
 *
 * <p>Block names are read into one reused {@code byte[]}; they become {@code String}s only for
 * each entry of the MEM_SIZE block list and for each record that is not CONTINUE (it names its
 * block). The walk allocates nothing per page.
 *
 * @param <B> what a subclass keeps per RAM block ({@code Void} if nothing): {@link #block}
 *     returns it, the walker hands the current one to {@link #page} and {@link #zeroPage}
 */
public abstract class NaiveStreamWalker<B> {

    /** The target page size the walker assumes. */
    public static final int PAGE_SIZE = 4096;
    private static final int FLAG_MASK = PAGE_SIZE - 1;

    /** Offset of each non-RAM record's type byte -> offset just past its body. */
    private final Map<Long, Long> skips;
    private final Map<String, B> blocks = new HashMap<>();
    private final byte[] page = new byte[PAGE_SIZE];
    private final byte[] name = new byte[256];
    private B current;
    private long records;

    /** @param skips where the records the walker cannot walk end, from {@link #recordEnds} */
    protected NaiveStreamWalker(Map<Long, Long> skips) {
        this.skips = skips;
    }

    /**
     * Where each record the baseline cannot walk ends, as the real reader finds it: offset of the
     * type byte of each CONFIGURATION and SECTION_FULL record -> offset just past its body.
     */
    public static Map<Long, Long> recordEnds(byte[] stream) throws IOException {
        Map<Long, Long> ends = new HashMap<>();
        try (MigrationReader reader = MigrationReader.open(stream, ReadOptions.DEFAULT)) {
            long start = -1;
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                switch (e) {
                    case CONFIGURATION -> ends.put(reader.eventOffset(), reader.position());
                    case SECTION_START -> start = reader.recordType() == RecordType.FULL ? reader.eventOffset() : -1;
                    case SECTION_END -> {
                        if (start >= 0) {
                            ends.put(start, reader.position());
                        }
                    }
                    default -> {
                    }
                }
            }
        }
        return ends;
    }

    /**
     * A RAM block of the MEM_SIZE list (called once per entry, each time the list is sent).
     *
     * @return what {@link #page} and {@link #zeroPage} get while this block is current
     */
    protected abstract B block(String name, long usedLength) throws IOException;

    /**
     * A data page of the current block. {@code page} is the walker's reused buffer: valid only
     * during the call.
     */
    protected abstract void page(B block, long address, byte[] page) throws IOException;

    /** A zero page of the current block; {@code fill} is its fill byte (0 in practice). */
    protected abstract void zeroPage(B block, long address, int fill) throws IOException;

    /** Walks {@code file} to QEMU_VM_EOF; returns the RAM page records (data and zero). */
    public final long walk(Path file) throws IOException {
        records = 0;
        current = null;
        blocks.clear();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file.toFile()), 65536))) {
            if (in.readInt() != 0x5145564d || in.readInt() != 3) {
                throw new IOException("not a QEMU migration stream");
            }
            long pos = 8;
            while (true) {
                long at = pos;
                int type = in.readUnsignedByte();
                pos++;
                switch (type) {
                    case 0x00 -> { // QEMU_VM_EOF
                        return records;
                    }
                    case 0x01, 0x04 -> { // SECTION_START, SECTION_FULL
                        in.readInt();
                        int length = in.readUnsignedByte();
                        in.readFully(name, 0, length);
                        in.readInt();
                        in.readInt();
                        pos += 4 + 1 + length + 8;
                        if (type == 0x01 && length == 3 && name[0] == 'r' && name[1] == 'a' && name[2] == 'm') {
                            pos += ramPart(in);
                        } else {
                            pos = skipTo(in, at, pos);
                        }
                    }
                    case 0x02, 0x03 -> { // SECTION_PART, SECTION_END: only RAM is iterative here
                        in.readInt();
                        pos += 4;
                        pos += ramPart(in);
                    }
                    case 0x7e -> { // footer
                        in.readInt();
                        pos += 4;
                    }
                    case 0x07 -> pos = skipTo(in, at, pos); // CONFIGURATION
                    case 0x08 -> { // COMMAND
                        in.readUnsignedShort();
                        int length = in.readUnsignedShort();
                        in.skipNBytes(length);
                        pos += 4 + length;
                    }
                    default -> throw new IOException("record type " + type + " at " + at);
                }
            }
        }
    }

    /** One part of the RAM section up to EOS; returns the bytes read. */
    private long ramPart(DataInputStream in) throws IOException {
        long read = 0;
        while (true) {
            long header = in.readLong();
            read += 8;
            int flags = (int) (header & FLAG_MASK);
            if ((flags & 0x010) != 0) { // EOS
                return read;
            }
            if ((flags & 0x004) != 0) { // MEM_SIZE: the block list
                for (long total = header & ~FLAG_MASK; total > 0; ) {
                    int length = in.readUnsignedByte();
                    in.readFully(name, 0, length);
                    long used = in.readLong();
                    total -= used;
                    read += 1 + length + 8;
                    String block = new String(name, 0, length, StandardCharsets.ISO_8859_1);
                    blocks.put(block, block(block, used));
                }
                continue;
            }
            if ((flags & 0x020) == 0) { // not CONTINUE: the block's name follows
                int length = in.readUnsignedByte();
                in.readFully(name, 0, length);
                read += 1 + length;
                current = blocks.get(new String(name, 0, length, StandardCharsets.ISO_8859_1));
            }
            long address = header & ~FLAG_MASK;
            if ((flags & 0x008) != 0) { // PAGE
                in.readFully(page);
                read += PAGE_SIZE;
                page(current, address, page);
            } else if ((flags & 0x002) != 0) { // ZERO
                int fill = in.readUnsignedByte();
                read++;
                zeroPage(current, address, fill);
            } else {
                throw new IOException("RAM flags 0x" + Integer.toHexString(flags) + " not handled by the baseline");
            }
            records++;
        }
    }

    private long skipTo(DataInputStream in, long at, long pos) throws IOException {
        Long end = skips.get(at);
        if (end == null) {
            throw new EOFException("no known length for the record at " + at);
        }
        in.skipNBytes(end - pos);
        return end;
    }
}
