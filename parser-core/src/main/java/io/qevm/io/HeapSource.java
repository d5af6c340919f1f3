package io.qevm.io;

import java.lang.foreign.MemorySegment;

/** A source over a byte array: streams built in tests, small inputs already in memory. */
final class HeapSource implements ByteSource {

    private final MemorySegment bytes;
    private final String name;

    HeapSource(byte[] bytes, String name) {
        this.bytes = MemorySegment.ofArray(bytes);
        this.name = name;
    }

    @Override
    public MemorySegment window(long offset, long minBytes) {
        return bytes.asSlice(Math.min(offset, bytes.byteSize()));
    }

    @Override
    public long size() {
        return bytes.byteSize();
    }

    @Override
    public boolean isRandomAccess() {
        return true;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String kind() {
        return "file";
    }

    @Override
    public void close() {
        // nothing to release: the array belongs to the caller
    }
}
