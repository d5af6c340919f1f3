package io.qevm.consume;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Page-sized slots in a temporary file: page contents a consumer must keep but that exist nowhere
 * it can read again (a stream's pages, decoded pages). The file is unlinked as soon as it is
 * open, so that nothing is left behind, however the process ends; its space goes with the
 * channel. Slots are recycled through a free list.
 */
final class PageSpool implements Closeable {

    private final FileChannel channel;
    private final int pageSize;
    private int[] free = new int[16];
    private int freeCount;
    private int allocated;

    PageSpool(int pageSize) throws IOException {
        this.pageSize = pageSize;
        Path file = Files.createTempFile("qevm-spool-", ".tmp");
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    int allocate() {
        return freeCount > 0 ? free[--freeCount] : allocated++;
    }

    void free(int slot) {
        if (freeCount == free.length) {
            free = java.util.Arrays.copyOf(free, freeCount * 2);
        }
        free[freeCount++] = slot;
    }

    /** Writes the page at {@code index} of {@code page} into {@code slot}. */
    void write(int slot, MemorySegment page, long index) throws IOException {
        ByteBuffer bytes = page.asSlice(index, pageSize).asByteBuffer();
        long at = (long) slot * pageSize;
        while (bytes.hasRemaining()) {
            at += channel.write(bytes, at);
        }
    }

    /** Reads {@code slot} into {@code into} (one page). */
    void read(int slot, ByteBuffer into) throws IOException {
        long at = (long) slot * pageSize;
        while (into.hasRemaining()) {
            int read = channel.read(into, at);
            if (read < 0) {
                throw new IOException("spool file ends before slot " + slot);
            }
            at += read;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // the file is already unlinked: closing only frees its space
        }
    }
}
