package io.qevm.examples;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.PageEncoding;
import io.qevm.ReadOptions;
import io.qevm.consume.MigrationConsumer;
import io.qevm.exc.MigrationReadException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts the pages of each RAM block by how they travelled: data pages by {@link PageEncoding}
 * (raw, mapped-ram, zlib-compressed, XBZRLE delta), zero pages, the bytes of data they carry,
 * and how many pages were sent more than once (a live migration resends the pages the guest
 * dirtied).
 *
 * <pre>
 * $JAVA_HOME/bin/java -cp cli/target/qevm-cli-0.1.0-SNAPSHOT-all.jar \
 *     src-samples/examples/src/main/java/io/qevm/examples/PageCensus.java vm.mig
 * </pre>
 *
 * <p>It is a {@link MigrationConsumer}: it looks at two events, {@code RAM_BLOCK} and
 * {@code RAM_PAGE}/{@code ZERO_PAGE}, and ignores the rest, so it can share one pass over the
 * file with other consumers ({@code MigrationConsumer.drive(reader, census, other)}). Which
 * pages are resends the reader tells ({@link MigrationReader#isResend()}), when it is opened with
 * {@link ReadOptions.Feature#TRACK_RESENDS}, as {@link #of(Path)} does: a census of a reader
 * opened without it fails on the first page with an {@link IllegalStateException}.
 *
 * <p>{@link MigrationReader#open(Path)} wants the stream's JSON description, even though RAM
 * does not need it: a dump saved with {@code suppress-vmdesc=on} is refused. (Reading its RAM
 * takes {@code ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION)}: the
 * reader then ends, with EOF, at the first device section after RAM, which cannot be decoded
 * without the description.)
 */
public final class PageCensus implements MigrationConsumer {

    /** What was counted for one RAM block. Mutable while the stream is read. */
    public static final class BlockCounts {
        private final String name;
        private long length;
        private final Map<PageEncoding, Long> dataPages = new EnumMap<>(PageEncoding.class);
        private long zeroPages;
        private long dataBytes;
        /** Distinct pages sent: the pages whose first copy was seen. */
        private long pagesSent;
        /** Pages sent at least twice, by page number (offset / page size). */
        private final BitSet sentAgain = new BitSet();

        BlockCounts(String name) {
            this.name = name;
        }

        /** The block's idstr, e.g. {@code pc.ram}. */
        public String name() {
            return name;
        }

        /** The block's length in bytes, as the stream's block list gives it. */
        public long length() {
            return length;
        }

        /** Data pages (RAM_PAGE events) that travelled with the given encoding. */
        public long dataPages(PageEncoding encoding) {
            return dataPages.getOrDefault(encoding, 0L);
        }

        /** Data pages of all encodings. */
        public long dataPages() {
            return dataPages.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Zero pages (ZERO_PAGE events: a page filled with one byte, sent as a flag). */
        public long zeroPages() {
            return zeroPages;
        }

        /** Bytes of guest data the data pages carry, once decoded: data pages x page size. */
        public long dataBytes() {
            return dataBytes;
        }

        /** Distinct pages sent more than once (as data or as zero pages, in any mix). */
        public long pagesResent() {
            return sentAgain.cardinality();
        }

        /** Which pages were sent more than once, by page number (offset / page size); a copy. */
        public BitSet resentPages() {
            return (BitSet) sentAgain.clone();
        }

        /** Distinct pages sent at least once. */
        public long pagesSent() {
            return pagesSent;
        }

        private void count(MigrationReader reader) {
            if (reader.isResend()) {
                // a BitSet is indexed by int: 2^31 pages of 4 KiB is 8 TiB, enough for an example
                sentAgain.set(Math.toIntExact(reader.pageOffset() / reader.pageSize()));
            } else {
                pagesSent++;
            }
        }
    }

    /** Blocks by name, in the order the stream first names them (its block list). */
    private final Map<String, BlockCounts> blocks = new LinkedHashMap<>();

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        switch (event) {
            // The RAM section starts with the list of blocks (RAM_SAVE_FLAG_MEM_SIZE): one
            // RAM_BLOCK event per block, with its name and length.
            case RAM_BLOCK -> block(reader.blockName()).length = reader.blockLength();
            case RAM_PAGE -> {
                BlockCounts counts = block(reader.blockName());
                // pageEncoding() says how the page travelled; the reader has already decoded it,
                // so a consumer that wants the bytes does not care.
                counts.dataPages.merge(reader.pageEncoding(), 1L, Long::sum);
                counts.dataBytes += reader.pageSize();
                counts.count(reader);
            }
            case ZERO_PAGE -> {
                BlockCounts counts = block(reader.blockName());
                counts.zeroPages++;
                counts.count(reader);
            }
            default -> {
                // device state, commands, footers...: not our business
            }
        }
    }

    private BlockCounts block(String name) {
        return blocks.computeIfAbsent(name, BlockCounts::new);
    }

    /** The counts per block, in stream order. */
    public Map<String, BlockCounts> blocks() {
        return Collections.unmodifiableMap(blocks);
    }

    /** The counts summed over all blocks, under the name {@code total}. */
    public BlockCounts total() {
        BlockCounts total = new BlockCounts("total");
        for (BlockCounts counts : blocks.values()) {
            total.length += counts.length;
            counts.dataPages.forEach((encoding, n) -> total.dataPages.merge(encoding, n, Long::sum));
            total.zeroPages += counts.zeroPages;
            total.dataBytes += counts.dataBytes;
        }
        return total;
    }

    /** Distinct pages sent more than once, over all blocks. */
    public long pagesResent() {
        return blocks.values().stream().mapToLong(BlockCounts::pagesResent).sum();
    }

    /**
     * Prints the table: one line per block in stream order, then the total.
     *
     * <pre>
     * block                       raw  mapped  compressed  xbzrle     zero      data bytes  resent
     * pc.ram                        0       0           0       0    32768               0       0
     * </pre>
     */
    public void print(PrintStream out) {
        String format = "%-24s %8s %7s %11s %7s %8s %15s %7s%n";
        out.printf(format, "block", "raw", "mapped", "compressed", "xbzrle", "zero", "data bytes", "resent");
        for (BlockCounts counts : blocks.values()) {
            row(out, format, counts, counts.pagesResent());
        }
        row(out, format, total(), pagesResent());
    }

    private static void row(PrintStream out, String format, BlockCounts counts, long resent) {
        out.printf(format, counts.name(), counts.dataPages(PageEncoding.RAW), counts.dataPages(PageEncoding.MAPPED),
                counts.dataPages(PageEncoding.COMPRESSED), counts.dataPages(PageEncoding.XBZRLE), counts.zeroPages(),
                counts.dataBytes(), resent);
    }

    /** The options a census needs: the reader tells a page's first copy from a resend. */
    public static final ReadOptions OPTIONS = ReadOptions.builder().enable(ReadOptions.Feature.TRACK_RESENDS).build();

    /** Reads {@code file} in one pass and returns the census. */
    public static PageCensus of(Path file) throws IOException {
        PageCensus census = new PageCensus();
        try (MigrationReader reader = MigrationReader.open(file, OPTIONS)) {
            MigrationConsumer.drive(reader, census);
        }
        return census;
    }

    /** {@code PageCensus FILE}: prints the table for a migration dump. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: PageCensus FILE");
            System.exit(2);
        }
        try {
            of(Path.of(args[0])).print(System.out);
        } catch (MigrationReadException e) {
            // bad input: the message names the byte offset and the section being read
            System.err.println("PageCensus: " + e.getMessage());
            System.exit(1);
        }
    }
}
