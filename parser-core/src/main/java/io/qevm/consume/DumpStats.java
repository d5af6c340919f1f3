package io.qevm.consume;

import io.qevm.Container;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a dump holds, counted in one pass ({@code qevm stats} and {@code qevm report}): what the
 * stream says of the QEMU that wrote it, its sections with their parts and bytes, per RAM block
 * the pages by how they travelled, the distinct pages and the resends, a map of the block (which
 * pages were sent as data, as zero, more than once, never), the passes of a live migration
 * ({@link PassCounter}) and the largest device states.
 *
 * <p>Memory: three bits per page of each block that pages were sent in (sent, last copy zero,
 * sent more than once), in chunks allocated only where pages were sent, so a block length or a
 * page offset from the stream allocates nothing by itself; the rest is per section. Nothing is
 * allocated per page.
 */
public final class DumpStats implements MigrationConsumer {

    /** What happened to one page (or, on a coarse map, to most pages of a cell). */
    public enum PageKind {
        /** No copy of it in the stream: the destination keeps what it had (zeros on a fresh VM). */
        NEVER_SENT,
        /** Sent once, as a zero page (a fill byte). */
        ZERO,
        /** Sent once, with its bytes (raw, mapped, compressed or XBZRLE). */
        DATA,
        /** Sent more than once (a live migration sends a page again each time the guest dirtied it). */
        RESENT
    }

    /**
     * One section of the stream, by section id.
     *
     * @param id       the section id
     * @param name     its idstr ({@code ram}, {@code cpu}, ...)
     * @param instance its instance id
     * @param version  its version id
     * @param parts    its records (START, PART, END, FULL)
     * @param bytes    stream bytes of its records, headers and footers included
     */
    public record Section(long id, String name, long instance, long version, int parts, long bytes) {
    }

    /**
     * A run of pages of one kind on a block's map.
     *
     * @param firstPage the first page's number (offset / page size)
     * @param pages     how many pages
     * @param kind      what happened to them (the majority of each cell on a coarse map)
     */
    public record Run(long firstPage, long pages, PageKind kind) {
    }

    /** Pages per chunk of a block's page bits (a chunk: 3 planes of this many bits). */
    private static final int CHUNK_PAGES = 1 << 15;
    private static final int CHUNK_WORDS = CHUNK_PAGES / 64;

    /** One RAM block: its counters and page bits. */
    public static final class Block {
        private final String name;
        private long length = -1;
        private long pageSize;
        private long raw;
        private long mapped;
        private long compressed;
        private long xbzrle;
        private long zero;
        private long fill;
        private long resends;
        private long distinct;
        private long highestPage = -1;
        /** Chunk number -> [sent | last copy zero | resent] planes of CHUNK_WORDS words each. */
        private final Map<Long, long[]> chunks = new HashMap<>();
        private long lastChunkIndex = -1;
        private long[] lastChunk;

        Block(String name) {
            this.name = name;
        }

        void page(long pageNumber, boolean isZero) {
            long chunkIndex = pageNumber / CHUNK_PAGES;
            long[] chunk = lastChunk;
            if (chunkIndex != lastChunkIndex) {
                chunk = chunks.computeIfAbsent(chunkIndex, k -> new long[CHUNK_WORDS * 3]);
                lastChunk = chunk;
                lastChunkIndex = chunkIndex;
            }
            int bit = (int) (pageNumber % CHUNK_PAGES);
            int word = bit >>> 6;
            long mask = 1L << bit;
            if ((chunk[word] & mask) != 0) {
                resends++;
                chunk[2 * CHUNK_WORDS + word] |= mask;
            } else {
                chunk[word] |= mask;
                distinct++;
            }
            if (isZero) {
                chunk[CHUNK_WORDS + word] |= mask;
            } else {
                chunk[CHUNK_WORDS + word] &= ~mask;
            }
            if (pageNumber > highestPage) {
                highestPage = pageNumber;
            }
        }

        /** {@return the block's name (its RAMBlock idstr, e.g. {@code pc.ram})} */
        public String name() {
            return name;
        }

        /** {@return the block's length as its RAM_BLOCK entry gives it, -1 when the stream listed none} */
        public long length() {
            return length;
        }

        /** {@return the page size its pages came in (0 before any page)} */
        public long pageSize() {
            return pageSize;
        }

        /** {@return the pages the block has: its length in pages, or past the highest page sent if more} */
        public long pages() {
            long fromLength = length > 0 && pageSize > 0 ? (length + pageSize - 1) / pageSize : 0;
            return Math.max(fromLength, highestPage + 1);
        }

        /** {@return data pages sent as they are (RAM_SAVE_FLAG_PAGE)} */
        public long rawPages() {
            return raw;
        }

        /** {@return data pages at their place in the file (mapped-ram)} */
        public long mappedPages() {
            return mapped;
        }

        /** {@return data pages sent zlib-compressed} */
        public long compressedPages() {
            return compressed;
        }

        /** {@return data pages sent as XBZRLE deltas} */
        public long xbzrlePages() {
            return xbzrle;
        }

        /** {@return zero pages (fill byte 0)} */
        public long zeroPages() {
            return zero;
        }

        /** {@return pages sent as a fill byte other than 0} */
        public long fillPages() {
            return fill;
        }

        /** {@return every page record of the block: data, zero and fill, resends included} */
        public long sentPages() {
            return raw + mapped + compressed + xbzrle + zero + fill;
        }

        /** {@return pages sent at least once} */
        public long distinctPages() {
            return distinct;
        }

        /** {@return page records that sent a page again} */
        public long resends() {
            return resends;
        }

        /** {@return pages of the block never sent} */
        public long neverSentPages() {
            return pages() - distinct;
        }

        /**
         * {@return the pages a cell of {@link #map(int)} covers: 1 when the block has at most maxCells pages}
         *
         * @param maxCells the most cells wanted
         */
        public long pagesPerCell(int maxCells) {
            if (maxCells < 1) {
                throw new IllegalArgumentException("maxCells " + maxCells);
            }
            long pages = pages();
            return Math.max(1, (pages + maxCells - 1) / maxCells);
        }

        /**
         * The block's map: runs of pages of one kind, in page order, covering all its pages. With
         * more pages than {@code maxCells}, pages are grouped into cells of
         * {@link #pagesPerCell(int)} pages, each of the kind most of its pages are (ties: data,
         * resent, zero, never sent), and runs are of whole cells: at most {@code maxCells} runs.
         *
         * @param maxCells the most cells (and runs) wanted
         * @return the runs
         */
        public List<Run> map(int maxCells) {
            long perCell = pagesPerCell(maxCells);
            long pages = pages();
            List<Run> runs = new ArrayList<>();
            long[] counts = new long[4];
            PageKind runKind = null;
            long runStart = 0;
            for (long cellStart = 0; cellStart < pages; cellStart += perCell) {
                long cellEnd = Math.min(pages, cellStart + perCell);
                java.util.Arrays.fill(counts, 0);
                count(cellStart, cellEnd, counts);
                PageKind kind = majority(counts);
                if (kind != runKind) {
                    if (runKind != null) {
                        runs.add(new Run(runStart, cellStart - runStart, runKind));
                    }
                    runKind = kind;
                    runStart = cellStart;
                }
            }
            if (runKind != null) {
                runs.add(new Run(runStart, pages - runStart, runKind));
            }
            return runs;
        }

        private static PageKind majority(long[] counts) {
            PageKind best = PageKind.DATA;
            for (PageKind kind : new PageKind[] {PageKind.RESENT, PageKind.ZERO, PageKind.NEVER_SENT}) {
                if (counts[kind.ordinal()] > counts[best.ordinal()]) {
                    best = kind;
                }
            }
            return best;
        }

        /** Adds the kinds of pages [from, to) to counts; chunks never touched count whole. */
        private void count(long from, long to, long[] counts) {
            long page = from;
            while (page < to) {
                long chunkIndex = page / CHUNK_PAGES;
                long chunkEnd = Math.min(to, (chunkIndex + 1) * CHUNK_PAGES);
                long[] chunk = chunks.get(chunkIndex);
                if (chunk == null) {
                    counts[PageKind.NEVER_SENT.ordinal()] += chunkEnd - page;
                    page = chunkEnd;
                    continue;
                }
                for (; page < chunkEnd; page++) {
                    int bit = (int) (page % CHUNK_PAGES);
                    int word = bit >>> 6;
                    long mask = 1L << bit;
                    PageKind kind = (chunk[word] & mask) == 0 ? PageKind.NEVER_SENT
                            : (chunk[2 * CHUNK_WORDS + word] & mask) != 0 ? PageKind.RESENT
                            : (chunk[CHUNK_WORDS + word] & mask) != 0 ? PageKind.ZERO : PageKind.DATA;
                    counts[kind.ordinal()]++;
                }
            }
        }
    }

    private static final class SectionCount {
        final long id;
        String name;
        long instance;
        long version;
        int parts;
        long bytes;
        long start = -1;

        SectionCount(long id) {
            this.id = id;
        }
    }

    private static final Pattern MACHINE_VERSION = Pattern.compile("-(\\d+)\\.(\\d+)$");

    private final PassCounter passes = new PassCounter();
    private final Map<Long, SectionCount> sections = new LinkedHashMap<>();
    private final Map<String, Block> blocks = new LinkedHashMap<>();
    private String lastBlockName;
    private Block lastBlock;
    private SectionCount current;
    private String machine;
    private List<String> capabilities = List.of();
    private int targetPageBits = -1;
    private List<Container> containers = List.of();
    private long pageSize = -1;
    private boolean described;
    private long streamBytes;

    /** A collector before the stream's first event; hand it every event (or use {@link #collect}). */
    public DumpStats() {
    }

    /**
     * Reads {@code reader} to its EOF and counts.
     *
     * @param reader a reader before its first event
     * @return the counts
     * @throws IOException if the source fails
     */
    public static DumpStats collect(MigrationReader reader) throws IOException {
        DumpStats stats = new DumpStats();
        MigrationConsumer.drive(reader, stats);
        return stats;
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        passes.accept(event, reader);
        switch (event) {
            case RAM_PAGE -> {
                Block block = block(reader);
                block.pageSize = reader.pageSize();
                switch (reader.pageEncoding()) {
                    case RAW -> block.raw++;
                    case MAPPED -> block.mapped++;
                    case COMPRESSED -> block.compressed++;
                    case XBZRLE -> block.xbzrle++;
                }
                block.page(reader.pageOffset() / block.pageSize, false);
            }
            case ZERO_PAGE -> {
                Block block = block(reader);
                block.pageSize = reader.pageSize();
                if (reader.fillByte() == 0) {
                    block.zero++;
                } else {
                    block.fill++;
                }
                block.page(reader.pageOffset() / block.pageSize, true);
            }
            case RAM_BLOCK -> block(reader).length = reader.blockLength();
            case SECTION_START -> {
                SectionCount section = sections.computeIfAbsent(reader.sectionId(), SectionCount::new);
                if (reader.recordType().hasHeader() || section.name == null) {
                    section.name = reader.sectionName();
                    section.instance = reader.instanceId();
                    section.version = reader.sectionVersion();
                }
                section.parts++;
                section.start = reader.eventOffset();
                current = section;
            }
            case SECTION_END -> {
                if (current != null && current.start >= 0) {
                    current.bytes += reader.position() - current.start;
                    current.start = -1;
                }
            }
            case FOOTER -> {
                if (current != null) {
                    current.bytes += reader.position() - reader.eventOffset();
                }
            }
            case CONFIGURATION -> {
                machine = reader.machineName();
                capabilities = List.copyOf(reader.capabilities());
                targetPageBits = reader.targetPageBits();
            }
            case EOF -> {
                containers = reader.containers();
                pageSize = reader.ramPageSize();
                described = reader.hasDescription();
                streamBytes = reader.position();
                if (described && reader.descriptionJsonOffset() >= 0) {
                    // the description follows QEMU_VM_EOF: the stream ends with it
                    streamBytes = Math.max(streamBytes, reader.descriptionJsonOffset()
                            + reader.descriptionJson().byteSize());
                }
            }
            default -> {
            }
        }
    }

    private Block block(MigrationReader reader) {
        String name = reader.blockName();
        if (name != lastBlockName) { // the reader hands out one String per block
            lastBlockName = name;
            lastBlock = blocks.computeIfAbsent(name, Block::new);
        }
        return lastBlock;
    }

    /** {@return the machine type the CONFIGURATION record names, or null when the stream has none} */
    public String machineName() {
        return machine;
    }

    /** {@return the capabilities the CONFIGURATION record lists} */
    public List<String> capabilities() {
        return capabilities;
    }

    /** {@return the target-page-bits the CONFIGURATION record gives, -1 when none} */
    public int targetPageBits() {
        return targetPageBits;
    }

    /** {@return the RAM page size the reader used, -1 when there were no pages} */
    public long pageSize() {
        return pageSize;
    }

    /** {@return what the stream was found in, outermost first (empty: a plain stream)} */
    public List<Container> containers() {
        return containers;
    }

    /** {@return whether the stream had its JSON VM description} */
    public boolean hasDescription() {
        return described;
    }

    /**
     * {@return the stream's bytes, its JSON description included, trailing bytes not (counted in the
     * decompressed stream when compressed)}
     */
    public long streamBytes() {
        return streamBytes;
    }

    /**
     * {@return what the stream tells of the QEMU that wrote it, as sentences: the release of its machine
     * type (a QEMU at least that new), features only later QEMUs write}
     */
    public List<String> qemuHints() {
        List<String> hints = new ArrayList<>();
        if (machine != null) {
            Matcher m = MACHINE_VERSION.matcher(machine);
            if (m.find()) {
                hints.add("machine type " + machine + ": written by QEMU " + m.group(1) + "." + m.group(2) + " or later");
            }
        } else {
            hints.add("no CONFIGURATION record: QEMU before 2.12, or a machine type that does not send it");
        }
        if (capabilities.contains("mapped-ram")) {
            hints.add("mapped-ram: QEMU 9.0 or later");
        }
        if (capabilities.contains("x-ignore-shared")) {
            hints.add("x-ignore-shared: QEMU 3.0 or later");
        }
        if (!described) {
            hints.add("no JSON VM description: suppressed (suppress-vmdesc) or cut off");
        }
        return hints;
    }

    /** {@return the sections in first-seen order} */
    public List<Section> sections() {
        List<Section> list = new ArrayList<>(sections.size());
        for (SectionCount s : sections.values()) {
            list.add(new Section(s.id, s.name, s.instance, s.version, s.parts, s.bytes));
        }
        return list;
    }

    /**
     * {@return the {@code n} largest sections other than RAM's (device states), largest first}
     *
     * @param n how many at most
     */
    public List<Section> largestDevices(int n) {
        return sections().stream().filter(s -> !s.name().equals("ram"))
                .sorted(Comparator.comparingLong(Section::bytes).reversed().thenComparingLong(Section::id))
                .limit(n).toList();
    }

    /** {@return the RAM blocks in first-seen order} */
    public List<Block> blocks() {
        return List.copyOf(blocks.values());
    }

    /** {@return how many passes the live migration made (one for a paused VM)} */
    public long passCount() {
        return passes.passCount();
    }

    /** {@return how many consecutive passes each entry of {@link #passes()} sums (1 up to 65536 passes)} */
    public int passesPerEntry() {
        return passes.passesPerEntry();
    }

    /** {@return the passes of a live migration (one for a paused VM), an entry per {@link #passesPerEntry()}} */
    public List<PassCounter.Pass> passes() {
        return passes.passes();
    }

    /** {@return the completion (the RAM section's END record, sent with the VM stopped), or null} */
    public PassCounter.Pass completion() {
        return passes.completion();
    }
}
