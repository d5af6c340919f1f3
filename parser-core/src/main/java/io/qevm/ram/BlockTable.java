package io.qevm.ram;

import io.qevm.ReadLimits;
import io.qevm.internal.LongLongMap;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The RAM blocks a stream has listed, found by name: by the name's bytes where a page record
 * names its block (no String per page), by String elsewhere. Not part of the API.
 */
final class BlockTable {

    private final List<Block> blocks = new ArrayList<>();
    private final Map<String, Block> byName = new HashMap<>();
    /** Block numbers by a hash of their name bytes. */
    private final LongLongMap byNameHash = new LongLongMap();
    private final ReadLimits limits;
    private final ReadLocation at;

    BlockTable(ReadLimits limits, ReadLocation at) {
        this.limits = limits;
        this.at = at;
    }

    List<Block> all() {
        return blocks;
    }

    Block named(String name) {
        return byName.get(name);
    }

    /** The block a MEM_SIZE entry names, added when new. */
    Block findOrAdd(String name, byte[] nameBytes) {
        Block existing = byName.get(name);
        if (existing != null) {
            return existing;
        }
        limits.validateBlocks(blocks.size() + 1L, at);
        Block added = new Block(blocks.size(), name, nameBytes);
        blocks.add(added);
        byName.put(name, added);
        byNameHash.put(nameHash(added.nameBytes, 0, nameBytes.length), added.number, -1);
        return added;
    }

    /**
     * Reads a page record's u8 length + idstr and finds the block, without allocating;
     * {@code likely} (the previous record's block) is tried first.
     */
    Block readName(ByteCursor in, Block likely) {
        int length = in.u8();
        long at = in.take(length, "block name");
        if (likely != null && sameName(likely, in.segment(), in.index(at), length)) {
            return likely;
        }
        Block found = find(in, at, length);
        if (found == null) {
            throw this.at.malformed(Messages.unknownBlock(in.utf8(at, length)));
        }
        return found;
    }

    /** The block named by the {@code length} bytes at {@code offset} (in the cursor's window), or null. */
    Block find(ByteCursor in, long offset, int length) {
        MemorySegment bytes = in.segment();
        long from = in.index(offset);
        long number = byNameHash.get(nameHash(bytes, from, length), -1);
        if (number >= 0) {
            Block candidate = blocks.get((int) number);
            if (sameName(candidate, bytes, from, length)) {
                return candidate;
            }
            for (Block other : blocks) { // two names with one hash: rare enough for a search
                if (sameName(other, bytes, from, length)) {
                    return other;
                }
            }
        }
        return null;
    }

    private static boolean sameName(Block block, MemorySegment bytes, long from, int length) {
        return block.nameBytes.byteSize() == length
                && MemorySegment.mismatch(bytes, from, from + length, block.nameBytes, 0, length) < 0;
    }

    /** FNV-1a over a name's bytes, as a non-negative key. */
    private static long nameHash(MemorySegment bytes, long from, long length) {
        long hash = 0xcbf29ce484222325L;
        for (long i = 0; i < length; i++) {
            hash = (hash ^ (bytes.get(ValueLayout.JAVA_BYTE, from + i) & 0xff)) * 0x100000001b3L;
        }
        return hash & Long.MAX_VALUE;
    }

    /** A name's bytes as the String the block is known by. */
    static String nameOf(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
