package io.qevm.examples;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.consume.MigrationConsumer;
import io.qevm.exc.MigrationReadException;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Searches guest RAM for a byte string (e.g. a text) and prints the RAM block and offset of each
 * hit, in block order then offset order:
 *
 * <pre>
 * $ $JAVA_HOME/bin/java -cp cli/target/qevm-cli-0.1.0-SNAPSHOT-all.jar \
 *       src-samples/examples/src/main/java/io/qevm/examples/FindBytes.java vm.mig 'some text'
 * pc.ram 0x0000000004000000
 * </pre>
 *
 * <p>Pages are read where they lie, without a copy: {@link MigrationReader#pageData()} is the
 * segment holding the page (the mapped file, or the reader's buffer for a page it decoded) and
 * {@link MigrationReader#pageDataOffset()} where the page starts in it. Compressed and XBZRLE
 * pages come decoded, so one loop serves every encoding.
 *
 * <p>Kept simple, on purpose:
 * <ul>
 *   <li>Each page is searched alone: a match that straddles two pages is not found, even when
 *       the pages are contiguous in the block. (Pages of a block need not come in order, nor at
 *       all when they are zero, so joining them would mean keeping pages around.)</li>
 *   <li>Zero pages are not searched: a string of zero bytes is not looked for there.</li>
 *   <li>The hits are those of the RAM the destination ends up with: when a live migration sends
 *       a page again, the hits of its earlier copy are forgotten.</li>
 * </ul>
 */
public final class FindBytes implements MigrationConsumer {

    /** A hit: the RAM block's idstr and the offset of the match within the block. */
    public record Hit(String block, long offset) {
        @Override
        public String toString() {
            return String.format("%s 0x%016x", block, offset);
        }
    }

    private final MemorySegment needle;
    private final byte first;
    /**
     * Per block (in the order the stream names blocks): the hits of each page that has any, by
     * the page's offset. Keyed by page so that a page sent again replaces its hits.
     */
    private final Map<String, TreeMap<Long, long[]>> hits = new LinkedHashMap<>();

    /** Searches for {@code bytes}, which must not be empty. */
    public FindBytes(byte[] bytes) {
        if (bytes.length == 0) {
            throw new IllegalArgumentException("nothing to search for");
        }
        this.needle = MemorySegment.ofArray(bytes.clone());
        this.first = bytes[0];
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        switch (event) {
            // the block list comes first: remembering it fixes the output order
            case RAM_BLOCK -> pagesOf(reader.blockName());
            case RAM_PAGE -> searchPage(reader);
            // a zero page replaces whatever the page held before
            case ZERO_PAGE -> pagesOf(reader.blockName()).remove(reader.pageOffset());
            default -> {
            }
        }
    }

    private TreeMap<Long, long[]> pagesOf(String block) {
        return hits.computeIfAbsent(block, name -> new TreeMap<>());
    }

    private void searchPage(MigrationReader reader) {
        // No copy: the page is bytes [start, start + pageSize) of data. Both are valid only
        // until the reader moves on, so nothing here keeps them.
        MemorySegment data = reader.pageData();
        long start = reader.pageDataOffset();
        long end = start + reader.pageSize();
        long length = needle.byteSize();
        long[] found = null;
        int count = 0;
        for (long at = start; at <= end - length; at++) {
            // a cheap test of the first byte, then a (vectorized) compare of the rest
            if (data.get(ValueLayout.JAVA_BYTE, at) == first
                    && MemorySegment.mismatch(data, at, at + length, needle, 0, length) < 0) {
                if (found == null) {
                    found = new long[4];
                } else if (count == found.length) {
                    found = Arrays.copyOf(found, count * 2);
                }
                found[count++] = at - start; // the hit's offset within the page
            }
        }
        TreeMap<Long, long[]> pages = pagesOf(reader.blockName());
        long page = reader.pageOffset();
        if (found == null) {
            pages.remove(page); // the page may have matched in an earlier copy
        } else {
            pages.put(page, Arrays.copyOf(found, count));
        }
    }

    /** The hits so far: blocks in stream order, offsets ascending. */
    public List<Hit> hits() {
        List<Hit> list = new ArrayList<>();
        hits.forEach((block, pages) -> pages.forEach((page, offsets) -> {
            for (long offset : offsets) {
                list.add(new Hit(block, page + offset));
            }
        }));
        return list;
    }

    /** Searches the RAM of {@code file} for {@code bytes}. */
    public static List<Hit> search(Path file, byte[] bytes) throws IOException {
        FindBytes find = new FindBytes(bytes);
        try (MigrationReader reader = MigrationReader.open(file)) {
            MigrationConsumer.drive(reader, find);
        }
        return find.hits();
    }

    /** Prints each hit on a line of its own: {@code <block> 0x<offset>}. */
    public static void print(List<Hit> hits, PrintStream out) {
        for (Hit hit : hits) {
            out.println(hit);
        }
    }

    /** {@code FindBytes FILE TEXT}: searches for TEXT's UTF-8 bytes; exits 1 when there is no hit. */
    public static void main(String[] args) throws IOException {
        if (args.length != 2 || args[1].isEmpty()) {
            System.err.println("usage: FindBytes FILE TEXT");
            System.exit(2);
        }
        try {
            List<Hit> hits = search(Path.of(args[0]), args[1].getBytes(StandardCharsets.UTF_8));
            print(hits, System.out);
            System.exit(hits.isEmpty() ? 1 : 0);
        } catch (MigrationReadException e) {
            System.err.println("FindBytes: " + e.getMessage());
            System.exit(2);
        }
    }
}
