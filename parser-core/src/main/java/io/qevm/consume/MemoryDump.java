package io.qevm.consume;

import io.qevm.MigrationReader;
import io.qevm.internal.LongLongMap;
import io.qevm.internal.PageSlots;
import java.lang.foreign.MemorySegment;
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
 * <p>Holds no page contents where it can avoid it: for a page whose last copy lies in the file
 * it keeps the offset and reads it again when writing (the file is mapped); only decoded pages
 * (zlib, XBZRLE) are copied. 24 bytes a page plus those copies.
 */
final class MemoryDump {

    private static final long KIND_MASK = 3L << 62;
    private static final long FILL = 0L;
    private static final long IN_FILE = 1L << 62;
    private static final long COPY = 2L << 62;

    private final List<String> blockNames = new ArrayList<>();
    private final Map<String, Integer> blockNumbers = new HashMap<>();
    private final LongLongMap ordinals = new LongLongMap();
    private long[] keys = new long[1024];
    private long[] locations = new long[1024];
    private int count;
    private PageSlots copies;

    /** Records a page event ({@code RAM_PAGE} or {@code ZERO_PAGE}) of {@code reader}. */
    void record(MigrationReader reader, boolean zero) {
        int size = reader.pageSize();
        long key = (long) blockNumber(reader.blockName()) << 40 | reader.pageAddress() / size;
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
        } else if (reader.pageSourceOffset() >= 0) {
            release(previous);
            locations[i] = IN_FILE | reader.pageSourceOffset();
        } else {
            if (copies == null) {
                copies = new PageSlots(size);
            }
            int slot = (previous & KIND_MASK) == COPY ? (int) (previous & ~KIND_MASK) : copies.allocate();
            MemorySegment.copy(reader.pageData(), java.lang.foreign.ValueLayout.JAVA_BYTE, reader.pageDataOffset(),
                    copies.array(slot), copies.offset(slot), size);
            locations[i] = COPY | slot;
        }
    }

    private void release(long location) {
        if ((location & KIND_MASK) == COPY) {
            copies.free((int) (location & ~KIND_MASK));
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

    /** Writes the object; {@code reader} must still be open, to read pages again. */
    void write(JsonGenerator generator, MigrationReader reader) {
        generator.writeStartObject();
        long pageSize = reader.ramPageSize();
        char[] hex = new char[(int) pageSize * 3];
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
                int length = (location & KIND_MASK) == IN_FILE
                        ? Hex.bytesInto(reader.bytesAt(value, pageSize), 0, (int) pageSize, hex)
                        : Hex.bytesInto(MemorySegment.ofArray(copies.array((int) value)),
                                copies.offset((int) value), (int) pageSize, hex);
                generator.writeString(hex, 0, length);
            }
        }
        generator.writeEndObject();
    }
}
