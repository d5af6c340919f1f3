package io.qevm;

import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.LongLongMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A pull parser over a QEMU migration stream: {@link #next()} moves the cursor to the next
 * {@link MigrationEvent} and the accessors describe it. Nothing is copied: a page or a field value
 * is a view into the source, valid until the next call to {@link #next()}.
 *
 * <pre>{@code
 * try (MigrationReader reader = MigrationReader.open(Path.of("vm.mig"))) {
 *     for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
 *         if (e == MigrationEvent.RAM_PAGE) {
 *             checksum(reader.pageData(), reader.pageDataOffset(), reader.pageSize());
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Which accessors are valid for which event (any other call throws
 * {@link IllegalStateException}; {@link #currentEvent()}, {@link #eventOffset()},
 * {@link #position()} and the stream-wide accessors are always valid):
 * <table>
 *   <caption>accessors by event</caption>
 *   <tr><th>event</th><th>accessors</th></tr>
 *   <tr><td>SECTION_START, RECORD_END, FOOTER, and every event between them</td>
 *       <td>{@link #recordType()}, {@link #sectionId()}, {@link #sectionName()},
 *       {@link #instanceId()}, {@link #sectionVersion()}</td></tr>
 *   <tr><td>CONFIGURATION</td><td>{@link #machineName()}, {@link #capabilities()},
 *       {@link #targetPageBits()}</td></tr>
 *   <tr><td>COMMAND</td><td>{@link #commandType()}, {@link #commandPayload()}</td></tr>
 *   <tr><td>RAM_BLOCK</td><td>{@link #blockName()}, {@link #blockLength()},
 *       {@link #blockPageSize()}, {@link #blockMrAddr()}</td></tr>
 *   <tr><td>RAM_PAGE</td><td>{@link #blockName()}, {@link #pageAddress()}, {@link #pageSize()},
 *       {@link #pageData()}, {@link #pageDataOffset()}, {@link #page()}, {@link #pageEncoding()},
 *       {@link #pageSourceOffset()}</td></tr>
 *   <tr><td>ZERO_PAGE</td><td>{@link #blockName()}, {@link #pageAddress()}, {@link #pageSize()},
 *       {@link #fillByte()}</td></tr>
 *   <tr><td>FIELD</td><td>{@link #fieldName()}, {@link #fieldType()}, {@link #fieldKind()},
 *       {@link #fieldIndex()}, {@link #fieldSize()}, {@link #fieldBytes()}, {@link #fieldLongValue()},
 *       {@link #fieldBigIntegerValue()}, {@link #fieldBooleanValue()}, {@link #fieldStringValue()}</td></tr>
 *   <tr><td>STRUCT_START</td><td>{@link #fieldName()}, {@link #fieldType()}, {@link #fieldKind()},
 *       {@link #fieldIndex()}</td></tr>
 *   <tr><td>SUBSECTION</td><td>{@link #subsectionName()}, {@link #subsectionVersion()}</td></tr>
 *   <tr><td>STRUCT_END, SUBSECTION_END, RECORD_END</td><td>the section accessors only: a consumer
 *       that needs the names of what ends keeps its own stack</td></tr>
 * </table>
 *
 * <p>Errors are unchecked {@link MigrationReadException}s naming the byte offset; after one, the
 * reader is unusable. Not thread-safe.
 */
public final class MigrationReader implements AutoCloseable {

    // migration/savevm.c
    private static final int QEMU_VM_FILE_MAGIC = 0x5145564d;
    private static final int QEMU_VM_FILE_VERSION = 3;
    private static final int QEMU_VM_EOF = 0x00;
    private static final int QEMU_VM_SECTION_START = 0x01;
    private static final int QEMU_VM_SECTION_PART = 0x02;
    private static final int QEMU_VM_SECTION_END = 0x03;
    private static final int QEMU_VM_SECTION_FULL = 0x04;
    private static final int QEMU_VM_SUBSECTION = 0x05;
    private static final int QEMU_VM_VMDESCRIPTION = 0x06;
    private static final int QEMU_VM_CONFIGURATION = 0x07;
    private static final int QEMU_VM_COMMAND = 0x08;
    private static final int QEMU_VM_SECTION_FOOTER = 0x7e;

    // migration/savevm.c enum qemu_vm_cmd
    static final int MIG_CMD_OPEN_RETURN_PATH = 1;
    static final int MIG_CMD_PING = 2;
    static final int MIG_CMD_POSTCOPY_ADVISE = 3;
    static final int MIG_CMD_PACKAGED = 7;
    static final int MIG_CMD_SWITCHOVER_START = 11;
    private static final int MIG_CMD_MAX = 11;

    // migration/ram.c
    private static final int RAM_SAVE_FLAG_ZERO = 0x002;
    private static final int RAM_SAVE_FLAG_MEM_SIZE = 0x004;
    private static final int RAM_SAVE_FLAG_PAGE = 0x008;
    private static final int RAM_SAVE_FLAG_EOS = 0x010;
    private static final int RAM_SAVE_FLAG_CONTINUE = 0x020;
    private static final int RAM_SAVE_FLAG_XBZRLE = 0x040;
    private static final int RAM_SAVE_FLAG_HOOK = 0x080;
    private static final int RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;
    private static final int RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200;
    private static final int ENCODING_FLAG_XBZRLE = 0x1;
    private static final int MAPPED_RAM_HEADER_VERSION = 1;
    /** Page numbers take 40 bits of the keys that track pages (4 PiB of 4 KiB pages a block). */
    static final long MAX_PAGES_PER_BLOCK = 1L << 40;

    // hw/s390x/s390-stattrib.c
    private static final int STATTR_FLAG_EOS = 0x01;
    private static final int STATTR_FLAG_MORE = 0x02;
    private static final int STATTR_FLAG_ERROR = 0x04;
    private static final int STATTR_FLAG_DONE = 0x08;

    // hw/ppc/spapr.c
    private static final int HASH_PTE_SIZE_64 = 16;

    // libvirt src/qemu/qemu_saveimage.h
    private static final int LIBVIRT_HEADER_BYTES = 92;
    private static final String[] LIBVIRT_FORMATS = {"raw", "gzip", "bzip2", "xz", "lzop", "zstd", "sparse"};
    private static final int LIBVIRT_FORMAT_SPARSE = 6;

    private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** What the next call to {@link #next()} continues with. */
    private enum Mode { TOP, RAM, RAM_BLOCKS, MAPPED_PAGES, FIELDS, RECORD_BODY_DONE, DONE }

    /** What kind of section a section id stands for. */
    private enum SectionKind { RAM, HTAB, STORAGE_ATTRIBUTES, DEVICE }

    private static final class Section {
        final long id;
        final String name;
        final long instanceId;
        final long version;
        final SectionKind kind;
        final Description.Struct body;

        Section(long id, String name, long instanceId, long version, SectionKind kind, Description.Struct body) {
            this.id = id;
            this.name = name;
            this.instanceId = instanceId;
            this.version = version;
            this.kind = kind;
            this.body = body;
        }
    }

    /** A RAM block of the MEM_SIZE list; {@code nameBytes} lets pages name it without a String. */
    private static final class Block {
        final int number;
        final String name;
        final MemorySegment nameBytes;
        long length;
        long pageSize = -1;
        long mrAddr = -1;
        long bitmapOffset = -1;
        long pagesOffset = -1;

        Block(int number, String name, byte[] nameBytes) {
            this.number = number;
            this.name = name;
            this.nameBytes = MemorySegment.ofArray(nameBytes);
        }
    }

    /** One level of struct nesting while device fields are read; reused, never reallocated. */
    private static final class Frame {
        Description.Struct struct;
        int field;
        int element;
        int subsection;
        MigrationEvent closeEvent;
    }

    private final MigrationSource source;
    private final ReadLimits limits;
    private final long fileSize;
    private final long streamStart;
    /**
     * Where the device stream must end: the VMDESCRIPTION record, or the end of the file. Until
     * the description is located, the end of the source.
     */
    private long streamEnd = Long.MAX_VALUE;
    private final long descriptionOffset;
    private final Description description;

    // the cursor: seg holds stream offsets [segBase, segEnd)
    private MemorySegment seg;
    private long segBase;
    private long segEnd;
    private long pos;

    private Mode mode = Mode.TOP;
    private MigrationEvent event;
    /** The event being read, for error messages: set as soon as it is known, before it is returned. */
    private MigrationEvent reading;
    private long eventOffset;

    // sections
    private final Map<Long, Section> sections = new HashMap<>();
    private Section section;
    private RecordType recordType;
    private long lastSectionId = -1;

    // configuration and commands
    private String machineName;
    private final List<String> capabilities = new ArrayList<>();
    private int targetPageBits = -1;
    private boolean ignoreShared;
    private boolean mappedRam;
    private int commandType;
    private long commandPayloadOffset;
    private int commandPayloadLength;
    private long postcopyPageSizes = -1;

    // RAM
    private long ramPageSize = -1;
    private long ramFlagMask;
    private final List<Block> blocks = new ArrayList<>();
    private final Map<String, Block> blocksByName = new HashMap<>();
    /** Block numbers by a hash of their name bytes: pages name blocks without a String. */
    private final LongLongMap blocksByNameHash = new LongLongMap();
    private Block block;
    private Block lastPageBlock;
    private long blockListRemaining;
    private long pageAddress;
    private MemorySegment pageSegment;
    private long pageSegmentOffset;
    private long pageSourceOffset;
    private PageEncoding pageEncoding;
    private int fillByte;
    private static final long RELEASE_EVERY = 64L << 20;
    /** The cursor offset past which {@link #releaseBehind()} runs next. */
    private long releaseAt = RELEASE_EVERY;
    private long releasedUpTo;
    /** Bytes handed out by {@link #bytesAt} since the mapping was last released. */
    private long bytesAtSinceRelease;
    /** Decoded pages (zlib, XBZRLE) are handed out from here. */
    private byte[] pageBuffer;
    private MemorySegment pageBufferSegment;
    private Inflater inflater;
    /** Where each page's last copy lies; built on the first XBZRLE page, which needs it. */
    private PageHistory history;
    /** A reader that only builds {@link #history} for another: it inflates nothing. */
    private boolean indexOnly;
    private long mappedPage;
    private long mappedPageCount;

    // device fields
    private Frame[] frames = new Frame[8];
    private int depth;
    private Description.Field field;
    private long fieldIndex;
    private long valueOffset;
    private long valueLength;
    private String subsectionName;
    private long emptyValues;
    /** Whether the RAM section's END record has been read: all of RAM is known. */
    private boolean ramComplete;
    private long deviceStateSkippedAt = -1;
    private long subsectionVersion;

    private MigrationReader(MigrationSource source, ReadLimits limits, boolean requireDescription) {
        this.source = source;
        this.limits = limits;
        this.fileSize = source.size();
        this.seg = MemorySegment.ofArray(new byte[0]);
        this.streamStart = readFileHeader();
        long describedAt = -1;
        Description parsed = null;
        if (fileSize >= 0) {
            describedAt = locateDescription();
        }
        if (describedAt >= 0) {
            int length = (int) (fileSize - describedAt - 5);
            byte[] json = new byte[length];
            MemorySegment.copy(window(describedAt + 5, length), 0, MemorySegment.ofArray(json), 0, length);
            parsed = DescriptionParser.parse(json, describedAt + 5, limits);
        } else if (requireDescription) {
            throw new MissingDescriptionException(Messages.noDescription(), ReadContext.at(Math.max(fileSize, 0)));
        }
        this.descriptionOffset = describedAt;
        this.description = parsed;
        this.streamEnd = describedAt >= 0 ? describedAt : (fileSize >= 0 ? fileSize : Long.MAX_VALUE);
        this.segEnd = Math.min(segEnd, streamEnd);
        if (parsed != null && parsed.pageSize >= 0) {
            setPageSize(parsed.pageSize, describedAt + 5);
        }
        frames[0] = new Frame();
    }

    /** A reader over {@code parent}'s source from its start, that builds a {@link PageHistory}. */
    private MigrationReader(MigrationReader parent) {
        this.source = parent.source;
        this.limits = parent.limits;
        this.fileSize = parent.fileSize;
        this.streamStart = parent.streamStart;
        this.streamEnd = parent.streamEnd;
        this.descriptionOffset = parent.descriptionOffset;
        this.description = parent.description;
        this.seg = parent.seg;
        this.segBase = parent.segBase;
        this.segEnd = parent.segEnd;
        this.pos = parent.streamStart + 8;
        this.ramPageSize = parent.ramPageSize;
        this.ramFlagMask = parent.ramFlagMask;
        this.history = new PageHistory((int) parent.ramPageSize);
        this.indexOnly = true;
        frames[0] = new Frame();
    }

    /**
     * Opens a migration file (a QEMU stream or a libvirt save image) by mapping it, and finds its
     * JSON description.
     *
     * @throws IOException              if the file cannot be opened or mapped
     * @throws MigrationReadException   if it is not a migration stream or has no description
     */
    public static MigrationReader open(Path file) throws IOException {
        return open(file, ReadLimits.DEFAULT);
    }

    /** As {@link #open(Path)}, with the given limits. */
    public static MigrationReader open(Path file, ReadLimits limits) throws IOException {
        MigrationSource source = MigrationSource.mapped(file);
        try {
            return new MigrationReader(source, limits, true);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /**
     * Opens a migration file to read its RAM even when it has no JSON description (saved with
     * {@code suppress-vmdesc=on}). Without one, device sections cannot be decoded: the reader
     * returns {@link MigrationEvent#EOF} at the first one after RAM is complete (see
     * {@link #deviceStateSkippedAt()}) and fails at one before. The page size comes from the
     * description, else the CONFIGURATION record, else {@link #setPageSize}.
     *
     * @throws IOException if the file cannot be opened or mapped
     */
    public static MigrationReader openRamOnly(Path file) throws IOException {
        MigrationSource source = MigrationSource.mapped(file);
        try {
            return new MigrationReader(source, ReadLimits.DEFAULT, false);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /**
     * Where reading stopped at a device section it could not decode (a stream without a JSON
     * description, read for its RAM), or -1 when it did not.
     */
    public long deviceStateSkippedAt() {
        return deviceStateSkippedAt;
    }

    /**
     * A reader over {@code source}, which it closes on {@link #close()}.
     *
     * @param requireDescription whether a stream without a JSON description is an error; without
     *                           one, device sections cannot be decoded and RAM needs a page size
     *                           from the CONFIGURATION record or {@link #setPageSize}
     */
    public static MigrationReader of(MigrationSource source, ReadLimits limits, boolean requireDescription) {
        return new MigrationReader(source, limits, requireDescription);
    }

    // ------------------------------------------------------------------ stream-wide accessors

    /** The event the cursor is on, or {@code null} before the first {@link #next()}. */
    public MigrationEvent currentEvent() {
        return event;
    }

    /** Byte offset (from the start of the file) where the current event starts. */
    public long eventOffset() {
        return eventOffset;
    }

    /** Byte offset of the cursor: where the next event will start. */
    public long position() {
        return pos;
    }

    /** The source's name, e.g. the file path. */
    public String sourceName() {
        return source.name();
    }

    /** The source's size in bytes, or -1 when not known (a sequential stream). */
    public long sourceSize() {
        return fileSize;
    }

    /** Byte offset of the QEMU stream's magic: 0, or past a libvirt save header. */
    public long streamStart() {
        return streamStart;
    }

    /** Whether the file has a JSON description. */
    public boolean hasDescription() {
        return description != null;
    }

    /**
     * The JSON description's bytes (UTF-8), a view into the source.
     *
     * @throws IllegalStateException if the file has none
     */
    public MemorySegment descriptionJson() {
        if (description == null) {
            throw new IllegalStateException("the stream has no JSON description");
        }
        return window(descriptionOffset + 5, fileSize - descriptionOffset - 5).asSlice(0, fileSize - descriptionOffset - 5);
    }

    /** File offset of the JSON text of the description, or -1. */
    public long descriptionJsonOffset() {
        return description == null ? -1 : descriptionOffset + 5;
    }

    /** The RAM page size: the description's {@code page_size}, else 1 &lt;&lt; target-page-bits, else -1. */
    public long ramPageSize() {
        return ramPageSize;
    }

    /**
     * Sets the RAM page size where the stream does not say it (no JSON description and no
     * target-page-bits), before the first RAM record.
     *
     * @throws IllegalArgumentException if it is not a power of two from 512 to 1 MiB
     */
    public void setPageSize(long pageSize) {
        if (!validPageSize(pageSize)) {
            throw new IllegalArgumentException(Messages.badPageSize(pageSize));
        }
        ramPageSize = pageSize;
        ramFlagMask = pageSize - 1;
    }

    // ------------------------------------------------------------------ the cursor

    /**
     * Moves to the next event and returns it. After {@link MigrationEvent#EOF}, returns EOF again.
     *
     * @throws MigrationReadException if the stream is truncated, malformed or over a limit
     */
    public MigrationEvent next() {
        reading = null;
        return event = switch (mode) {
            case TOP -> nextRecord();
            case RAM -> nextRamRecord();
            case RAM_BLOCKS -> nextBlock();
            case MAPPED_PAGES -> nextMappedPage();
            case FIELDS -> nextField();
            case RECORD_BODY_DONE -> {
                mode = Mode.TOP;
                eventOffset = pos;
                yield MigrationEvent.RECORD_END;
            }
            case DONE -> MigrationEvent.EOF;
        };
    }

    /**
     * Skips the rest of the current section record: from any event inside it, moves to its
     * {@link MigrationEvent#RECORD_END} and returns it. On RECORD_END itself, does nothing.
     */
    public MigrationEvent skipSection() {
        requireSection();
        while (event != MigrationEvent.RECORD_END && event != MigrationEvent.FOOTER) {
            next();
        }
        return event;
    }

    // ------------------------------------------------------------------ section accessors

    /** The record type of the current section record. */
    public RecordType recordType() {
        requireSection();
        return recordType;
    }

    /** The current section's id (unsigned 32 bits). */
    public long sectionId() {
        requireSection();
        return section.id;
    }

    /** The current section's idstr, e.g. {@code ram} or {@code cpu}. */
    public String sectionName() {
        requireSection();
        return section.name;
    }

    /** The current section's instance id (unsigned 32 bits). */
    public long instanceId() {
        requireSection();
        return section.instanceId;
    }

    /** The current section's version id (unsigned 32 bits). */
    public long sectionVersion() {
        requireSection();
        return section.version;
    }

    // ------------------------------------------------------------------ configuration and commands

    /** The machine type, e.g. {@code pc-i440fx-7.2}. */
    public String machineName() {
        require(MigrationEvent.CONFIGURATION);
        return machineName;
    }

    /** The migration capabilities the CONFIGURATION record lists (x-ignore-shared, mapped-ram...). */
    public List<String> capabilities() {
        require(MigrationEvent.CONFIGURATION);
        return Collections.unmodifiableList(capabilities);
    }

    /** The target-page-bits subsection's value, or -1 when the record has none. */
    public int targetPageBits() {
        require(MigrationEvent.CONFIGURATION);
        return targetPageBits;
    }

    /** The MIG_CMD_* number of the current COMMAND. */
    public int commandType() {
        require(MigrationEvent.COMMAND);
        return commandType;
    }

    /** The current COMMAND's payload, a view. */
    public MemorySegment commandPayload() {
        require(MigrationEvent.COMMAND);
        return view(commandPayloadOffset, commandPayloadLength);
    }

    // ------------------------------------------------------------------ RAM accessors

    /** The RAM block the current page or block entry belongs to. */
    public String blockName() {
        requireRam();
        return block.name;
    }

    /** The block's used_length in bytes. */
    public long blockLength() {
        require(MigrationEvent.RAM_BLOCK);
        return block.length;
    }

    /** The block's own page size when the stream gives it (postcopy, huge pages), else -1. */
    public long blockPageSize() {
        require(MigrationEvent.RAM_BLOCK);
        return block.pageSize;
    }

    /** The block's guest address when the stream gives it (x-ignore-shared), else -1. */
    public long blockMrAddr() {
        require(MigrationEvent.RAM_BLOCK);
        return block.mrAddr;
    }

    /** Offset of the current page within its block. */
    public long pageAddress() {
        requirePage();
        return pageAddress;
    }

    /** Bytes in a page: the target page size. */
    public int pageSize() {
        requirePage();
        return (int) ramPageSize;
    }

    /** The fill byte of the current ZERO_PAGE (0 in practice). */
    public int fillByte() {
        require(MigrationEvent.ZERO_PAGE);
        return fillByte;
    }

    /**
     * The segment holding the current RAM_PAGE's bytes at {@link #pageDataOffset()}; with it a
     * consumer reads the page without any allocation. Valid until {@link #next()}.
     */
    public MemorySegment pageData() {
        require(MigrationEvent.RAM_PAGE);
        return pageSegment;
    }

    /** Where the current RAM_PAGE's bytes start in {@link #pageData()}. */
    public long pageDataOffset() {
        require(MigrationEvent.RAM_PAGE);
        return pageSegmentOffset;
    }

    /** The current RAM_PAGE's bytes as a view of exactly one page. Valid until {@link #next()}. */
    public MemorySegment page() {
        require(MigrationEvent.RAM_PAGE);
        return pageSegment.asSlice(pageSegmentOffset, ramPageSize);
    }

    /** How the current RAM_PAGE travelled; its bytes are decoded whatever the encoding. */
    public PageEncoding pageEncoding() {
        require(MigrationEvent.RAM_PAGE);
        return pageEncoding;
    }

    /**
     * File offset of the current RAM_PAGE's bytes when they lie in the file as they are (raw and
     * mapped-ram pages), else -1 (decoded pages live in a buffer reused by {@link #next()}). With a
     * random-access source, {@link #bytesAt} reads them again at any later time.
     */
    public long pageSourceOffset() {
        require(MigrationEvent.RAM_PAGE);
        return pageSourceOffset;
    }

    /**
     * A view of the file's bytes [offset, offset + length), valid until {@link #close()}: for
     * consumers that keep where a page lies and read it again later.
     *
     * @throws IllegalStateException    if the source is not random-access
     * @throws IllegalArgumentException if the range is not within the file
     */
    public MemorySegment bytesAt(long offset, long length) {
        if (!source.isRandomAccess() || fileSize < 0) {
            throw new IllegalStateException("bytesAt needs a random-access source");
        }
        if (offset < 0 || length < 0 || offset > fileSize - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside the file");
        }
        // consumers reading pages again (-m) go through the whole file in no set order: hand
        // the mapping back every so often, or the resident set grows to the file's size
        bytesAtSinceRelease += length;
        if (bytesAtSinceRelease > RELEASE_EVERY) {
            bytesAtSinceRelease = 0;
            source.release(0, fileSize);
        }
        return window(offset, length).asSlice(0, length);
    }

    // ------------------------------------------------------------------ field accessors

    /** The field's name (or, on STRUCT_START, the struct field's name). */
    public String fieldName() {
        requireField();
        return field.name();
    }

    /** The field's JSON type, e.g. {@code uint32} or {@code pci config}. */
    public String fieldType() {
        requireField();
        return field.type();
    }

    /** How the field's bytes are read. */
    public FieldKind fieldKind() {
        requireField();
        return field.kind();
    }

    /**
     * The element's index when the field is an array entry ({@code array_len} or {@code index}
     * in the description), else -1. Consecutive entries of one name form one array.
     */
    public long fieldIndex() {
        requireField();
        return fieldIndex;
    }

    /** How many bytes the field's value takes in the stream (a capability: its name's). */
    public long fieldSize() {
        require(MigrationEvent.FIELD);
        return valueLength;
    }

    /** The field's raw bytes, a view (for a capability, the name without its length byte). */
    public MemorySegment fieldBytes() {
        require(MigrationEvent.FIELD);
        return view(valueOffset, valueLength);
    }

    /**
     * The value of an integer field of up to 8 bytes: sign-extended for {@link FieldKind#SIGNED},
     * zero-extended for {@link FieldKind#UNSIGNED} (a uint64 above 2^63 comes out negative: read
     * it with {@link Long#toUnsignedString(long)}).
     */
    public long fieldLongValue() {
        require(MigrationEvent.FIELD);
        if ((field.kind() != FieldKind.SIGNED && field.kind() != FieldKind.UNSIGNED) || valueLength > 8) {
            throw new IllegalStateException("field '" + field.name() + "' is not an integer of up to 8 bytes");
        }
        return integerValue();
    }

    private long integerValue() {
        long value = 0;
        for (long i = 0; i < valueLength; i++) {
            value = (value << 8) | (seg.get(ValueLayout.JAVA_BYTE, valueOffset - segBase + i) & 0xff);
        }
        if (field.kind() == FieldKind.SIGNED && valueLength < 8) {
            int shift = 64 - 8 * (int) valueLength;
            value = (value << shift) >> shift;
        }
        return value;
    }

    /** The value of an integer field of any size, signed or not as its kind says. */
    public BigInteger fieldBigIntegerValue() {
        require(MigrationEvent.FIELD);
        if (field.kind() != FieldKind.SIGNED && field.kind() != FieldKind.UNSIGNED) {
            throw new IllegalStateException("field '" + field.name() + "' is not an integer");
        }
        byte[] bytes = view(valueOffset, valueLength).toArray(ValueLayout.JAVA_BYTE);
        return field.kind() == FieldKind.SIGNED ? new BigInteger(bytes) : new BigInteger(1, bytes);
    }

    /** The value of a {@code bool} field: whether its first byte is not zero. */
    public boolean fieldBooleanValue() {
        require(MigrationEvent.FIELD);
        if (field.kind() != FieldKind.BOOL) {
            throw new IllegalStateException("field '" + field.name() + "' is not a bool");
        }
        return seg.get(ValueLayout.JAVA_BYTE, valueOffset - segBase) != 0;
    }

    /** The name of a {@code capability} field (UTF-8; malformed bytes become U+FFFD). */
    public String fieldStringValue() {
        require(MigrationEvent.FIELD);
        if (field.kind() != FieldKind.CAPABILITY) {
            throw new IllegalStateException("field '" + field.name() + "' is not a capability");
        }
        return utf8(valueOffset, (int) valueLength);
    }

    /** The subsection's name as the stream gives it. */
    public String subsectionName() {
        require(MigrationEvent.SUBSECTION);
        return subsectionName;
    }

    /** The subsection's version id (unsigned 32 bits). */
    public long subsectionVersion() {
        require(MigrationEvent.SUBSECTION);
        return subsectionVersion;
    }

    /** Releases the source (unmaps the file). Views handed out are invalid afterwards. */
    @Override
    public void close() throws IOException {
        source.close();
    }

    // ================================================================== top-level records

    private MigrationEvent nextRecord() {
        eventOffset = pos;
        section = null;
        int type = u8();
        switch (type) {
            case QEMU_VM_EOF -> {
                if (fileSize >= 0 && pos != streamEnd) {
                    throw malformed(Messages.bytesAfterEof(streamEnd - pos, descriptionOffset >= 0));
                }
                mode = Mode.DONE;
                return MigrationEvent.EOF;
            }
            case QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL -> {
                reading = MigrationEvent.SECTION_START;
                return startSection(type == QEMU_VM_SECTION_START ? RecordType.START : RecordType.FULL);
            }
            case QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END -> {
                reading = MigrationEvent.SECTION_START;
                return continueSection(type == QEMU_VM_SECTION_PART ? RecordType.PART : RecordType.END);
            }
            case QEMU_VM_SECTION_FOOTER -> {
                reading = MigrationEvent.FOOTER;
                section = sections.get(lastSectionId);
                long id = u32();
                if (lastSectionId < 0) {
                    throw malformed(Messages.footerWithoutSection(id));
                }
                if (id != lastSectionId) {
                    throw malformed(Messages.footerMismatch(id, lastSectionId));
                }
                return MigrationEvent.FOOTER;
            }
            case QEMU_VM_CONFIGURATION -> {
                reading = MigrationEvent.CONFIGURATION;
                readConfiguration();
                return MigrationEvent.CONFIGURATION;
            }
            case QEMU_VM_COMMAND -> {
                reading = MigrationEvent.COMMAND;
                readCommand();
                return MigrationEvent.COMMAND;
            }
            case QEMU_VM_VMDESCRIPTION -> throw malformed(Messages.descriptionBeforeEof());
            default -> throw malformed(Messages.unknownRecord(type));
        }
    }

    private MigrationEvent startSection(RecordType type) {
        long id = u32();
        String name = shortString();
        long instanceId = u32();
        long version = u32();
        Section started = newSection(id, name, instanceId, version);
        if (started == null) {
            deviceStateSkippedAt = eventOffset;
            mode = Mode.DONE;
            return MigrationEvent.EOF;
        }
        sections.put(id, started);
        return enterSection(started, type);
    }

    private Section newSection(long id, String name, long instanceId, long version) {
        // Sections with a layout of their own, keyed as the reference script keys them.
        if (instanceId == 0) {
            switch (name) {
                case "ram" -> {
                    if (version != 4) {
                        throw malformed(Messages.unsupportedVersion("RAM", version, 4));
                    }
                    return new Section(id, name, instanceId, version, SectionKind.RAM, null);
                }
                case "spapr/htab" -> {
                    if (version != 1) {
                        throw malformed(Messages.unsupportedVersion("spapr/htab", version, 1));
                    }
                    return new Section(id, name, instanceId, version, SectionKind.HTAB, null);
                }
                case "s390-storage_attributes" -> {
                    if (version != 0) {
                        throw malformed(Messages.unsupportedVersion("s390-storage_attributes", version, 0));
                    }
                    return new Section(id, name, instanceId, version, SectionKind.STORAGE_ATTRIBUTES, null);
                }
                default -> {
                }
            }
        }
        if (description == null) {
            if (ramComplete) {
                return null; // RAM-only reading: device state from here on cannot be decoded
            }
            throw new MissingDescriptionException(Messages.deviceWithoutDescription(name, instanceId),
                    new ReadContext(eventOffset, pos, name, id, "SECTION_START"));
        }
        Description.Device device = description.device(name, instanceId);
        if (device == null) {
            throw malformed(Messages.undescribedSection(name, instanceId));
        }
        return new Section(id, name, instanceId, version, SectionKind.DEVICE, device.body());
    }

    private MigrationEvent continueSection(RecordType type) {
        long id = u32();
        Section continued = sections.get(id);
        if (continued == null) {
            throw malformed(Messages.unknownSectionId(id, type));
        }
        return enterSection(continued, type);
    }

    private MigrationEvent enterSection(Section entered, RecordType type) {
        section = entered;
        recordType = type;
        lastSectionId = entered.id;
        switch (entered.kind) {
            case RAM -> {
                if (ramPageSize < 0) {
                    throw malformed(Messages.noPageSize());
                }
                mode = Mode.RAM;
            }
            case HTAB -> {
                skipHtabPart();
                mode = Mode.RECORD_BODY_DONE;
            }
            case STORAGE_ATTRIBUTES -> {
                skipStorageAttributesPart();
                mode = Mode.RECORD_BODY_DONE;
            }
            case DEVICE -> {
                pushFrame(entered.body, MigrationEvent.RECORD_END);
                mode = Mode.FIELDS;
            }
        }
        return MigrationEvent.SECTION_START;
    }

    /**
     * QEMU_VM_CONFIGURATION: with a JSON description that describes it (QEMU 8.2+), its fields are
     * read like a device's; otherwise by the known layout of savevm.c's vmstate_configuration.
     */
    private void readConfiguration() {
        machineName = null;
        capabilities.clear();
        targetPageBits = -1;
        if (description != null && description.configuration != null) {
            readDescribedConfiguration();
        } else {
            long length = u32();
            if (length > limits.maxNameBytes()) {
                throw new LimitExceededException(Messages.limit("bytes in the machine name", length,
                        limits.maxNameBytes()), context());
            }
            machineName = utf8(take(length, "machine name"), (int) length);
            while (peekU8() == QEMU_VM_SUBSECTION) {
                long at = pos;
                pos++;
                String name = shortString();
                u32(); // version_id
                switch (name) {
                    case "configuration/target-page-bits" -> targetPageBits = (int) u32();
                    case "configuration/capabilities" -> {
                        long count = u32();
                        if (count > limits.maxCapabilities()) {
                            throw new LimitExceededException(Messages.limit("capabilities", count,
                                    limits.maxCapabilities()), context());
                        }
                        for (long i = 0; i < count; i++) {
                            capabilities.add(shortString());
                        }
                    }
                    case "configuration/uuid" -> take(16, "uuid");
                    default -> throw new MalformedStreamException(Messages.unknownConfigurationSubsection(name),
                            new ReadContext(at, pos, null, -1, "CONFIGURATION"));
                }
            }
        }
        ignoreShared = capabilities.contains("x-ignore-shared");
        mappedRam = capabilities.contains("mapped-ram");
        if (targetPageBits >= 0 && ramPageSize < 0) {
            if (targetPageBits < 9 || targetPageBits > 20) {
                throw malformed(Messages.badPageBits(targetPageBits));
            }
            setPageSize(1L << targetPageBits);
        }
    }

    private void readDescribedConfiguration() {
        long start = eventOffset;
        pushFrame(description.configuration, MigrationEvent.RECORD_END);
        mode = Mode.FIELDS;
        String subsection = null;
        for (MigrationEvent e = nextField(); e != MigrationEvent.RECORD_END; e = nextField()) {
            if (e == MigrationEvent.SUBSECTION) {
                subsection = subsectionName;
            } else if (e == MigrationEvent.FIELD) {
                if (field.kind() == FieldKind.CAPABILITY) {
                    if (capabilities.size() >= limits.maxCapabilities()) {
                        throw new LimitExceededException(Messages.limit("capabilities", capabilities.size() + 1L,
                                limits.maxCapabilities()), context());
                    }
                    capabilities.add(utf8(valueOffset, (int) valueLength));
                } else if (depth == 1 && field.name().equals("name")) {
                    machineName = utf8(valueOffset, (int) valueLength);
                } else if ("configuration/target-page-bits".equals(subsection)
                        && (field.kind() == FieldKind.UNSIGNED || field.kind() == FieldKind.SIGNED)
                        && valueLength <= 4) {
                    targetPageBits = (int) integerValue();
                }
            }
        }
        mode = Mode.TOP;
        eventOffset = start;
    }

    private void readCommand() {
        commandType = u16();
        commandPayloadLength = u16();
        if (commandType < 1 || commandType > MIG_CMD_MAX) {
            throw malformed(Messages.unknownCommand(commandType));
        }
        if (commandType == MIG_CMD_PACKAGED) {
            throw malformed(Messages.packagedUnsupported());
        }
        commandPayloadOffset = pos;
        take(commandPayloadLength, "command payload");
        int expected = switch (commandType) {
            case MIG_CMD_PING -> 4;
            case MIG_CMD_POSTCOPY_ADVISE -> commandPayloadLength == 0 ? 0 : 16;
            case MIG_CMD_OPEN_RETURN_PATH, MIG_CMD_SWITCHOVER_START -> 0;
            default -> commandPayloadLength; // variable or undocumented payloads: taken as given
        };
        if (commandPayloadLength != expected) {
            throw malformed(Messages.badCommandLength(commandType, commandPayloadLength, expected));
        }
        if (commandType == MIG_CMD_POSTCOPY_ADVISE && commandPayloadLength == 16) {
            postcopyPageSizes = seg.get(BE_LONG, commandPayloadOffset - segBase);
        }
    }

    // ================================================================== RAM

    private MigrationEvent nextRamRecord() {
        if (pos >= releaseAt) {
            releaseBehind();
        }
        while (true) {
            eventOffset = pos;
            long header = u64();
            int flags = (int) (header & ramFlagMask);
            long address = header & ~ramFlagMask;
            int kind = flags & ~RAM_SAVE_FLAG_CONTINUE;
            switch (kind) {
                case RAM_SAVE_FLAG_PAGE -> {
                    reading = MigrationEvent.RAM_PAGE;
                    pageOf(flags, address);
                    long at = take(ramPageSize, "page");
                    inFilePage(at, PageEncoding.RAW);
                    return MigrationEvent.RAM_PAGE;
                }
                case RAM_SAVE_FLAG_ZERO -> {
                    reading = MigrationEvent.ZERO_PAGE;
                    pageOf(flags, address);
                    fillByte = u8();
                    if (history != null) {
                        history.put(pageKey(), PageHistory.FILL | fillByte);
                    }
                    return MigrationEvent.ZERO_PAGE;
                }
                case RAM_SAVE_FLAG_XBZRLE -> {
                    reading = MigrationEvent.RAM_PAGE;
                    pageOf(flags, address);
                    readXbzrlePage();
                    return MigrationEvent.RAM_PAGE;
                }
                case RAM_SAVE_FLAG_COMPRESS_PAGE -> {
                    reading = MigrationEvent.RAM_PAGE;
                    pageOf(flags, address);
                    readCompressedPage();
                    return MigrationEvent.RAM_PAGE;
                }
                case RAM_SAVE_FLAG_MEM_SIZE -> {
                    if (address == 0) {
                        continue;
                    }
                    blockListRemaining = address;
                    mode = Mode.RAM_BLOCKS;
                    return nextBlock();
                }
                case RAM_SAVE_FLAG_EOS -> {
                    mode = Mode.TOP;
                    ramComplete |= recordType == RecordType.END;
                    return MigrationEvent.RECORD_END;
                }
                case RAM_SAVE_FLAG_MULTIFD_FLUSH -> {
                    // a synchronisation point of multifd channels: nothing to read
                }
                case RAM_SAVE_FLAG_HOOK -> throw malformed(Messages.ramHook());
                default -> throw malformed(Messages.unknownRamFlags(flags));
            }
        }
    }

    /** Resolves the block of a page record (its idstr, or the previous block on CONTINUE). */
    private void pageOf(int flags, long address) {
        if ((flags & RAM_SAVE_FLAG_CONTINUE) != 0) {
            if (lastPageBlock == null) {
                throw malformed(Messages.continueWithoutBlock());
            }
        } else {
            lastPageBlock = blockNamedAtCursor();
        }
        block = lastPageBlock;
        if (address < 0 || address > block.length - ramPageSize) {
            throw malformed(Messages.pageOutsideBlock(address, block.name, block.length));
        }
        pageAddress = address;
    }

    /**
     * Tells the source the bytes behind the cursor are done with, every {@link #RELEASE_EVERY}
     * bytes: reading a multi-GB dump then keeps a small resident set. Not while a page history
     * or a consumer may read them again: the hint only unmaps, so later reads still work.
     */
    private void releaseBehind() {
        source.release(releasedUpTo, pos - RELEASE_EVERY);
        releasedUpTo = Math.max(releasedUpTo, pos - RELEASE_EVERY);
        releaseAt = pos + RELEASE_EVERY;
    }

    /** The current page's bytes lie in the file at {@code at}: hand out a view of them. */
    private void inFilePage(long at, PageEncoding encoding) {
        pageSegment = seg;
        pageSegmentOffset = at - segBase;
        pageSourceOffset = at;
        pageEncoding = encoding;
        if (history != null) {
            history.put(pageKey(), PageHistory.IN_FILE | at);
        }
    }

    private long pageKey() {
        return PageHistory.key(block.number, pageAddress / ramPageSize);
    }

    /** The decoded page goes to {@link #pageBuffer}; RAM_PAGE hands that out. */
    private void decodedPage(PageEncoding encoding) {
        pageSegment = pageBufferSegment;
        pageSegmentOffset = 0;
        pageSourceOffset = -1;
        pageEncoding = encoding;
    }

    private void ensurePageBuffer() {
        if (pageBuffer == null || pageBuffer.length != ramPageSize) {
            pageBuffer = new byte[(int) ramPageSize];
            pageBufferSegment = MemorySegment.ofArray(pageBuffer);
        }
    }

    /** RAM_SAVE_FLAG_COMPRESS_PAGE: u32 length + zlib data that must inflate to exactly one page. */
    private void readCompressedPage() {
        long lengthAt = pos;
        long length = u32();
        if (length > limits.maxCompressedPageBytes()) {
            throw new LimitExceededException(Messages.limit("bytes in a compressed page", length,
                    limits.maxCompressedPageBytes()), context());
        }
        long data = take(length, "compressed page");
        if (history != null) {
            history.put(pageKey(), PageHistory.COMPRESSED | lengthAt);
        }
        if (indexOnly) {
            return;
        }
        ensurePageBuffer();
        inflate(data, (int) length, pageBuffer, 0);
        decodedPage(PageEncoding.COMPRESSED);
    }

    private void inflate(long data, int length, byte[] into, int intoOffset) {
        if (inflater == null) {
            inflater = new Inflater();
        }
        inflater.reset();
        inflater.setInput(seg.asSlice(data - segBase, length).asByteBuffer());
        try {
            int produced = 0;
            while (produced < ramPageSize && !inflater.finished() && !inflater.needsInput()) {
                produced += inflater.inflate(into, intoOffset + produced, (int) ramPageSize - produced);
            }
            if (produced < ramPageSize || !inflater.finished()) {
                boolean more = !inflater.finished() && !inflater.needsInput()
                        && inflater.inflate(new byte[1]) > 0;
                throw malformed(Messages.badInflatedSize(more ? "more than" : "only " + produced + " of", ramPageSize));
            }
        } catch (DataFormatException e) {
            throw malformed(Messages.badZlib(e.getMessage()));
        }
    }

    /**
     * RAM_SAVE_FLAG_XBZRLE: u8 ENCODING_FLAG_XBZRLE, u16 length, the delta; applied to the page's
     * last copy (zero when never sent), found through {@link #history}.
     */
    private void readXbzrlePage() {
        int encoding = u8();
        int length = u16();
        if (encoding != ENCODING_FLAG_XBZRLE) {
            throw malformed(Messages.badXbzrleEncoding(encoding));
        }
        if (length > ramPageSize) {
            throw malformed(Messages.xbzrleTooLong(length, ramPageSize));
        }
        long data = take(length, "XBZRLE data");
        if (history == null) {
            history = buildHistory(eventOffset);
        }
        ensurePageBuffer();
        long key = pageKey();
        loadLastCopy(history.get(key), pageBuffer);
        String problem = Xbzrle.decode(seg, data - segBase, length, pageBuffer);
        if (problem != null) {
            throw malformed(Messages.badXbzrle(problem));
        }
        if (history.decodedPages() >= limits.maxDecodedPages() && !history.isDecoded(key)) {
            throw new LimitExceededException(Messages.limit("pages kept decoded for XBZRLE",
                    history.decodedPages() + 1L, limits.maxDecodedPages()), context());
        }
        int slot = history.slotFor(key);
        System.arraycopy(pageBuffer, 0, history.slotArray(slot), history.slotOffset(slot), pageBuffer.length);
        decodedPage(PageEncoding.XBZRLE);
    }

    /** Copies the page at {@code location} (a {@link PageHistory} value) into {@code page}. */
    private void loadLastCopy(long location, byte[] page) {
        long value = PageHistory.value(location);
        switch ((int) (PageHistory.kind(location) >>> 62)) {
            case 0 -> java.util.Arrays.fill(page, (byte) value);
            case 1 -> MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, value - segBase, page, 0, page.length);
            case 2 -> {
                long length = Integer.toUnsignedLong(seg.get(BE_INT, value - segBase));
                inflate(value + 4, (int) length, page, 0);
            }
            default -> {
                int slot = (int) value;
                System.arraycopy(history.slotArray(slot), history.slotOffset(slot), page, 0, page.length);
            }
        }
    }

    /**
     * Reads the stream again from its start up to {@code upTo} with a second reader that only
     * records where each page's last copy lies: XBZRLE pages are rare, so the index is paid for
     * only by the streams that have them.
     */
    private PageHistory buildHistory(long upTo) {
        if (!source.isRandomAccess()) {
            throw malformed(Messages.xbzrleNeedsFile());
        }
        MigrationReader indexer = new MigrationReader(this);
        while (indexer.pos < upTo && indexer.next() != MigrationEvent.EOF) {
            // the indexer records every page it passes
        }
        return indexer.history;
    }

    /** Reads u8 len + idstr and finds the block without allocating a String. */
    private Block blockNamedAtCursor() {
        long at = pos;
        int length = u8();
        take(length, "block name");
        long from = at + 1 - segBase;
        Block last = lastPageBlock;
        if (last != null && last.nameBytes.byteSize() == length
                && MemorySegment.mismatch(seg, from, from + length, last.nameBytes, 0, length) < 0) {
            return last;
        }
        long number = blocksByNameHash.get(nameHash(seg, from, length), -1);
        if (number >= 0) {
            Block candidate = blocks.get((int) number);
            if (candidate.nameBytes.byteSize() == length
                    && MemorySegment.mismatch(seg, from, from + length, candidate.nameBytes, 0, length) < 0) {
                return candidate;
            }
            // two names with one hash: rare enough for a search
            for (Block other : blocks) {
                if (other.nameBytes.byteSize() == length
                        && MemorySegment.mismatch(seg, from, from + length, other.nameBytes, 0, length) < 0) {
                    return other;
                }
            }
        }
        throw malformed(Messages.unknownBlock(utf8(at + 1, length)));
    }

    /** FNV-1a over a name's bytes, as a non-negative key. */
    private static long nameHash(MemorySegment bytes, long from, long length) {
        long hash = 0xcbf29ce484222325L;
        for (long i = 0; i < length; i++) {
            hash = (hash ^ (bytes.get(ValueLayout.JAVA_BYTE, from + i) & 0xff)) * 0x100000001b3L;
        }
        return hash & Long.MAX_VALUE;
    }

    /** The next entry of the MEM_SIZE block list (or, when the lengths add up, the record after it). */
    private MigrationEvent nextBlock() {
        if (blockListRemaining == 0) {
            mode = Mode.RAM;
            return nextRamRecord();
        }
        eventOffset = pos;
        reading = MigrationEvent.RAM_BLOCK;
        int length = u8();
        if (length == 0) {
            throw malformed(Messages.blockListShort(blockListRemaining));
        }
        long nameAt = pos;
        take(length, "block name");
        byte[] nameBytes = view(nameAt, length).toArray(ValueLayout.JAVA_BYTE);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        long usedLength = u64();
        Block entry = findOrAddBlock(name, nameBytes);
        entry.length = usedLength;
        if (usedLength < 0 || Long.compareUnsigned(usedLength, blockListRemaining) > 0) {
            throw malformed(Messages.blockListOverrun(name, usedLength, blockListRemaining));
        }
        blockListRemaining -= usedLength;
        if (usedLength / ramPageSize >= MAX_PAGES_PER_BLOCK) {
            throw new LimitExceededException(Messages.limit("pages in RAM block '" + name + "'",
                    usedLength / ramPageSize, MAX_PAGES_PER_BLOCK - 1), context());
        }
        if (postcopyPageSizes >= 0 && postcopyPageSizes != ramPageSize) {
            long candidate = peekU64();
            // blocks on pages larger than the target's carry their page size (ram.c ram_save_setup)
            if (Long.bitCount(candidate) == 1 && candidate > ramPageSize && (candidate & postcopyPageSizes) != 0) {
                entry.pageSize = u64();
            }
        }
        if (ignoreShared) {
            entry.mrAddr = u64();
        }
        block = entry;
        if (mappedRam) {
            readMappedRamHeader(entry);
        }
        return MigrationEvent.RAM_BLOCK;
    }

    private Block findOrAddBlock(String name, byte[] nameBytes) {
        Block existing = blocksByName.get(name);
        if (existing != null) {
            return existing;
        }
        if (blocks.size() >= limits.maxBlocks()) {
            throw new LimitExceededException(Messages.limit("RAM blocks", blocks.size() + 1L, limits.maxBlocks()),
                    context());
        }
        Block added = new Block(blocks.size(), name, nameBytes);
        blocks.add(added);
        blocksByName.put(name, added);
        blocksByNameHash.put(nameHash(added.nameBytes, 0, nameBytes.length), added.number, -1);
        return added;
    }

    /**
     * mapped-ram (QEMU 9.0+): a MappedRamHeader follows the block entry; the block's pages lie at
     * fixed offsets of the file, marked in a bitmap, and the stream resumes after them.
     */
    private void readMappedRamHeader(Block entry) {
        long headerAt = pos;
        long version = u32();
        long pageSize = u64();
        long bitmapOffset = u64();
        long pagesOffset = u64();
        if (version != MAPPED_RAM_HEADER_VERSION) {
            throw malformed(Messages.mappedRamVersion(version));
        }
        if (pageSize != ramPageSize) {
            throw malformed(Messages.mappedRamPageSize(pageSize, ramPageSize));
        }
        if (!source.isRandomAccess() || fileSize < 0) {
            throw malformed(Messages.mappedRamNeedsFile());
        }
        entry.bitmapOffset = bitmapOffset;
        entry.pagesOffset = pagesOffset;
        mappedPage = 0;
        mappedPageCount = 0;
        if (bitmapOffset == 0 && pagesOffset == 0) {
            // a shared block that was not written (x-ignore-shared): no pages, the stream goes on
            return;
        }
        long pages = entry.length / ramPageSize;
        long bitmapBytes = (pages + 63) / 64 * 8;
        if (bitmapOffset < pos || pagesOffset < bitmapOffset + bitmapBytes) {
            // QEMU lays out header, bitmap, pages, in that order: anything else could send the
            // cursor back over what it has read, for ever
            throw malformed(Messages.mappedRamLayout(entry.name, pos, bitmapOffset, bitmapBytes, pagesOffset));
        }
        if (bitmapOffset < 0 || pagesOffset < 0 || bitmapOffset > fileSize - bitmapBytes
                || pagesOffset > fileSize - entry.length) {
            throw new TruncatedInputException(Messages.mappedRamOutsideFile(entry.name, bitmapOffset, pagesOffset,
                    fileSize), new ReadContext(headerAt, fileSize, section.name, section.id, "RAM_BLOCK"));
        }
        mappedPageCount = pages;
        mode = Mode.MAPPED_PAGES;
    }

    /** The next page of a mapped-ram block whose bitmap bit is set; then the stream resumes. */
    private MigrationEvent nextMappedPage() {
        Block mapped = block;
        ensureWindow(mapped.bitmapOffset, (mappedPageCount + 63) / 64 * 8);
        while (mappedPage < mappedPageCount) {
            long wordIndex = mappedPage >>> 6;
            long word = seg.get(LE_LONG, mapped.bitmapOffset + wordIndex * 8 - segBase) >>> (mappedPage & 63);
            if (word == 0) {
                mappedPage = (wordIndex + 1) << 6;
                continue;
            }
            long page = mappedPage + Long.numberOfTrailingZeros(word);
            if (page >= mappedPageCount) {
                break;
            }
            mappedPage = page + 1;
            pageAddress = page * ramPageSize;
            eventOffset = mapped.pagesOffset + pageAddress;
            ensureWindow(eventOffset, ramPageSize);
            inFilePage(eventOffset, PageEncoding.MAPPED);
            return MigrationEvent.RAM_PAGE;
        }
        pos = mapped.pagesOffset + mapped.length;
        mode = Mode.RAM_BLOCKS;
        return nextBlock();
    }

    // ================================================================== other iterative sections

    /** spapr/htab (hw/ppc/spapr.c htab_save_*): a header, then chunks up to an all-zero one. */
    private void skipHtabPart() {
        int header = (int) u32();
        if (header != 0) {
            return; // -1: no hash table; > 0: the first part, the hash shift alone
        }
        while (true) { // ends: every chunk takes at least 8 bytes of a finite stream
            long index = u32();
            int valid = u16();
            int invalid = u16();
            if (index == 0 && valid == 0 && invalid == 0) {
                return;
            }
            take((long) valid * HASH_PTE_SIZE_64, "hash PTEs");
        }
    }

    /** s390-storage_attributes (hw/s390x/s390-stattrib.c cmma_save): u64 records up to EOS. */
    private void skipStorageAttributesPart() {
        long doneAt = -1;
        while (true) {
            long recordAt = pos;
            if (doneAt >= 0 && pos + 8 > streamEnd) {
                return; // DONE ended the part, and too little is left for another record
            }
            long header = u64();
            int flags = (int) (header & 0xfff);
            if ((flags & STATTR_FLAG_ERROR) != 0) {
                throw malformed(Messages.storageAttributesError());
            }
            if ((flags & STATTR_FLAG_DONE) != 0) {
                doneAt = pos;
            } else if ((flags & STATTR_FLAG_EOS) != 0) {
                return;
            } else if ((flags & STATTR_FLAG_MORE) != 0) {
                long count = u64();
                if (count < 0) {
                    throw malformed(Messages.negativeLength("storage attribute count", count));
                }
                take(count, "storage attributes");
            } else if (doneAt >= 0) {
                pos = recordAt; // DONE ended the part; this record belongs to the next one
                return;
            } else {
                throw malformed(Messages.unknownStorageAttributeFlags(flags));
            }
        }
    }

    // ================================================================== device fields

    private void pushFrame(Description.Struct struct, MigrationEvent closeEvent) {
        if (depth >= limits.maxNestingDepth()) {
            throw new LimitExceededException(Messages.limit("struct nesting", depth + 1L, limits.maxNestingDepth()),
                    context());
        }
        if (depth == frames.length) {
            frames = java.util.Arrays.copyOf(frames, depth * 2);
        }
        Frame frame = frames[depth];
        if (frame == null) {
            frame = frames[depth] = new Frame();
        }
        frame.struct = struct;
        frame.field = 0;
        frame.element = 0;
        frame.subsection = 0;
        frame.closeEvent = closeEvent;
        depth++;
    }

    private MigrationEvent nextField() {
        eventOffset = pos;
        reading = MigrationEvent.FIELD;
        Frame frame = frames[depth - 1];
        Description.Struct struct = frame.struct;
        if (frame.field < struct.fields().length) {
            Description.Field current = struct.fields()[frame.field];
            fieldIndex = !current.hasIndex() ? -1 : current.count() > 1 ? frame.element : current.index();
            if (++frame.element >= current.count()) {
                frame.field++;
                frame.element = 0;
            }
            field = current;
            if (current.kind() == FieldKind.STRUCT) {
                countEmptyValue();
                pushFrame(current.struct(), MigrationEvent.STRUCT_END);
                return MigrationEvent.STRUCT_START;
            }
            readValue(current);
            if (valueLength == 0) {
                countEmptyValue();
            }
            return MigrationEvent.FIELD;
        }
        if (frame.subsection < struct.subsections().length) {
            Description.Struct expected = struct.subsections()[frame.subsection++];
            reading = MigrationEvent.SUBSECTION;
            int marker = u8();
            if (marker != QEMU_VM_SUBSECTION) {
                throw malformed(Messages.subsectionMissing(expected.vmsdName(), marker));
            }
            subsectionName = shortString();
            subsectionVersion = u32();
            pushFrame(expected, MigrationEvent.SUBSECTION_END);
            return MigrationEvent.SUBSECTION;
        }
        depth--;
        if (depth == 0) {
            mode = Mode.TOP;
        }
        return frame.closeEvent;
    }

    /**
     * Values that take no bytes are the one thing the file's size does not bound: a description
     * could make a record of five bytes stand for billions of them.
     */
    private void countEmptyValue() {
        if (++emptyValues > limits.maxEmptyValues()) {
            throw new LimitExceededException(Messages.limit("field values of no bytes", emptyValues,
                    limits.maxEmptyValues()), context());
        }
    }

    private void readValue(Description.Field current) {
        switch (current.kind()) {
            case CAPABILITY -> {
                valueLength = u8();
                valueOffset = pos;
                take(valueLength, "capability");
                return;
            }
            case SIGNED, UNSIGNED, BOOL -> {
                if (current.size() < 1) {
                    throw malformed(Messages.badFieldSize(current.name(), current.type(), current.size()));
                }
            }
            case NULLPTR -> {
                if (current.size() != 1) {
                    throw malformed(Messages.badFieldSize(current.name(), current.type(), current.size()));
                }
            }
            default -> {
                if (current.size() < 0) {
                    throw malformed(Messages.badFieldSize(current.name(), current.type(), current.size()));
                }
            }
        }
        if (current.size() > limits.maxFieldBytes()) {
            throw new LimitExceededException(Messages.limit("bytes in field '" + current.name() + "'",
                    current.size(), limits.maxFieldBytes()), context());
        }
        valueLength = current.size();
        valueOffset = pos;
        if (pos + valueLength > segEnd) {
            fill(valueLength, "field '" + current.name() + "'"); // the name is spelled only on failure
        }
        pos += valueLength;
        if (current.kind() == FieldKind.NULLPTR && seg.get(ValueLayout.JAVA_BYTE, valueOffset - segBase) != '0') {
            throw malformed(Messages.badNullptr(current.name(), seg.get(ValueLayout.JAVA_BYTE, valueOffset - segBase)));
        }
    }

    // ================================================================== file header and description

    /** Checks the magic and version, past a libvirt save header if there is one; returns the magic's offset. */
    private long readFileHeader() {
        long start = 0;
        if (fileSize < 0 || fileSize >= 16) {
            ensureWindow(0, 16);
            if (segEnd >= 16 && isLibvirtMagic()) {
                start = readLibvirtHeader();
            }
        }
        pos = start;
        eventOffset = start;
        long magic = u32();
        if (magic != QEMU_VM_FILE_MAGIC) {
            throw new MalformedStreamException(Messages.badMagic(magic), ReadContext.at(start));
        }
        long version = u32();
        if (version != QEMU_VM_FILE_VERSION) {
            throw new MalformedStreamException(Messages.badVersion(version), ReadContext.at(start + 4));
        }
        return start;
    }

    private boolean isLibvirtMagic() {
        String magic = new String(seg.asSlice(-segBase, 16).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1);
        return magic.equals("LibvirtQemudSave") || magic.equals("LibvirtQemudPart");
    }

    /** libvirt's virQEMUSaveHeader: u32s in the writer's byte order, the QEMU stream after the XML. */
    private long readLibvirtHeader() {
        ensureWindow(0, LIBVIRT_HEADER_BYTES);
        if (segEnd < LIBVIRT_HEADER_BYTES) {
            throw new TruncatedInputException(Messages.truncated("libvirt save header", LIBVIRT_HEADER_BYTES, segEnd, false),
                    new ReadContext(0, segEnd, null, -1, null));
        }
        boolean little = Integer.toUnsignedLong(seg.get(LE_INT, 16 - segBase)) <= 2;
        ValueLayout.OfInt order = little ? LE_INT : BE_INT;
        long dataLength = Integer.toUnsignedLong(seg.get(order, 20 - segBase));
        long format = Integer.toUnsignedLong(seg.get(order, 28 - segBase));
        if (format != 0 && format != LIBVIRT_FORMAT_SPARSE) {
            String name = format < LIBVIRT_FORMATS.length ? LIBVIRT_FORMATS[(int) format] : "unknown (" + format + ")";
            throw new MalformedStreamException(Messages.libvirtCompressed(name, LIBVIRT_HEADER_BYTES + dataLength),
                    ReadContext.at(28));
        }
        long start = LIBVIRT_HEADER_BYTES + dataLength;
        if (fileSize >= 0 && start > fileSize - 8) {
            throw new TruncatedInputException(Messages.libvirtDataBeyondEnd(dataLength, fileSize),
                    new ReadContext(20, fileSize, null, -1, null));
        }
        return start;
    }

    /**
     * Finds the VMDESCRIPTION record whose JSON runs exactly to the end of the file, scanning
     * back from the end; returns its offset or -1.
     */
    private long locateDescription() {
        long found = scanForDescription(Math.max(streamStart + 8, fileSize - 5L - limits.maxDescriptionBytes()));
        if (found < 0 && fileSize - 5L - limits.maxDescriptionBytes() > streamStart + 8) {
            // not within the limit: say so if one lies further back, rather than "none"
            long beyond = scanForDescription(streamStart + 8);
            if (beyond >= 0) {
                throw new LimitExceededException(Messages.limit("bytes in the JSON VM description",
                        fileSize - beyond - 5, limits.maxDescriptionBytes()), ReadContext.at(beyond));
            }
        }
        return found;
    }

    /** The VMDESCRIPTION record at or after {@code lowest} whose JSON ends the file, or -1. */
    private long scanForDescription(long lowest) {
        if (fileSize - 5 < lowest) {
            return -1;
        }
        MemorySegment tail = window(lowest, fileSize - lowest);
        long last = fileSize - 1 - lowest;
        while (last > 0 && Character.isWhitespace(tail.get(ValueLayout.JAVA_BYTE, last))) {
            last--;
        }
        if (tail.get(ValueLayout.JAVA_BYTE, last) != '}') {
            return -1; // the description is a JSON object at the very end: without '}' there is none
        }
        for (long at = fileSize - 6; at >= lowest; at--) {
            long i = at - lowest;
            if (tail.get(ValueLayout.JAVA_BYTE, i) == QEMU_VM_VMDESCRIPTION
                    && at + 5 + Integer.toUnsignedLong(tail.get(BE_INT, i + 1)) == fileSize
                    && tail.get(ValueLayout.JAVA_BYTE, i + 5) == '{') {
                return at;
            }
        }
        return -1;
    }

    // ================================================================== primitive reads

    private int u8() {
        if (pos + 1 > segEnd) {
            fill(1, "a byte");
        }
        return seg.get(ValueLayout.JAVA_BYTE, pos++ - segBase) & 0xff;
    }

    private int peekU8() {
        if (pos + 1 > segEnd) {
            fill(1, "a byte");
        }
        return seg.get(ValueLayout.JAVA_BYTE, pos - segBase) & 0xff;
    }

    private int u16() {
        if (pos + 2 > segEnd) {
            fill(2, "a 16-bit value");
        }
        int value = seg.get(BE_SHORT, pos - segBase) & 0xffff;
        pos += 2;
        return value;
    }

    private long u32() {
        if (pos + 4 > segEnd) {
            fill(4, "a 32-bit value");
        }
        long value = Integer.toUnsignedLong(seg.get(BE_INT, pos - segBase));
        pos += 4;
        return value;
    }

    private long u64() {
        if (pos + 8 > segEnd) {
            fill(8, "a 64-bit value");
        }
        long value = seg.get(BE_LONG, pos - segBase);
        pos += 8;
        return value;
    }

    private long peekU64() {
        if (pos + 8 > segEnd) {
            fill(8, "a 64-bit value");
        }
        return seg.get(BE_LONG, pos - segBase);
    }

    /** Skips {@code length} bytes that must be present; returns where they start. */
    private long take(long length, String what) {
        if (length < 0 || pos + length > segEnd || pos + length < pos) {
            fill(length, what);
        }
        long at = pos;
        pos += length;
        return at;
    }

    /** u8 length + that many bytes, as a String (idstrs). */
    private String shortString() {
        int length = u8();
        long at = take(length, "name");
        return utf8(at, length);
    }

    private String utf8(long at, int length) {
        return new String(view(at, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    private MemorySegment view(long at, long length) {
        return seg.asSlice(at - segBase, length);
    }

    /**
     * Makes the window cover {@code length} bytes from the cursor, or fails: the stream ends
     * (at {@link #streamEnd} or the end of the source) before them.
     */
    private void fill(long length, String what) {
        long end = Math.min(streamEnd, fileSize >= 0 ? fileSize : Long.MAX_VALUE);
        if (length >= 0 && pos + length <= end && pos + length >= pos) {
            ensureWindow(pos, length);
            if (pos + length <= segEnd) {
                return;
            }
            end = segEnd;
        }
        throw new TruncatedInputException(Messages.truncated(what, length, end, end == descriptionOffset),
                new ReadContext(eventOffset, end, section == null ? null : section.name,
                        section == null ? -1 : section.id, reading == null ? null : reading.name()));
    }

    /**
     * Ensures [offset, offset + length) lies in the window, asking the source when it does not.
     * A random-access source is asked once for everything, so that absolute offsets (mapped-ram)
     * need no new window; the window never reaches past {@link #streamEnd}.
     */
    private void ensureWindow(long offset, long length) {
        if (offset >= segBase && offset + length <= segEnd) {
            return;
        }
        long base = source.isRandomAccess() ? 0 : offset;
        seg = window(base, offset - base + length);
        segBase = base;
        segEnd = Math.min(base + seg.byteSize(), streamEnd);
    }

    private MemorySegment window(long offset, long minBytes) {
        try {
            return source.window(offset, minBytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ================================================================== state checks and errors

    private void require(MigrationEvent wanted) {
        if (event != wanted) {
            throw wrongState(wanted.name());
        }
    }

    private void requireSection() {
        if (section == null || event == MigrationEvent.CONFIGURATION) {
            throw wrongState("section accessors");
        }
    }

    private void requireRam() {
        if (event != MigrationEvent.RAM_BLOCK) {
            requirePage();
        }
    }

    private void requirePage() {
        switch (event) {
            case RAM_PAGE, ZERO_PAGE -> {
            }
            case null, default -> throw wrongState("page accessors");
        }
    }

    private void requireField() {
        if (event != MigrationEvent.FIELD && event != MigrationEvent.STRUCT_START) {
            throw wrongState("field accessors");
        }
    }

    private IllegalStateException wrongState(String what) {
        return new IllegalStateException(what + " not valid on event " + event);
    }

    private ReadContext context() {
        return new ReadContext(eventOffset, pos, section == null ? null : section.name,
                section == null ? -1 : section.id, reading == null ? null : reading.name());
    }

    private MalformedStreamException malformed(String problem) {
        return new MalformedStreamException(problem, context());
    }

    private void setPageSize(long pageSize, long at) {
        if (!validPageSize(pageSize)) {
            throw new MalformedStreamException(Messages.badPageSize(pageSize), ReadContext.at(at));
        }
        setPageSize(pageSize);
    }

    private static boolean validPageSize(long pageSize) {
        return Long.bitCount(pageSize) == 1 && pageSize >= 512 && pageSize <= 1 << 20;
    }
}
