package io.qevm.ram;

import io.qevm.MigrationEvent;
import io.qevm.PageEncoding;
import io.qevm.PageStore;
import io.qevm.ReadLimits;
import io.qevm.RecordType;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

/**
 * The {@code ram} section (migration/ram.c, section version 4): the record loop of its parts, the
 * block table of its MEM_SIZE list, and the table from RAM_SAVE_FLAG to the decoder of each
 * page encoding. Each record is a u64, the page-aligned address in the high bits and the flags
 * in the low ones (page size - 1), then the block's idstr unless CONTINUE, then the payload.
 *
 * <p>Adding an encoding: a decoder with its FLAG, a field here, one line in {@link #nextRecord}.
 * Not part of the API.
 */
public final class RamSection implements ReadLocation.EventSource {

    // migration/ram.c RAM_SAVE_FLAG_*; the page encodings' flags are on their decoders
    private static final int FLAG_MEM_SIZE = 0x004;
    private static final int FLAG_EOS = 0x010;
    private static final int FLAG_CONTINUE = 0x020;
    private static final int FLAG_HOOK = 0x080;
    private static final int FLAG_MULTIFD_FLUSH = 0x200;
    /** The flags' bits, all below the smallest target page: the mask while the page size is not known. */
    private static final long FLAG_BITS = 0x3ff;

    /** Reads the stream again from its start to an offset, the RAM section prepared by a callback. */
    @FunctionalInterface
    public interface Replay {
        void replay(long upTo, Consumer<RamSection> prepare);
    }

    private enum Mode { RECORDS, BLOCK_LIST, MAPPED_PAGES }

    private final ByteCursor in;
    private final ReadLocation at;
    private final ReadLimits limits;
    private final Replay replay;
    private final BlockTable blocks;
    private final RamPage page = new RamPage();

    // the table's decoders, one per encoding (final and of their own type: calls to them inline)
    private final ZeroPageDecoder zero = new ZeroPageDecoder();
    private final RawPageDecoder raw = new RawPageDecoder();
    private final ZlibPageDecoder zlib;
    private final XbzrlePageDecoder xbzrle;
    private final MappedRamDecoder mapped;

    private long pageSize = -1;
    /** The size the user gave for a stream that gives none (ReadOptions.pageSize), or -1. */
    private long givenPageSize = -1;
    /** Whether the page size was not stated by the stream but taken at the first page record: given or told. */
    private boolean pageSizeLearnt;
    /** Whether it was taken so, and no page of data in the records read ahead confirmed it: errors say it may be wrong. */
    private boolean pageSizeInDoubt;
    private long flagMask = FLAG_BITS;
    private boolean ignoreShared;
    private boolean mappedRam;
    private long postcopyPageSizes = -1;

    private Mode mode = Mode.RECORDS;
    /** Whether a record of the section is being read: from {@link #enter} to its EOS. */
    private boolean active;
    private RecordType recordType;
    private boolean complete;
    private long blockListRemaining;
    private Block lastPageBlock;
    /** Earlier copies of pages for XBZRLE: a consumer's store, or an index made on demand. */
    private PageHistory history;
    /** Pages sent so far, when asked to tell resends. */
    private SentPages sent;
    private boolean resend;

    public RamSection(ByteCursor in, ReadLocation at, ReadLimits limits, Replay replay) {
        this.in = in;
        this.at = at;
        this.limits = limits;
        this.replay = replay;
        this.blocks = new BlockTable(limits, at);
        this.zlib = new ZlibPageDecoder(limits, at);
        this.xbzrle = new XbzrlePageDecoder(at);
        this.mapped = new MappedRamDecoder(at);
    }

    // ------------------------------------------------------------------ what other records say

    /** The target page size, or -1 while not known. */
    public long pageSize() {
        return pageSize;
    }

    /** Sets the target page size, checked: a power of two from 512 bytes to 1 MiB. */
    public void setPageSize(long size) {
        if (!validPageSize(size)) {
            throw new IllegalArgumentException(Messages.badPageSize(size));
        }
        pageSize = size;
        pageSizeLearnt = false;
        pageSizeInDoubt = false;
        flagMask = size - 1;
        page.size = (int) size;
        for (Block listed : blocks.all()) {
            checkPageCount(listed);
        }
    }

    /**
     * The page size to take when the first page record comes and nothing in the stream has given
     * one (the description, target-page-bits, POSTCOPY_ADVISE, a MappedRamHeader), if the records
     * read as pages of that size: what the stream says wins over what the user guessed, and so do
     * records that read only with another size (as a file's description would).
     */
    public void setGivenPageSize(long size) {
        if (!validPageSize(size)) {
            throw new IllegalArgumentException(Messages.badPageSize(size));
        }
        givenPageSize = size;
    }

    /** Whether the page size is the one given ({@link #setGivenPageSize}) and nothing in the stream stated it. */
    public boolean pageSizeGiven() {
        return pageSizeLearnt && pageSize == givenPageSize;
    }

    public static boolean validPageSize(long size) {
        return Long.bitCount(size) == 1 && size >= 512 && size <= 1 << 20;
    }

    /** The capabilities of the CONFIGURATION record that change the RAM format. */
    public void setCapabilities(boolean ignoreShared, boolean mappedRam) {
        this.ignoreShared = ignoreShared;
        this.mappedRam = mappedRam;
    }

    /** MIG_CMD_POSTCOPY_ADVISE: the OR of all blocks' page sizes and the target page size. */
    public void postcopyAdvise(long pageSizes, long targetPageSize) {
        postcopyPageSizes = pageSizes;
        if (pageSize < 0 && validPageSize(targetPageSize)) {
            setPageSize(targetPageSize);
        }
    }

    /** Earlier copies of pages come from {@code store} from now on (null: from the stream again, if seekable). */
    public void setPageStore(PageStore store) {
        history = store == null ? null : new StoreHistory(store);
    }

    /** From now on, tell a page's first copy from a resend ({@link #isResend()}). */
    public void trackResends() {
        sent = new SentPages();
    }

    /** Whether the current page was sent before; needs {@link #trackResends()}. */
    public boolean isResend() {
        if (sent == null) {
            throw new IllegalStateException(Messages.resendsNotTracked());
        }
        return resend;
    }

    /** Whether the section's END record has been read to its EOS: all of RAM is known. */
    public boolean complete() {
        return complete;
    }

    // ------------------------------------------------------------------ records

    /** A record of the section begins: its body is read by {@link #next()}. */
    public void enter(RecordType type) {
        recordType = type;
        mode = Mode.RECORDS;
        active = true;
        at.readingFrom = this;
    }

    /**
     * Where the current record starts: in the record loop, the cursor's mark, set at each record
     * (one store a record, not two); elsewhere the offset set.
     */
    @Override
    public long eventOffset(long set) {
        return mode == Mode.RECORDS ? in.markPosition() : set;
    }

    /**
     * What the current record is, for an exception: told from the record's header in the
     * window (still there: the cursor keeps from the record's start) rather than stored for each
     * of millions of records. Null while the header itself is being read.
     */
    @Override
    public MigrationEvent reading() {
        return switch (mode) {
            case BLOCK_LIST -> MigrationEvent.RAM_BLOCK;
            case MAPPED_PAGES -> MigrationEvent.RAM_PAGE;
            case RECORDS -> {
                if (in.position() - at.eventOffset() < 8 || !in.inWindow(at.eventOffset(), 8)) {
                    yield null;
                }
                int kind = (int) (in.getBe64(at.eventOffset()) & flagMask) & ~FLAG_CONTINUE;
                yield kind == ZeroPageDecoder.FLAG ? MigrationEvent.ZERO_PAGE
                        : kind == RawPageDecoder.FLAG || kind == XbzrlePageDecoder.FLAG || kind == ZlibPageDecoder.FLAG
                        ? MigrationEvent.RAM_PAGE : null;
            }
        };
    }

    /** Whether a record of the section is being read: {@link #next()} gives its events up to SECTION_END. */
    public boolean active() {
        return active;
    }

    /** The next RAM_BLOCK, RAM_PAGE or ZERO_PAGE, or SECTION_END at the record's EOS. */
    public MigrationEvent next() {
        return mode == Mode.RECORDS ? nextRecord() : mode == Mode.BLOCK_LIST ? nextBlock() : nextMappedPage();
    }

    /**
     * The table from RAM_SAVE_FLAG to what reads the record: each page encoding's decoder, one
     * line each, and the records that carry no page. The JIT compiles it as a method of its own
     * (it is too big to inline), called once a record: inlined into a caller's loop with all it
     * calls, it measured slower and changed from run to run (parser-bench/RESULTS.md).
     */
    private MigrationEvent nextRecord() {
        while (true) {
            in.mark(); // the record's start: the event's offset (eventOffset below)
            long header = in.be64();
            int flags = (int) (header & flagMask);
            long address = header & ~flagMask;
            switch (flags & ~FLAG_CONTINUE) {
                case ZeroPageDecoder.FLAG -> {
                    if (pageOf(flags, address)) {
                        zero.read(in, page);
                        return passed(MigrationEvent.ZERO_PAGE);
                    }
                }
                case RawPageDecoder.FLAG -> {
                    if (pageOf(flags, address)) {
                        raw.read(in, page);
                        return passed(MigrationEvent.RAM_PAGE);
                    }
                }
                case XbzrlePageDecoder.FLAG -> {
                    if (pageOf(flags, address)) {
                        xbzrle.read(in, page);
                        return passed(MigrationEvent.RAM_PAGE);
                    }
                }
                case ZlibPageDecoder.FLAG -> {
                    if (pageOf(flags, address)) {
                        zlib.read(in, page);
                        return passed(MigrationEvent.RAM_PAGE);
                    }
                }
                case FLAG_MEM_SIZE -> {
                    if (address != 0) {
                        blockListRemaining = address;
                        mode = Mode.BLOCK_LIST;
                        return nextBlock();
                    }
                }
                case FLAG_EOS -> {
                    complete |= recordType == RecordType.END;
                    active = false;
                    at.eventAt(in.markPosition());
                    at.readingFrom = null;
                    at.reading = null;
                    return MigrationEvent.SECTION_END;
                }
                case FLAG_MULTIFD_FLUSH -> {
                    // a synchronisation point of multifd channels: nothing to read
                }
                case FLAG_HOOK -> throw at.malformed(Messages.ramHook());
                default -> throw at.malformed(Messages.unknownRamFlags(flags) + pageSizeDoubt());
            }
        }
    }

    /**
     * Resolves the block of a page record (its idstr, or the previous block on CONTINUE) and
     * checks the address; false when the page size had to be learnt first, the cursor then back
     * at the record's start.
     */
    private boolean pageOf(int flags, long address) {
        if (pageSize < 0) {
            learnPageSize();
            return false;
        }
        Block named;
        if ((flags & FLAG_CONTINUE) != 0) {
            named = lastPageBlock;
            if (named == null) {
                throw at.malformed(Messages.continueWithoutBlock());
            }
        } else {
            named = lastPageBlock = blocks.readName(in, lastPageBlock);
        }
        if (address < 0 || address > named.length - pageSize) {
            throw at.malformed(Messages.pageOutsideBlock(address, named.name, named.length) + pageSizeDoubt());
        }
        if (page.block != named) {
            page.block = named; // most records CONTINUE with the block before: no store
        }
        page.address = address;
        return true;
    }

    /**
     * After a page's record: resends are told when asked for, and a history that records pages
     * itself (an index) is told of it.
     */
    private MigrationEvent passed(MigrationEvent event) {
        if (sent != null || history != null) {
            observe();
        }
        return event;
    }

    private void observe() {
        if (sent != null) {
            resend = sent.mark(page.block.number, page.number());
        }
        if (history != null && history.decodesEagerly()) {
            if (page.data == null && page.encoding == PageEncoding.XBZRLE) {
                xbzrle.decode(in, page, history);
            }
            history.record(page);
        }
    }

    private void learnPageSize() {
        long recordStart = at.eventOffset();
        long learnt = PageSizeProbe.probe(in, recordStart, blocks, lastPageBlock, limits.maxCompressedPageBytes(),
                givenPageSize);
        if (learnt < 0) {
            throw at.malformed(Messages.noPageSize());
        }
        setPageSize(learnt);
        pageSizeLearnt = true;
        pageSizeInDoubt = !PageSizeProbe.readsDataPages(in, recordStart, blocks, lastPageBlock,
                limits.maxCompressedPageBytes(), learnt);
        in.rewindTo(recordStart);
    }

    /**
     * For errors a wrong page size gives (flags, addresses: the split of a record's header, and
     * where a page of data ends, depend on it): when the stream did not state the size, and no
     * page of data read ahead confirmed it, that it may be wrong, and which it was. (A data page
     * read whole, the next record where it should be, is evidence enough: a stream cut short
     * then fails without this doubt.)
     */
    private String pageSizeDoubt() {
        return pageSizeInDoubt ? Messages.pageSizeDoubt(pageSize, pageSizeGiven()) : "";
    }

    /** The next entry of the MEM_SIZE block list, or, when the lengths add up, the record after it. */
    private MigrationEvent nextBlock() {
        if (blockListRemaining == 0) {
            mode = Mode.RECORDS;
            return nextRecord();
        }
        at.startEvent(MigrationEvent.RAM_BLOCK);
        int length = in.u8();
        if (length == 0) {
            throw at.malformed(Messages.blockListShort(blockListRemaining));
        }
        long nameAt = in.take(length, "block name");
        byte[] nameBytes = in.slice(nameAt, length).toArray(ValueLayout.JAVA_BYTE);
        String name = BlockTable.nameOf(nameBytes);
        long usedLength = in.be64();
        Block entry = blocks.findOrAdd(name, nameBytes);
        entry.length = usedLength;
        if (usedLength < 0 || Long.compareUnsigned(usedLength, blockListRemaining) > 0) {
            throw at.malformed(Messages.blockListOverrun(name, usedLength, blockListRemaining));
        }
        blockListRemaining -= usedLength;
        checkPageCount(entry);
        if (postcopyPageSizes >= 0 && pageSize >= 0 && postcopyPageSizes != pageSize) {
            long candidate = in.peekBe64();
            // blocks on pages larger than the target's carry their page size (ram.c ram_save_setup)
            if (Long.bitCount(candidate) == 1 && candidate > pageSize && (candidate & postcopyPageSizes) != 0) {
                entry.pageSize = in.be64();
            }
        }
        if (ignoreShared) {
            entry.mrAddr = in.be64();
        }
        page.block = entry;
        if (mappedRam) {
            if (pageSize < 0 && in.lookAhead(12) == 12 && validPageSize(in.getBe64(in.position() + 4))) {
                setPageSize(in.getBe64(in.position() + 4)); // the MappedRamHeader's page_size
            }
            if (pageSize < 0) {
                throw at.malformed(Messages.noPageSize());
            }
            if (mapped.readHeader(in, entry, pageSize)) {
                mode = Mode.MAPPED_PAGES;
            }
        }
        return MigrationEvent.RAM_BLOCK;
    }

    private void checkPageCount(Block entry) {
        long pages = entry.length / Math.max(pageSize, 1 << PageSizeProbe.MIN_PAGE_BITS);
        if (pages >= PageIndex.MAX_PAGES_PER_BLOCK) {
            throw at.overLimit("pages in RAM block '" + entry.name + "'", pages, PageIndex.MAX_PAGES_PER_BLOCK - 1);
        }
    }

    /** The next page of a mapped-ram block whose bitmap bit is set; then the block list goes on. */
    private MigrationEvent nextMappedPage() {
        if (mapped.nextPage(in, page)) {
            return passed(MigrationEvent.RAM_PAGE);
        }
        mode = Mode.BLOCK_LIST;
        return nextBlock();
    }

    // ------------------------------------------------------------------ the current event

    /** The block of the current RAM_BLOCK, RAM_PAGE or ZERO_PAGE. */
    public Block block() {
        return page.block;
    }

    public long pageAddress() {
        return page.address;
    }

    public int fillByte() {
        return page.fill;
    }

    public PageEncoding pageEncoding() {
        return page.encoding;
    }

    public long pageSourceOffset() {
        return page.sourceOffset;
    }

    /** The segment holding the current page's bytes, decoding an XBZRLE page first if need be. */
    public MemorySegment pageData() {
        if (page.data == null) {
            boolean madeNow = history == null;
            if (madeNow) {
                history = makeIndex();
            }
            xbzrle.decode(in, page, history);
            if (madeNow) {
                history.record(page); // the index was made up to this page, which it now holds too
            }
        }
        return page.data;
    }

    /** Where the current page starts in {@link #pageData()}. */
    public long pageDataIndex() {
        pageData();
        return page.dataIndex;
    }

    /**
     * An index of where each page's last copy lies, made by reading the stream again up to the
     * current record: only a seekable source can.
     */
    private PageHistory makeIndex() {
        if (!in.source().isRandomAccess()) {
            throw new IllegalStateException(Messages.xbzrleNeedsStore());
        }
        PageIndex index = new PageIndex(in.source(), page.size, limits, at);
        long size = pageSize;
        replay.replay(at.eventOffset(), other -> {
            other.setPageSize(size);
            other.history = index;
        });
        return index;
    }
}
