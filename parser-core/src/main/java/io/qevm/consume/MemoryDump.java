package io.qevm.consume;

import io.qevm.MigrationReader;
import io.qevm.internal.LongLongMap;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JsonGenerator;

/**
 * The reference's {@code -m} "memory" object of one RAM section: a key
 * {@code "<block> (0x%016x)"} per page in first-seen order, each with its last copy's value
 * ({@code "Filled with 0x00"} or the bytes in hex).
 *
 * <p>Holds no page contents in memory: for a page whose last copy lies in a file it keeps the
 * offset and reads it again when writing (the file is mapped); pages of a stream and decoded
 * pages (zlib, XBZRLE) go to a {@link PageSpool}. 24 bytes a page in memory.
 */
final class MemoryDump implements Closeable {

    private static final long KIND_MASK = 3L << 62;
    private static final long FILL = 0L;
    private static final long IN_SOURCE = 1L << 62;
    private static final long SPOOLED = 2L << 62;

    private final List<String> blockNames = new ArrayList<>();
    private final Map<String, Integer> blockNumbers = new HashMap<>();
    private final LongLongMap ordinals = new LongLongMap();
    private long[] keys = new long[1024];
    private long[] locations = new long[1024];
    private int count;
    private PageSpool spool;
    private ByteBuffer pageBuffer;

    /** Records a page event ({@code RAM_PAGE} or {@code ZERO_PAGE}) of {@code reader}. */
    void record(MigrationReader reader, boolean zero) throws IOException {
        int size = reader.pageSize();
        long key = (long) blockNumber(reader.blockName()) << 40 | reader.pageOffset() / size;
        long ordinal = ordinals.get(key, -1);
        if (ordinal < 0) {
            ordinal = count++;
            ordinals.put(key, ordinal, -1);
            if (count > keys.length) {
                keys = Arrays.copyOf(keys, keys.length * 2);
                locations = Arrays.copyOf(locations, keys.length);
            }
            keys[(int) ordinal] = key;
            locations[(int) ordinal] = FILL;
        }
        int i = (int) ordinal;
        long previous = locations[i];
        if (zero) {
            release(previous);
            locations[i] = FILL | reader.fillByte();
        } else if (reader.isRandomAccess() && reader.pageSourceOffset() >= 0) {
            release(previous);
            locations[i] = IN_SOURCE | reader.pageSourceOffset();
        } else {
            if (spool == null) {
                spool = new PageSpool(size);
            }
            int slot = (previous & KIND_MASK) == SPOOLED ? (int) (previous & ~KIND_MASK) : spool.allocate();
            spool.write(slot, reader.pageData(), reader.pageDataOffset());
            locations[i] = SPOOLED | slot;
        }
    }

    private void release(long location) {
        if ((location & KIND_MASK) == SPOOLED) {
            spool.free((int) (location & ~KIND_MASK));
        }
    }

    private int blockNumber(String name) {
        Integer number = blockNumbers.get(name);
        if (number == null) {
            number = blockNames.size();
            blockNames.add(name);
            blockNumbers.put(name, number);
        }
        return number;
    }

    /** Copies the last copy of a page into {@code into}: zeros when it was never recorded. */
    void readPage(MigrationReader reader, String block, long offset, MemorySegment into) throws IOException {
        Integer number = blockNumbers.get(block);
        long ordinal = number == null ? -1 : ordinals.get((long) number << 40 | offset / into.byteSize(), -1);
        if (ordinal < 0) {
            into.fill((byte) 0);
            return;
        }
        long location = locations[(int) ordinal];
        long value = location & ~KIND_MASK;
        if ((location & KIND_MASK) == FILL) {
            into.fill((byte) value);
        } else if ((location & KIND_MASK) == IN_SOURCE) {
            into.copyFrom(reader.bytesAt(value, into.byteSize()));
        } else {
            ByteBuffer buffer = pageBuffer((int) into.byteSize());
            spool.read((int) value, buffer);
            into.copyFrom(MemorySegment.ofBuffer(buffer.flip()));
        }
    }

    private ByteBuffer pageBuffer(int size) {
        if (pageBuffer == null || pageBuffer.capacity() != size) {
            pageBuffer = ByteBuffer.allocateDirect(size);
        }
        return pageBuffer.clear();
    }

    /** Writes the object; {@code reader} must still be open, to read pages again. */
    void write(JsonGenerator generator, MigrationReader reader) {
        generator.writeStartObject();
        long pageSize = reader.ramPageSize();
        // a RAM section of no pages may leave the page size unknown: then nothing is read
        char[] hex = new char[count == 0 ? 0 : (int) pageSize * 3];
        for (int i = 0; i < count; i++) {
            long key = keys[i];
            long address = (key & ((1L << 40) - 1)) * pageSize;
            generator.writeName(blockNames.get((int) (key >>> 40)) + " (" + Hex.padded(address, 16) + ")");
            long location = locations[i];
            long value = location & ~KIND_MASK;
            if ((location & KIND_MASK) == FILL) {
                // the reference reads the fill byte signed: 0xff prints as "-1"
                int fill = (byte) value;
                generator.writeString("Filled with 0x"
                        + (fill < 0 ? "-" + Integer.toHexString(-fill) : String.format("%02x", fill)));
            } else {
                // one char buffer for every page: a String per page would be 24 KiB of garbage each
                MemorySegment bytes = (location & KIND_MASK) == IN_SOURCE
                        ? reader.bytesAt(value, pageSize) : spooled((int) value, (int) pageSize);
                generator.writeString(hex, 0, Hex.bytesInto(bytes, 0, (int) pageSize, hex));
            }
        }
        generator.writeEndObject();
    }

    private MemorySegment spooled(int slot, int size) {
        ByteBuffer buffer = pageBuffer(size);
        try {
            spool.read(slot, buffer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return MemorySegment.ofBuffer(buffer.flip());
    }

    @Override
    public void close() {
        if (spool != null) {
            spool.close();
        }
    }
}
