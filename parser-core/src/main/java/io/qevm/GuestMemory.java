package io.qevm;

import io.qevm.consume.MigrationConsumer;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.ReadContext;
import io.qevm.internal.Messages;
import io.qevm.memory.MappedView;
import io.qevm.memory.PageTable;
import io.qevm.memory.Spool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Random access to a dump's guest memory: built in one pass over the stream, an index of where
 * the last copy of every page lies, then reads of any range, by block and offset or by
 * guest-physical address.
 *
 * <pre>{@code
 * try (GuestMemory memory = GuestMemory.open(Path.of("vm.mig"), ReadOptions.DEFAULT)) {
 *     byte[] bytes = new byte[4096];
 *     memory.readPhysical(0x1000000, bytes, 0, bytes.length);
 * }
 * }</pre>
 *
 * <p>What the index keeps, per page and whatever the stream's size: where its last copy is (a
 * fill byte, an offset in the file for raw and mapped-ram pages of a file, or an offset in a
 * spool file for pages that had to be decoded: zlib, XBZRLE, and every page of a stream that
 * cannot be read again, such as a pipe or a compressed file) and how many times it was sent: 9
 * bytes a page, in chunks allocated where pages were sent. The spool is an unlinked temporary
 * file, gone with {@link #close()} or the process. Pages never sent read as zero, as QEMU's
 * destination has them.
 *
 * <p>A dump in a plain file, and the spool, are read through their mappings, and what reads
 * keep resident of them is bounded: the spool's pages are handed back to the kernel once reads
 * have touched 64 MiB of it; a plain file opened by {@link #open(Path, ReadOptions)} keeps the
 * first 128 MiB of 2 MiB granules that small reads touch mapped and reads the rest with
 * positional reads ({@link #keepMapped} changes how much), as it reads runs of many pages
 * (64 KiB and more, {@link #pages}) straight away: a copy by the kernel, no page mapped, as
 * fast as {@code cat}.
 *
 * <p>Not thread-safe, but for one case: reads of the index of a plain file (no container, not a
 * stream) may run on several threads at once (the bytes they copy are right; only the count
 * towards the release budget may drift). Anything else, one thread at a time.
 */
public final class GuestMemory implements AutoCloseable {

    /**
     * A RAM block of the stream.
     *
     * @param name     the block's idstr ({@code pc.ram}, {@code mach-virt.ram}, ...)
     * @param length   its length in bytes, as the stream's block list declares it
     * @param pageSize the stream's target page size: what {@link #pageKind} and {@link #timesSent} count in
     */
    public record Block(String name, long length, int pageSize) {

        /** {@return how many pages the block has (a partial last page counts)} */
        public long pages() {
            return (length + pageSize - 1) / pageSize;
        }
    }

    /** What a page's last copy is. */
    public enum PageKind {
        /** Page contents (raw, compressed, XBZRLE or mapped). */
        DATA,
        /** A zero page. */
        ZERO,
        /** A page filled with one byte other than zero (the stream allows it; QEMU sends only zero). */
        FILL,
        /** Not in the stream: reads as zero. */
        NEVER_SENT
    }

    /**
     * The most guest RAM the index takes, all blocks together (64 TiB): what a stream declares
     * sizes the index's directory, so a forged block list must not make it allocate without bound.
     */
    static final long MAX_TOTAL_RAM = 1L << 46;

    private final MigrationReader reader;
    private final Spool spool;
    /** The whole dump, when a plain file (mapped) or an array: copied from directly; else null (bytesAt). */
    private final MappedView whole;
    private final String machine;
    private final List<Block> blocks;
    private final Map<String, Integer> byName;
    private final PageTable[] tables;
    private final PhysicalMap physicalMap;
    /** The plain file again, for reads of many pages (see {@link #BULK}); null when indexed from a reader. */
    private FileChannel channel;
    /**
     * Where bulk reads land before their pages are copied out: one a thread, as reads of a plain
     * file's index may run on two threads at once (qevm diff's halves).
     */
    private final ThreadLocal<ByteBuffer> bulk = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BULK_SPAN));

    /**
     * Reads of at least this many bytes from a plain file read the file's bytes in runs of up to
     * {@link #BULK_SPAN} with one positional read each: the kernel copies from its page cache,
     * where copying out of the mapping would fault its pages in, 16 at a time.
     */
    private static final int BULK = 64 << 10;
    private static final int BULK_SPAN = 1 << 20;

    private GuestMemory(MigrationReader reader, Spool spool, MemorySegment mapping, String machine, List<Block> blocks,
            PageTable[] tables) {
        this.reader = reader;
        this.spool = spool;
        this.machine = machine;
        this.blocks = List.copyOf(blocks);
        this.tables = tables;
        this.byName = new HashMap<>();
        for (int i = 0; i < blocks.size(); i++) {
            byName.put(blocks.get(i).name(), i);
        }
        this.physicalMap = PhysicalMap.of(machine, this.blocks);
        this.whole = mapping == null ? null : new MappedView(mapping, MAPPED_BUDGET);
    }

    /**
     * What small reads of a plain file opened by path may keep mapped unless {@link #keepMapped}
     * says otherwise (the first 2 MiB granules they touch, up to this much: a 128 MiB dump
     * whole); past it they are positional reads.
     */
    private static final long MAPPED_BUDGET = 128L << 20;

    /**
     * Sets how much of the dump's file mapping reads may keep resident: 128 MiB unless set. Reads
     * of a plain file within what stays mapped are memory copies (0.1-0.7 us for 4 KiB on the
     * machine of parser-bench/RESULTS.md, by how cold the page is); past it, a read of a few pages
     * is a positional read of the file instead, a system call (1.1-1.5 us there), and resident
     * memory stays bounded. A long-lived process reading at random across a big dump may raise
     * it, up to {@code Long.MAX_VALUE} (map as much as is read): the pages mapped are the page
     * cache's own (clean, shared, reclaimed by the kernel under pressure), but they count in the
     * process's resident set, 2 MiB for each 2 MiB granule a read touches. Set it before reading:
     * a budget lower than what is mapped hands the mapping back at once. No effect on dumps not
     * in a plain file (their bytes are read through the spool or the reader, as they come).
     *
     * @param bytes what may stay resident, at least 0
     * @return this
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public GuestMemory keepMapped(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a mapping budget of " + bytes + " bytes");
        }
        if (whole != null) {
            whole.budget(bytes);
        }
        return this;
    }

    /** {@return what reads keep mapped of the dump now (whole 2 MiB granules), for tests} */
    long mappedBytes() {
        return whole == null ? 0 : whole.touchedBytes();
    }

    /** Copies {@code n} bytes at {@code offset} of the source into {@code dst} at {@code at}. */
    private void copyFromSource(long offset, MemorySegment dst, long at, int n) throws IOException {
        if (whole == null) {
            MemorySegment.copy(reader.bytesAt(offset, n), 0, dst, at, n);
        } else if (channel == null) {
            whole.copy(offset, dst, at, n);
        } else if (!whole.copyIfResident(offset, dst, at, n)) {
            // outside what stays mapped: one positional read (about 1 us for 4 KiB here, where
            // faulting the page in costs 2.8 us and maps its whole folio, up to 2 MiB)
            ByteBuffer bulk = this.bulk.get();
            readFully(bulk, offset, n);
            MemorySegment.copy(MemorySegment.ofBuffer(bulk), 0, dst, at, n);
        }
    }

    /** Reads the plain file's {@code n} bytes at {@code offset} into {@code buffer} from its start (left cleared). */
    private void readFully(ByteBuffer buffer, long offset, int n) throws IOException {
        buffer.clear().limit(n);
        for (long from = offset; buffer.hasRemaining(); ) {
            int read = channel.read(buffer, from);
            if (read < 0) {
                throw new IOException(reader.sourceName() + " ends at " + from + ", before " + (offset + n)
                        + ": changed since indexed");
            }
            from += read;
        }
        buffer.clear();
    }

    /**
     * Indexes the dump at {@code file} in one pass: anything {@link MigrationReader#open(Path, ReadOptions)}
     * reads (a stream, a compressed file, a libvirt image, a qcow2 snapshot chosen with
     * {@link ReadOptions.Builder#snapshot}). A dump without its JSON description (suppress-vmdesc)
     * is read too: guest memory needs none ({@link ReadOptions.Feature#REQUIRE_DESCRIPTION} is
     * turned off).
     *
     * @param file    the dump
     * @param options how to read it
     * @return the index, open on the file until {@link #close()}
     * @throws IOException                               if the file cannot be read
     * @throws io.qevm.exc.MigrationReadException if the stream is malformed, truncated or over a limit
     */
    public static GuestMemory open(Path file, ReadOptions options) throws IOException {
        return open(file, options, null);
    }

    /**
     * As {@link #open(Path, ReadOptions)}, handing every event of the one pass to {@code alsoSee}
     * as {@link #index(MigrationReader, MigrationConsumer)} does: a caller that wants the device
     * state too reads the file once. Reads of many pages of a plain file go through positional
     * reads of the file (a copy by the kernel, no page mapped: as fast as {@code cat}) rather
     * than through its mapping.
     *
     * @param file    the dump
     * @param options how to read it
     * @param alsoSee called on each event with the reader on it, or null
     * @return the index, open on the file until {@link #close()}
     * @throws IOException                        if the file cannot be read, or as {@code alsoSee} throws
     * @throws io.qevm.exc.MigrationReadException if the stream is malformed, truncated or over a limit
     */
    public static GuestMemory open(Path file, ReadOptions options, MigrationConsumer alsoSee) throws IOException {
        GuestMemory memory = index(MigrationReader.open(file, ramOnly(options)), alsoSee);
        if (memory.whole != null) {
            try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                if (channel.size() == memory.reader.sourceSize()) {
                    memory.channel = channel;
                } else {
                    channel.close(); // not the file indexed (replaced meanwhile): the mapping only
                }
            } catch (IOException e) {
                // the mapping reads it all the same
            }
        }
        return memory;
    }

    /** {@code options} without {@link ReadOptions.Feature#REQUIRE_DESCRIPTION}: guest memory needs none. */
    private static ReadOptions ramOnly(ReadOptions options) {
        ReadOptions.Builder b = ReadOptions.builder().limits(options.limits()).snapshot(options.snapshot());
        for (ReadOptions.Feature feature : ReadOptions.Feature.values()) {
            if (options.isEnabled(feature)) {
                b.enable(feature);
            } else {
                b.disable(feature);
            }
        }
        if (options.pageSize() > 0) {
            b.pageSize(options.pageSize());
        }
        return b.disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
    }

    /**
     * Indexes the rest of {@code reader}'s stream (one pass over its events) and takes ownership
     * of the reader: {@link #close()} closes it, and so does a failure here.
     *
     * @param reader a reader, usually before its first event
     * @return the index
     * @throws IOException if the spool file cannot be written
     */
    public static GuestMemory index(MigrationReader reader) throws IOException {
        return index(reader, null);
    }

    /**
     * As {@link #index(MigrationReader)}, handing every event of the pass to {@code alsoSee} as
     * well (EOF too, once), after the index has taken what it needs of it: what else the caller
     * wants of the stream (its device state, counts) without reading it a second time. A failure
     * of {@code alsoSee} ends the pass as a failure of the stream would (the reader closed).
     *
     * @param reader  a reader, usually before its first event
     * @param alsoSee called on each event with the reader on it (views valid during the call only),
     *                or null
     * @return the index
     * @throws IOException if the spool file cannot be written, or as {@code alsoSee} throws
     */
    public static GuestMemory index(MigrationReader reader, MigrationConsumer alsoSee) throws IOException {
        Spool spool = null;
        try {
            spool = new Spool();
            GuestMemory memory = new Indexer(reader, spool, alsoSee).run();
            spool.seal();
            return memory;
        } catch (IOException | RuntimeException | Error e) {
            if (spool != null) {
                spool.close();
            }
            reader.close();
            throw e;
        }
    }

    /** One pass over the reader's events, filling the tables. */
    private static final class Indexer implements PageStore {

        private final MigrationReader reader;
        private final Spool spool;
        private final MigrationConsumer alsoSee;
        private final boolean randomAccess;
        private final List<String> names = new ArrayList<>();
        private final List<Long> lengths = new ArrayList<>();
        private final Map<String, Integer> byName = new HashMap<>();
        private final List<PageTable> tables = new ArrayList<>();
        /** The pass hands the mapping's pages back in runs of this much ... */
        private static final long RELEASE_BEHIND = 16L << 20;
        /** ... this far behind the event it is on (a multiple of 2 MiB: whole huge-page granules). */
        private static final long RELEASE_LAG = 2L << 20;
        /** What the chunks may take: half the heap, so that a forged sparse stream fails cleanly. */
        private final long chunkBudget = Runtime.getRuntime().maxMemory() / 2;
        private long chunkBytes;
        /** Spool slots no page uses any more. */
        private long[] free = new long[16];
        private int freeCount;
        private long declared;
        private int pageSize;
        private int pageShift = -1;
        private String machine;
        private String lastName;
        private PageTable lastTable;

        Indexer(MigrationReader reader, Spool spool, MigrationConsumer alsoSee) {
            this.reader = reader;
            this.spool = spool;
            this.alsoSee = alsoSee;
            this.randomAccess = reader.isRandomAccess();
            if (!randomAccess) {
                // XBZRLE deltas apply to the page's last copy, which a stream cannot read again: ours
                reader.setPageStore(this);
            }
        }

        GuestMemory run() throws IOException {
            // a stream straight in a file or an array: one view of it all, no window per read
            // (containers' sources may assemble windows: those are read through bytesAt)
            boolean plain = randomAccess && reader.containers().isEmpty() && reader.sourceSize() > 0;
            MemorySegment whole = plain ? reader.bytesAt(0, reader.sourceSize()) : null;
            boolean release = whole != null && whole.isMapped();
            long releasedTo = 0;
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (release && reader.eventOffset() - releasedTo > RELEASE_BEHIND + RELEASE_LAG) {
                    // the pass is done with the file's pages behind it (the index reads them
                    // again later through the same mapping, faulting them in): handed back now,
                    // or they stay resident until the reader's own release, up to 128 MiB behind
                    long to = (reader.eventOffset() - RELEASE_LAG) & -RELEASE_LAG;
                    whole.asSlice(releasedTo, to - releasedTo).unload();
                    releasedTo = to;
                }
                switch (e) {
                    case RAM_PAGE -> dataPage();
                    case ZERO_PAGE -> {
                        PageTable table = table();
                        freeIfSpooled(table.set(page(), PageTable.FILL | reader.fillByte()));
                    }
                    case RAM_BLOCK -> block(reader.blockName(), reader.blockLength());
                    case CONFIGURATION -> machine = reader.machineName();
                    default -> {
                    }
                }
                if (alsoSee != null) {
                    alsoSee.accept(e, reader);
                }
            }
            if (alsoSee != null) {
                alsoSee.accept(MigrationEvent.EOF, reader);
            }
            if (pageSize == 0) {
                pageSize = (int) Math.max(reader.ramPageSize(), 0);
                if (pageSize <= 0) {
                    pageSize = 4096; // no page in the stream, nor a page size: nothing to count in anyway
                }
            }
            List<Block> blocks = new ArrayList<>();
            PageTable[] all = new PageTable[names.size()];
            for (int i = 0; i < names.size(); i++) {
                Block block = new Block(names.get(i), lengths.get(i), pageSize);
                blocks.add(block);
                all[i] = tables.get(i) != null ? tables.get(i) : new PageTable(block.pages());
            }
            if (release) {
                whole.unload();
            }
            return new GuestMemory(reader, spool, whole, machine, blocks, all);
        }

        private ReadContext where() {
            return new ReadContext(reader.eventOffset(), reader.position(), null, -1, reader.currentEvent().name());
        }

        private void block(String name, long length) {
            if (byName.containsKey(name)) {
                return;
            }
            declared += length;
            if (length < 0 || declared > MAX_TOTAL_RAM || declared < 0) {
                throw new LimitExceededException(Messages.tooMuchRam(name, length, MAX_TOTAL_RAM), where());
            }
            byName.put(name, names.size());
            names.add(name);
            lengths.add(length);
            tables.add(null);
        }

        /** The current page's block's table, made at its first page (the page size is known by then). */
        private PageTable table() {
            String name = reader.blockName();
            if (name == lastName) { // the reader hands out the block's own String
                return lastTable;
            }
            Integer index = byName.get(name);
            if (index == null) { // a page of a block the block list did not name: the reader refuses those
                block(name, 0);
                index = byName.get(name);
            }
            if (pageSize == 0) {
                pageSize = reader.pageSize();
                // a shift rather than a division per page: QEMU's page sizes are powers of two
                pageShift = Integer.bitCount(pageSize) == 1 ? Integer.numberOfTrailingZeros(pageSize) : -1;
            }
            PageTable table = tables.get(index);
            if (table == null) {
                long length = lengths.get(index);
                table = new PageTable((length + pageSize - 1) / pageSize);
                tables.set(index, table);
            }
            lastName = name;
            lastTable = table;
            return table;
        }

        private long page() {
            long page = pageShift >= 0 ? reader.pageOffset() >>> pageShift : reader.pageOffset() / pageSize;
            if (lastTable.needsChunk(page)) {
                chunkBytes += PageTable.CHUNK_BYTES;
                if (chunkBytes > chunkBudget) {
                    throw new LimitExceededException(Messages.indexTooBig(chunkBudget), where());
                }
            }
            return page;
        }

        private void dataPage() throws IOException {
            PageTable table = table();
            long page = page();
            if (randomAccess) {
                long at = reader.pageSourceOffset();
                if (at >= 0) {
                    freeIfSpooled(table.set(page, PageTable.SOURCE | at));
                    return;
                }
            }
            long previous = table.get(page);
            MemorySegment data = reader.pageData();
            long index = reader.pageDataOffset();
            if ((previous & PageTable.KIND_MASK) == PageTable.SPOOL) {
                long at = previous & PageTable.VALUE_MASK;
                spool.overwrite(at, data, index, pageSize);
                table.set(page, previous);
            } else if (freeCount > 0) {
                long at = free[--freeCount];
                spool.overwrite(at, data, index, pageSize);
                table.set(page, PageTable.SPOOL | at);
            } else {
                table.set(page, PageTable.SPOOL | spool.append(data, index, pageSize));
            }
        }

        /**
         * A page whose spooled copy was replaced by one kept elsewhere gives its slot back: the
         * spool holds at most one slot a page, however a live stream alternates encodings.
         */
        private void freeIfSpooled(long previous) {
            if ((previous & PageTable.KIND_MASK) == PageTable.SPOOL) {
                if (freeCount == free.length) {
                    free = Arrays.copyOf(free, freeCount * 2);
                }
                free[freeCount++] = previous & PageTable.VALUE_MASK;
            }
        }

        @Override
        public void readPage(String block, long offset, MemorySegment into) throws IOException {
            Integer index = byName.get(block);
            PageTable table = index == null ? null : tables.get(index);
            long location = table == null ? PageTable.NEVER : table.get(offset / pageSize);
            long value = location & PageTable.VALUE_MASK;
            switch ((int) (location >>> 62)) {
                case 0 -> into.fill((byte) 0);
                case 1 -> into.fill((byte) value);
                case 3 -> spool.read(value, into);
                default -> throw new IllegalStateException("a page of a stream kept in the stream"); // never on a stream
            }
        }
    }

    // ------------------------------------------------------------------ what the stream holds

    /** {@return the machine type the stream names in its CONFIGURATION record ({@code pc-i440fx-7.2}), or null} */
    public String machineType() {
        return machine;
    }

    /** {@return the RAM blocks, in the order of the stream's block list} */
    public List<Block> blocks() {
        return blocks;
    }

    /**
     * The block named {@code name}.
     *
     * @param name a block's idstr
     * @return the block, or null when the stream has none of that name
     */
    public Block block(String name) {
        Integer index = byName.get(name);
        return index == null ? null : blocks.get(index);
    }

    /**
     * What the last copy of a page is.
     *
     * @param block      the block's name
     * @param pageNumber the page's number in the block (offset / page size)
     * @return its kind
     * @throws IllegalArgumentException if there is no such block or page
     */
    public PageKind pageKind(String block, long pageNumber) {
        int index = blockIndex(block);
        checkPage(index, pageNumber);
        long location = tables[index].get(pageNumber);
        if (location == PageTable.NEVER) {
            return PageKind.NEVER_SENT;
        }
        if ((location & PageTable.KIND_MASK) == PageTable.FILL) {
            return (location & 0xff) == 0 ? PageKind.ZERO : PageKind.FILL;
        }
        return PageKind.DATA;
    }

    /**
     * How many times the stream sent a page: 0 never, 1 once, more for a live migration's
     * resends; saturates at 255.
     *
     * @param block      the block's name
     * @param pageNumber the page's number in the block
     * @return the count
     * @throws IllegalArgumentException if there is no such block or page
     */
    public int timesSent(String block, long pageNumber) {
        int index = blockIndex(block);
        checkPage(index, pageNumber);
        return tables[index].timesSent(pageNumber);
    }

    // ------------------------------------------------------------------ reads

    /**
     * Reads {@code length} bytes of block {@code block} from {@code offset}, across pages.
     *
     * @param block     the block's name
     * @param offset    where in the block
     * @param dst       where the bytes go
     * @param dstOffset where in {@code dst}
     * @param length    how many bytes
     * @throws IllegalArgumentException if there is no such block or the range is not within it
     * @throws IOException              if the dump cannot be read
     */
    public void read(String block, long offset, byte[] dst, int dstOffset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
        read(block, offset, MemorySegment.ofArray(dst).asSlice(dstOffset, length));
    }

    /**
     * Reads {@code dst.byteSize()} bytes of block {@code block} from {@code offset}, across pages.
     *
     * @param block  the block's name
     * @param offset where in the block
     * @param dst    where the bytes go: all of it is filled
     * @throws IllegalArgumentException if there is no such block or the range is not within it
     * @throws IOException              if the dump cannot be read
     */
    public void read(String block, long offset, MemorySegment dst) throws IOException {
        int index = blockIndex(block);
        Block b = blocks.get(index);
        long length = dst.byteSize();
        if (offset < 0 || offset > b.length() || length > b.length() - offset) {
            throw new IllegalArgumentException(Messages.outsideBlock(b.name(), offset, length, b.length()));
        }
        readIn(index, offset, dst, 0, length);
    }

    /** Copies [offset, offset + length) of block {@code index} into {@code dst} at {@code at}: the range is checked. */
    private void readIn(int index, long offset, MemorySegment dst, long at, long length) throws IOException {
        PageTable table = tables[index];
        int pageSize = blocks.get(index).pageSize();
        boolean inBulk = channel != null && length >= BULK;
        while (length > 0) {
            if (inBulk) {
                long n = readRun(table, pageSize, offset, dst, at, length);
                if (n > 0) {
                    offset += n;
                    at += n;
                    length -= n;
                    continue;
                }
            }
            long page = offset / pageSize;
            int inPage = (int) (offset - page * pageSize);
            int n = (int) Math.min(length, pageSize - inPage);
            long location = table.get(page);
            long value = location & PageTable.VALUE_MASK;
            switch ((int) (location >>> 62)) {
                case 0 -> dst.asSlice(at, n).fill((byte) 0);
                case 1 -> dst.asSlice(at, n).fill((byte) value);
                case 2 -> copyFromSource(value + inPage, dst, at, n);
                default -> spool.copy(value + inPage, dst, at, n);
            }
            offset += n;
            at += n;
            length -= n;
        }
    }

    /**
     * Copies a run of pages kept in the file, from the one at {@code offset}, whose copies lie
     * in order within {@link #BULK_SPAN} bytes of the file: one positional read of that span
     * (the pages with their headers), then the pages out of it. Returns the bytes copied (0 if
     * the page at {@code offset} is not in the file).
     */
    private long readRun(PageTable table, int pageSize, long offset, MemorySegment dst, long at, long length)
            throws IOException {
        long page = offset / pageSize;
        int inPage = (int) (offset - page * pageSize);
        long first = table.get(page);
        if ((first & PageTable.KIND_MASK) != PageTable.SOURCE || pageSize > BULK_SPAN) {
            return 0;
        }
        long start = (first & PageTable.VALUE_MASK) + inPage;
        // the run: pages in the file, each after the one before, all within the span
        long end = start + Math.min(length, pageSize - inPage);
        long covered = end - start;
        long last = first & PageTable.VALUE_MASK;
        for (long p = page + 1; covered < length; p++) {
            long location = table.get(p);
            long value = location & PageTable.VALUE_MASK;
            int n = (int) Math.min(length - covered, pageSize);
            if ((location & PageTable.KIND_MASK) != PageTable.SOURCE || value <= last || value + n - start > BULK_SPAN) {
                break;
            }
            last = value;
            end = value + n;
            covered += n;
        }
        ByteBuffer bulk = this.bulk.get();
        readFully(bulk, start, (int) (end - start));
        MemorySegment span = MemorySegment.ofBuffer(bulk);
        long done = 0;
        long p = page;
        int skip = inPage;
        while (done < covered) {
            long value = table.get(p) & PageTable.VALUE_MASK;
            int n = (int) Math.min(covered - done, pageSize - skip);
            MemorySegment.copy(span, value + skip - start, dst, at + done, n);
            done += n;
            skip = 0;
            p++;
        }
        return covered;
    }

    /**
     * A reader of one block's pages in turn, each handed out where it lies when it can be: the
     * pages of a plain file come out of the reader's own buffer, filled by one positional read
     * of up to 1 MiB of the file for a run of pages, with no copy out of it (what {@code qevm
     * diff} compares). Made by {@link #pages(String)}; one thread at a time, as the index allows.
     */
    public final class PageReader {
        private final String block;
        private final PageTable table;
        private final int pageSize;
        private final long pages;
        /** The file's bytes [spanStart, spanEnd) of the last positional read; null unless a plain file. */
        private final ByteBuffer buffer;
        private final MemorySegment span;
        private long spanStart;
        private long spanEnd;
        /** A page of zeros (read-only), and a page for copies (fill bytes, spooled pages, containers). */
        private final MemorySegment zero;
        private final MemorySegment copy;

        private PageReader(int index) {
            Block b = blocks.get(index);
            this.block = b.name();
            this.table = tables[index];
            this.pageSize = b.pageSize();
            this.pages = b.pages();
            boolean inPlace = channel != null && pageSize <= BULK_SPAN;
            // up to 1 MiB; a small block's pages (a ROM of a few pages) with their headers take less
            long spanBytes = Math.min(BULK_SPAN, pages * (pageSize + 512L));
            this.buffer = inPlace ? ByteBuffer.allocateDirect((int) Math.max(spanBytes, pageSize)) : null;
            this.span = inPlace ? MemorySegment.ofBuffer(buffer) : null;
            this.zero = MemorySegment.ofArray(new byte[pageSize]).asReadOnly();
            this.copy = MemorySegment.ofArray(new byte[pageSize]);
        }

        /** {@return the block's page size: what every page handed out holds} */
        public int pageSize() {
            return pageSize;
        }

        /**
         * The bytes of a page, as {@link #read(String, long, MemorySegment)} would copy them.
         *
         * @param pageNumber the page's number in the block
         * @return its bytes, {@link #pageSize()} of them: valid until the next call, not to be written
         * @throws IllegalArgumentException if there is no such page
         * @throws IOException              if the dump cannot be read
         */
        public MemorySegment page(long pageNumber) throws IOException {
            if (pageNumber < 0 || pageNumber >= pages) {
                throw new IllegalArgumentException(Messages.noPage(block, pageNumber, pages));
            }
            long location = table.get(pageNumber);
            long value = location & PageTable.VALUE_MASK;
            switch ((int) (location >>> 62)) {
                case 0 -> {
                    return zero;
                }
                case 1 -> {
                    return value == 0 ? zero : copy.fill((byte) value);
                }
                case 2 -> {
                    if (span == null) {
                        copyFromSource(value, copy, 0, pageSize);
                        return copy;
                    }
                    if (value < spanStart || value + pageSize > spanEnd) {
                        fill(pageNumber, value);
                    }
                    return span.asSlice(value - spanStart, pageSize);
                }
                default -> {
                    spool.copy(value, copy, 0, pageSize);
                    return copy;
                }
            }
        }

        /** One positional read from the page at {@code start}: it and the pages after it that follow it in the file. */
        private void fill(long pageNumber, long start) throws IOException {
            long end = start + pageSize;
            for (long p = pageNumber + 1; p < pages; p++) {
                long location = table.get(p);
                long value = location & PageTable.VALUE_MASK;
                if ((location & PageTable.KIND_MASK) != PageTable.SOURCE || value < end
                        || value + pageSize - start > buffer.capacity()) {
                    break;
                }
                end = value + pageSize;
            }
            spanStart = spanEnd = 0; // nothing valid while it is read (if it fails, the next page reads again)
            readFully(buffer, start, (int) (end - start));
            spanStart = start;
            spanEnd = end;
        }
    }

    /**
     * A reader of {@code block}'s pages, each where it lies when it can be (no copy): for going
     * over many pages, as a diff or a hash of every page does.
     *
     * @param block the block's name
     * @return a reader for one thread
     * @throws IllegalArgumentException if there is no such block
     */
    public PageReader pages(String block) {
        return new PageReader(blockIndex(block));
    }

    /**
     * Reads {@code length} bytes from guest-physical address {@code gpa}, across pages and
     * across the machine's RAM ranges (see {@link PhysicalMap}).
     *
     * @param gpa       the first guest-physical address (unsigned)
     * @param dst       where the bytes go
     * @param dstOffset where in {@code dst}
     * @param length    how many bytes
     * @throws UnsupportedOperationException if the machine's layout is unknown
     * @throws IllegalArgumentException      if part of the range is not RAM
     * @throws IOException                   if the dump cannot be read
     */
    public void readPhysical(long gpa, byte[] dst, int dstOffset, int length) throws IOException {
        java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
        PhysicalMap map = physicalMap();
        MemorySegment into = MemorySegment.ofArray(dst);
        long at = dstOffset;
        long left = length;
        long address = gpa;
        while (left > 0) {
            PhysicalMap.Range range = map.rangeAt(address);
            if (range == null) {
                throw new IllegalArgumentException(Messages.notRam(address, machine));
            }
            long inRange = address - range.gpa();
            long n = Math.min(left, range.length() - inRange);
            readIn(byName.get(range.block()), range.blockOffset() + inRange, into, at, n);
            address += n;
            at += n;
            left -= n;
        }
    }

    /**
     * {@return where the machine's RAM blocks are in the guest-physical address space}
     *
     * @throws UnsupportedOperationException if the machine type is unknown or not one whose
     *                                       layout is known (the message says to read by block and offset)
     */
    public PhysicalMap physicalMap() {
        if (physicalMap == null) {
            throw new UnsupportedOperationException(Messages.unknownMachine(machine, blocks));
        }
        return physicalMap;
    }

    private int blockIndex(String block) {
        Integer index = byName.get(block);
        if (index == null) {
            throw new IllegalArgumentException(Messages.noBlock(block, blocks));
        }
        return index;
    }

    private void checkPage(int index, long pageNumber) {
        Block b = blocks.get(index);
        if (pageNumber < 0 || pageNumber >= b.pages()) {
            throw new IllegalArgumentException(Messages.noPage(b.name(), pageNumber, b.pages()));
        }
    }

    /** Closes the reader and the spool file. */
    @Override
    public void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // read-only: nothing is lost
            }
        }
        spool.close();
        reader.close();
    }
}
