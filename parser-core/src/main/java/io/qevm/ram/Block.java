package io.qevm.ram;

import java.lang.foreign.MemorySegment;

/**
 * A RAM block of the MEM_SIZE list (QEMU's RAMBlock as migration/ram.c sends it): its idstr,
 * used_length and what the capabilities add to its entry. {@code nameBytes} lets page records
 * name it without a String. Not part of the API.
 */
public final class Block {

    final int number;
    final String name;
    final MemorySegment nameBytes;
    long length;
    long pageSize = -1;
    long mrAddr = -1;

    Block(int number, String name, byte[] nameBytes) {
        this.number = number;
        this.name = name;
        this.nameBytes = MemorySegment.ofArray(nameBytes);
    }

    /** Its place in the MEM_SIZE list, from 0. */
    public int number() {
        return number;
    }

    public String name() {
        return name;
    }

    /** used_length in bytes. */
    public long length() {
        return length;
    }

    /** The block's own page size when the stream gives it (postcopy, huge pages), else -1. */
    public long pageSize() {
        return pageSize;
    }

    /** The block's guest address when the stream gives it (x-ignore-shared), else -1. */
    public long mrAddr() {
        return mrAddr;
    }
}
