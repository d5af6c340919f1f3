package io.qevm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RAM page loop allocates nothing per page: walking a stream of many pages, skipping them or
 * reading every byte through {@link MigrationReader#pageData()}, costs the same few bytes of heap
 * as walking a stream of a few pages, from every kind of source. Counted with the JVM's
 * per-thread allocation counter (the same one JMH's {@code -prof gc} reads), not timed.
 */
class RamHotPathAllocationTest {

    private static final int PAGE = 4096;
    private static final String DESCRIPTION = "{\"page_size\":4096,\"devices\":[]}";

    @TempDir
    Path folder;

    /** START ram with one block of {@code pages} pages, every other one data, the rest zero. */
    private static byte[] ramStream(int pages) {
        StreamBuilder b = StreamBuilder.stream();
        b.sectionStart(2, "ram", 0, 4).memSize((long) pages * PAGE).block("pc.ram", (long) pages * PAGE);
        byte[] data = StreamBuilder.pattern(PAGE, 7);
        for (int i = 0; i < pages; i++) {
            // every 8th record names its block (not CONTINUE): finding a block by name must not allocate
            String block = i % 8 == 0 ? "pc.ram" : null;
            if (i % 2 == 0) {
                b.page((long) i * PAGE, block, data);
            } else {
                b.zeroPage((long) i * PAGE, block, 0);
            }
        }
        return b.eos().footer(2).eof().description(DESCRIPTION).toByteArray();
    }

    /** Bytes this thread allocates walking the stream from its first RAM record to EOF. */
    private static long allocatedWalking(MigrationReader reader, boolean touch) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        reader.next(); // SECTION_START
        reader.next(); // RAM_BLOCK
        long sum = 0;
        long before = threads.getCurrentThreadAllocatedBytes();
        for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
            if (touch && e == MigrationEvent.RAM_PAGE) {
                MemorySegment data = reader.pageData();
                long offset = reader.pageDataOffset();
                for (int i = 0; i < PAGE; i += 8) {
                    sum += data.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + i);
                }
            }
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        reader.close();
        assertTrue(sum != 0 || !touch, "the pages were read");
        return allocated;
    }

    private long perPageGrowth(Kind kind, boolean touch) throws Exception {
        byte[] small = ramStream(64);
        byte[] large = ramStream(64 * 1024);
        // warm up both paths first, so that class loading is not counted
        allocatedWalking(open(small, kind, "warm"), touch);
        allocatedWalking(open(large, kind, "warm-large"), touch);
        long smallBytes = allocatedWalking(open(small, kind, "small"), touch);
        long largeBytes = allocatedWalking(open(large, kind, "large"), touch);
        return largeBytes - smallBytes;
    }

    private enum Kind { HEAP, MAPPED, STREAM }

    private MigrationReader open(byte[] bytes, Kind kind, String name) throws Exception {
        return switch (kind) {
            case HEAP -> MigrationReader.open(bytes, ReadOptions.DEFAULT);
            case MAPPED -> {
                Path file = folder.resolve(name + ".mig");
                Files.write(file, bytes);
                yield MigrationReader.open(file, ReadOptions.DEFAULT);
            }
            // reads fill the window (not SourceKind.STREAM's trickle): a refill every few MiB, as from a pipe
            case STREAM -> MigrationReader.open(new ByteArrayInputStream(bytes), ReadOptions.DEFAULT);
        };
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void skippingPagesAllocatesNothingPerPage(Kind kind) throws Exception {
        // 65472 more records in the large stream: even one byte a record would show as 64 KiB
        assertEquals(0, Math.max(0, perPageGrowth(kind, false) - 4096), kind + " source, pages skipped");
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void readingPagesThroughPageDataAllocatesNothingPerPage(Kind kind) throws Exception {
        assertEquals(0, Math.max(0, perPageGrowth(kind, true) - 4096), kind + " source, pages read");
    }
}
