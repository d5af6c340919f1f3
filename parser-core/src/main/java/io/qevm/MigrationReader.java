package io.qevm;

import io.qevm.container.Containers;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteSource;
import io.qevm.qcow2.Qcow2Image;
import io.qevm.qcow2.SnapshotEntry;
import io.qevm.ram.RamSection;
import io.qevm.record.RecordScanner;
import io.qevm.vmstate.VmStateDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.util.List;

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
 * <p>Sources: a file is mapped (any size) when it is a regular file and read as a stream when it
 * is a pipe or a FIFO; {@link #open(InputStream, ReadOptions)} reads any stream (standard input, a
 * socket) through a window of bounded size. A stream is read once, forward: the JSON description,
 * which QEMU writes last, is found when the reader reaches the device state (after RAM), which it
 * then holds in memory until the description after it is read (bounded by
 * {@link ReadLimits#maxHeldStreamBytes()}); RAM streams through.
 *
 * <p>The description need not end the file or input: what follows it (a state volume's zeros,
 * padding, an older stream's stale bytes) is ignored, and counted by {@link #trailingBytes()}.
 * Where it does not end a file, the reader finds it at open by reading forward from the device
 * state, after QEMU_VM_EOF, which takes a first pass over the records before it (RAM's pages are
 * not decoded).
 *
 * <p>Which accessors are valid for which event (any other call throws
 * {@link IllegalStateException} saying where it is valid); {@link #currentEvent()},
 * {@link #eventOffset()}, {@link #position()}, {@link #scope()} and the stream-wide accessors are
 * always valid:
 * <table>
 *   <caption>accessors by event</caption>
 *   <tr><th>event</th><th>accessors</th></tr>
 *   <tr><td>SECTION_START, SECTION_END, FOOTER, and every event between them</td>
 *       <td>{@link #recordType()}, {@link #sectionId()}, {@link #sectionName()},
 *       {@link #instanceId()}, {@link #sectionVersion()}</td></tr>
 *   <tr><td>CONFIGURATION</td><td>{@link #machineName()}, {@link #capabilities()},
 *       {@link #targetPageBits()}</td></tr>
 *   <tr><td>COMMAND</td><td>{@link #commandType()}, {@link #commandPayload()}</td></tr>
 *   <tr><td>RAM_BLOCK</td><td>{@link #blockName()}, {@link #blockLength()},
 *       {@link #blockPageSize()}, {@link #blockMrAddr()}</td></tr>
 *   <tr><td>RAM_PAGE</td><td>{@link #blockName()}, {@link #pageOffset()}, {@link #pageSize()},
 *       {@link #pageData()}, {@link #pageDataOffset()}, {@link #page()}, {@link #copyPage(byte[], int)},
 *       {@link #copyPage(ByteBuffer)}, {@link #pageEncoding()}, {@link #pageSourceOffset()},
 *       {@link #isResend()}</td></tr>
 *   <tr><td>ZERO_PAGE</td><td>{@link #blockName()}, {@link #pageOffset()}, {@link #pageSize()},
 *       {@link #fillByte()}, {@link #isResend()}</td></tr>
 *   <tr><td>FIELD</td><td>{@link #fieldName()}, {@link #fieldType()}, {@link #fieldKind()},
 *       {@link #fieldIndex()}, {@link #fieldPath()}, {@link #fieldSize()}, {@link #fieldBytes()},
 *       {@link #fieldLongValue()}, {@link #fieldBigIntegerValue()}, {@link #fieldBooleanValue()},
 *       {@link #fieldStringValue()}</td></tr>
 *   <tr><td>STRUCT_START</td><td>{@link #fieldName()}, {@link #fieldType()}, {@link #fieldKind()},
 *       {@link #fieldIndex()}, {@link #fieldPath()}</td></tr>
 *   <tr><td>SUBSECTION</td><td>{@link #subsectionName()}, {@link #subsectionVersion()},
 *       {@link #fieldPath()}</td></tr>
 *   <tr><td>STRUCT_END, SUBSECTION_END</td><td>the section accessors; {@link #scope()} is the
 *       scope around the one that ended</td></tr>
 *   <tr><td>SECTION_END, FOOTER</td><td>the section accessors; {@link #scope()} is the section's
 *       own, with the value a consumer set on it</td></tr>
 * </table>
 *
 * <p>Errors are unchecked {@link MigrationReadException}s naming the byte offset; after one, the
 * reader is unusable. Not thread-safe.
 */
public final class MigrationReader implements AutoCloseable {

    /** How much {@link #bytesAt} hands out between two hints that the mapping may be released. */
    private static final long RELEASE_EVERY = 64L << 20;

    private final ByteSource source;
    /** What the stream was found inside, outermost first. */
    private final List<Container> containers;
    /** What the source's offsets count in when not the file or input (a decompressed stream), else null. */
    private final String stream;
    private final RecordScanner scanner;
    private final RamSection ram;
    private final VmStateDecoder fields;
    private MigrationEvent event;
    private long bytesAtSinceRelease;

    private MigrationReader(Containers.Layers layers, ReadOptions options) {
        this.source = layers.source();
        this.containers = layers.containers();
        this.stream = layers.stream();
        this.scanner = new RecordScanner(source, layers.streamStart(), options.limits(),
                options.isEnabled(ReadOptions.Feature.REQUIRE_DESCRIPTION));
        this.ram = scanner.ram();
        this.fields = scanner.fields();
        if (options.pageSize() > 0) {
            ram.setGivenPageSize(options.pageSize()); // taken at the first page if the stream gave none before
        }
        if (options.isEnabled(ReadOptions.Feature.TRACK_RESENDS)) {
            ram.trackResends();
        }
    }

    // ------------------------------------------------------------------ opening

    /**
     * Opens a migration file: mapped when it is a regular file, read as a stream when it is a
     * pipe, a FIFO or a character device. What it holds is told by content, never by name: a
     * QEMU stream, a libvirt save image (raw, sparse or compressed payload), or either
     * compressed whole with gzip, bzip2, xz, zstd or lzop (read as it is decompressed, by a
     * thread of the reader's own, which {@link #close()} stops); see {@link #containers()}.
     *
     * @param file the file
     * @return a reader before the stream's first event
     * @throws IOException            if the file cannot be opened or mapped
     * @throws MigrationReadException if it is not a migration stream, or (by default) a file
     *                                without a JSON description
     */
    public static MigrationReader open(Path file) throws IOException {
        return open(file, ReadOptions.DEFAULT);
    }

    /**
     * As {@link #open(Path)}, with the given options.
     *
     * @param file    the file
     * @param options how to read it
     * @return a reader before the stream's first event
     * @throws IOException            if the file cannot be opened or mapped
     * @throws MigrationReadException if it is not a migration stream, or a file without a JSON
     *                                description while {@link ReadOptions.Feature#REQUIRE_DESCRIPTION}
     *                                is on; for a qcow2 image, if the snapshot chosen (or any, by
     *                                default) holds no VM state, or the image is broken
     */
    public static MigrationReader open(Path file, ReadOptions options) throws IOException {
        return over(ByteSource.open(file, options.isEnabled(ReadOptions.Feature.MAP_AHEAD)), options);
    }

    /**
     * A reader over a stream read once, forward, through a window of bounded size (standard
     * input, a pipe, a socket). It closes {@code in} on {@link #close()}.
     *
     * @param in      the stream, at the start of the migration stream (or of a libvirt save image,
     *                or of compressed data holding either)
     * @param options how to read it
     * @return a reader before the stream's first event
     * @throws IOException            if the stream cannot be read
     * @throws MigrationReadException if it is not a migration stream
     */
    public static MigrationReader open(InputStream in, ReadOptions options) throws IOException {
        return over(ByteSource.of(in, "<stream>"), options);
    }

    /**
     * A reader over a channel read once, forward, through a window of bounded size: a socket a
     * migration source writes into (a live migration), a pipe. It closes {@code channel} on
     * {@link #close()}.
     *
     * <p>A channel whose reads may return no byte (a non-blocking one) is read as a live source:
     * the reader never waits on it for bytes it may not need. Where it only looks ahead (how far
     * the JSON description is followed by more, the page size of a stream that does not give
     * it), it takes the bytes that have arrived; a source that sends nothing after its
     * description until the destination answers (QEMU with the {@code return-path} capability)
     * is then not waited on, and {@link #trailingBytes()} is -1. Where the reader needs bytes it
     * waits for them: on a non-blocking {@link java.nio.channels.SelectableChannel} (a
     * {@link java.nio.channels.SocketChannel}) with a selector; any other channel that may return
     * no byte is called again at once, and should itself wait a little before it returns none.
     *
     * @param channel the channel, at the start of the migration stream (or of a libvirt save
     *                image, or of compressed data holding either)
     * @param options how to read it
     * @return a reader before the stream's first event
     * @throws IOException            if the channel cannot be read
     * @throws MigrationReadException if it is not a migration stream
     */
    public static MigrationReader open(ReadableByteChannel channel, ReadOptions options) throws IOException {
        return over(ByteSource.of(channel, "<stream>"), options);
    }

    /**
     * A reader over a stream already in memory; the array is not copied.
     *
     * @param bytes   the stream
     * @param options how to read it
     * @return a reader before the stream's first event
     * @throws MigrationReadException if it is not a migration stream
     */
    public static MigrationReader open(byte[] bytes, ReadOptions options) {
        try {
            return over(ByteSource.of(bytes, "<memory>"), options);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an array itself cannot fail to read
        }
    }

    private static MigrationReader over(ByteSource source, ReadOptions options) throws IOException {
        Containers.Layers layers = Containers.open(source, options); // closes the source if it fails
        try {
            return new MigrationReader(layers, options);
        } catch (MigrationReadException e) {
            layers.source().close();
            throw Containers.within(e, layers.stream());
        } catch (RuntimeException | Error e) {
            layers.source().close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ stream-wide accessors

    /** {@return the event the cursor is on, or {@code null} before the first {@link #next()}} */
    public MigrationEvent currentEvent() {
        return event;
    }

    /** {@return the byte offset (from the start of the source) where the current event starts} */
    public long eventOffset() {
        return scanner.location().eventOffset();
    }

    /** {@return the byte offset of the cursor: where the next event will start} */
    public long position() {
        return scanner.position();
    }

    /** {@return the source's name: the file path, {@code <stream>} or {@code <memory>}} */
    public String sourceName() {
        return source.name();
    }

    /** {@return the source's size in bytes, or -1 while not known (a stream not yet read to its end)} */
    public long sourceSize() {
        return source.size();
    }

    /**
     * {@return whether bytes the reader has passed can be read again ({@link #bytesAt}): a file or an
     * array, not a stream}
     */
    public boolean isRandomAccess() {
        return source.isRandomAccess();
    }

    /**
     * {@return what the stream was found inside, outermost first (a compressed file, a libvirt
     * image, a qcow2 snapshot); empty for a bare stream} Inside compressed data the reader's
     * offsets count in the decompressed stream (and its errors say so).
     */
    public List<Container> containers() {
        return containers;
    }

    /**
     * The internal snapshots of a qcow2 image, as {@code qemu-img snapshot -l} lists them (those
     * without VM state too). Listing needs no more than the snapshot table: an encrypted image's
     * snapshots are listed, though their VM state cannot be read.
     *
     * @param file a qcow2 image
     * @return its snapshots, in the order of its snapshot table
     * @throws IOException            if the file cannot be read
     * @throws MigrationReadException if it is not a qcow2 image, or a broken one
     */
    public static List<Snapshot> snapshots(Path file) throws IOException {
        try (ByteSource source = ByteSource.open(file, false)) {
            return Qcow2Image.open(source).snapshots().stream().map(SnapshotEntry::snapshot).toList();
        }
    }

    /**
     * {@return the byte offset of the QEMU stream's magic: 0, or past a raw libvirt save header and
     * its XML (inside compressed data: 0, the start of the decompressed stream)}
     */
    public long streamStart() {
        return scanner.streamStart();
    }

    /**
     * {@return whether the reader knows if the stream has a JSON description: from the start on a file;
     * on a stream once it has reached the device state or EOF, as the description comes last}
     */
    public boolean isDescriptionKnown() {
        return scanner.descriptionKnown();
    }

    /** {@return whether the stream has a JSON description, as far as {@link #isDescriptionKnown() known}} */
    public boolean hasDescription() {
        return scanner.hasDescription();
    }

    /**
     * {@return the JSON description's bytes (UTF-8), read-only}
     *
     * @throws IllegalStateException if the stream has none, or it is not known yet
     */
    public MemorySegment descriptionJson() {
        if (!scanner.hasDescription()) {
            throw new IllegalStateException(scanner.descriptionKnown() ? Messages.noDescriptionToHand()
                    : Messages.descriptionNotYetRead());
        }
        return MemorySegment.ofArray(scanner.descriptionJson()).asReadOnly();
    }

    /** {@return the byte offset of the JSON text of the description, or -1} */
    public long descriptionJsonOffset() {
        return scanner.descriptionJsonOffset();
    }

    /**
     * {@return how many bytes follow the JSON description, which the reader ignores: 0 when the
     * description ends the source; more for a state volume (Proxmox VE's {@code vm-ID-state-NAME},
     * sized 2 x RAM + 500 MiB: zeros or an older stream follow), a file padded to a block, the
     * zeros after a qcow2 snapshot's VM state; -1 when not known} A file knows it from the start.
     * A stream knows it with the description, when its input ends within 16 MiB after it; else
     * -1: the reader reads no further, so as not to read GBs of a volume's zeros from a pipe (a
     * writer still writing gets EPIPE when the reader is closed). -1 also without a description.
     * The description ends at {@code descriptionJsonOffset() + descriptionJson().byteSize()}.
     */
    public long trailingBytes() {
        return scanner.trailingBytes();
    }

    /** {@return the RAM page size: from the description, target-page-bits, the options or the records; -1 while unknown} */
    public long ramPageSize() {
        return ram.pageSize();
    }

    /**
     * {@return where reading stopped at a device section it could not decode (a stream without a JSON
     * description, read for its RAM), or -1 when it did not}
     */
    public long deviceStateSkippedAt() {
        return scanner.deviceStateSkippedAt();
    }

    /**
     * Where earlier copies of pages come from, for XBZRLE deltas: needed on a stream, which
     * cannot read them again (see {@link PageStore}); on a file the reader reads them from the
     * file when no store is set.
     *
     * @param store the store, or null for none
     */
    public void setPageStore(PageStore store) {
        ram.setPageStore(store);
    }

    // ------------------------------------------------------------------ the cursor

    /**
     * Moves to the next event and returns it. After {@link MigrationEvent#EOF}, returns EOF again.
     *
     * @return the event the cursor is now on
     * @throws MigrationReadException if the stream is truncated, malformed or over a limit
     * @throws UncheckedIOException   if the source cannot be read
     */
    public MigrationEvent next() {
        // RAM records come by the million: straight to the RAM section while one is read, and
        // the event stored only when it changes
        MigrationEvent next;
        try {
            next = ram.active() ? ram.next() : scanner.next();
        } catch (MigrationReadException e) {
            throw Containers.within(e, stream);
        }
        if (next != event) {
            event = next;
        }
        return next;
    }

    /**
     * Skips the rest of the current section record: from any event inside it, moves to its
     * {@link MigrationEvent#SECTION_END} and returns it (on a FOOTER, returns the FOOTER).
     *
     * @return the event the cursor is now on: SECTION_END or FOOTER
     */
    public MigrationEvent skipSection() {
        requireSection("skipSection()");
        while (event != MigrationEvent.SECTION_END && event != MigrationEvent.FOOTER) {
            next();
        }
        return event;
    }

    /**
     * {@return the innermost scope the cursor is in (section, struct, subsection), or null outside
     * section records} See {@link ReadScope}.
     */
    public ReadScope scope() {
        return scanner.inSection() ? fields.scope() : null;
    }

    /**
     * {@return where the current field, struct or subsection is: the names from the section down,
     * joined by {@code /}, array elements with their index: {@code cpu/env.regs[3]} for element
     * 3 of field {@code env.regs} of section {@code cpu}, {@code cpu/env[1]/regs[3]} inside a
     * struct array {@code env}; a subsection adds its name as the stream gives it}
     */
    public String fieldPath() {
        require(Validity.PATH, "fieldPath()");
        String scopePath = fields.scope().path();
        if (event != MigrationEvent.FIELD) {
            return scopePath;
        }
        long index = fields.fieldIndex();
        return scopePath + '/' + fields.field().name() + (index >= 0 ? "[" + index + "]" : "");
    }

    // ------------------------------------------------------------------ section accessors

    /** {@return the record type of the current section record} */
    public RecordType recordType() {
        requireSection("recordType()");
        return scanner.recordType();
    }

    /** {@return the current section's id (unsigned 32 bits)} */
    public long sectionId() {
        requireSection("sectionId()");
        return scanner.sectionId();
    }

    /** {@return the current section's idstr, e.g. {@code ram} or {@code cpu}} */
    public String sectionName() {
        requireSection("sectionName()");
        return scanner.sectionName();
    }

    /** {@return the current section's instance id (unsigned 32 bits)} */
    public long instanceId() {
        requireSection("instanceId()");
        return scanner.instanceId();
    }

    /** {@return the current section's version id (unsigned 32 bits)} */
    public long sectionVersion() {
        requireSection("sectionVersion()");
        return scanner.sectionVersion();
    }

    // ------------------------------------------------------------------ configuration and commands

    /** {@return the machine type, e.g. {@code pc-i440fx-7.2}} */
    public String machineName() {
        require(Validity.CONFIGURATION, "machineName()");
        return scanner.machineName();
    }

    /** {@return the migration capabilities the CONFIGURATION record lists (x-ignore-shared, mapped-ram...)} */
    public List<String> capabilities() {
        require(Validity.CONFIGURATION, "capabilities()");
        return scanner.capabilities();
    }

    /** {@return the target-page-bits subsection's value, or -1 when the record has none} */
    public int targetPageBits() {
        require(Validity.CONFIGURATION, "targetPageBits()");
        return scanner.targetPageBits();
    }

    /** {@return the MIG_CMD_* number of the current COMMAND} */
    public int commandType() {
        require(Validity.COMMAND, "commandType()");
        return scanner.commandType();
    }

    /** {@return the current COMMAND's payload, a view valid until {@link #next()}} */
    public MemorySegment commandPayload() {
        require(Validity.COMMAND, "commandPayload()");
        return scanner.commandPayload();
    }

    // ------------------------------------------------------------------ RAM accessors

    /** {@return the RAM block the current page or block entry belongs to} */
    public String blockName() {
        require(Validity.BLOCK, "blockName()");
        return ram.block().name();
    }

    /** {@return the block's used_length in bytes} */
    public long blockLength() {
        require(Validity.RAM_BLOCK, "blockLength()");
        return ram.block().length();
    }

    /** {@return the block's own page size when the stream gives it (postcopy, huge pages), else -1} */
    public long blockPageSize() {
        require(Validity.RAM_BLOCK, "blockPageSize()");
        return ram.block().pageSize();
    }

    /** {@return the block's guest address when the stream gives it (x-ignore-shared), else -1} */
    public long blockMrAddr() {
        require(Validity.RAM_BLOCK, "blockMrAddr()");
        return ram.block().mrAddr();
    }

    /**
     * {@return the offset of the current page within its block (not a guest-physical address: the block's
     * place in guest memory is the machine's business)}
     */
    public long pageOffset() {
        require(Validity.PAGE, "pageOffset()");
        return ram.pageAddress();
    }

    /** {@return the bytes in a page: the target page size} */
    public int pageSize() {
        require(Validity.PAGE, "pageSize()");
        return (int) ram.pageSize();
    }

    /** {@return the fill byte of the current ZERO_PAGE (0 in practice)} */
    public int fillByte() {
        require(Validity.ZERO_PAGE, "fillByte()");
        return ram.fillByte();
    }

    /**
     * {@return whether the stream sent this page before (a live migration sends a page again each time
     * the guest dirtied it; the last copy wins): counting pages by {@code !isResend()} counts
     * each page once} Needs {@link ReadOptions.Feature#TRACK_RESENDS}.
     *
     * @throws IllegalStateException also when the feature is off
     */
    public boolean isResend() {
        require(Validity.PAGE, "isResend()");
        return ram.isResend();
    }

    /**
     * {@return the segment holding the current RAM_PAGE's bytes at {@link #pageDataOffset()}, whatever the
     * page's encoding (an XBZRLE page is decoded when first asked for); with it a consumer reads
     * the page without any allocation} Valid until {@link #next()}.
     */
    public MemorySegment pageData() {
        require(Validity.DATA_PAGE, "pageData()");
        return decodedPage();
    }

    /** The page's bytes, an XBZRLE page decoded now (which may fail). */
    private MemorySegment decodedPage() {
        try {
            return ram.pageData();
        } catch (MigrationReadException e) {
            throw Containers.within(e, stream);
        }
    }

    /** {@return where the current RAM_PAGE's bytes start in {@link #pageData()}} */
    public long pageDataOffset() {
        require(Validity.DATA_PAGE, "pageDataOffset()");
        return ram.pageDataIndex();
    }

    /** {@return the current RAM_PAGE's bytes as a view of exactly one page (a new segment object)} Valid until {@link #next()}. */
    public MemorySegment page() {
        require(Validity.DATA_PAGE, "page()");
        return decodedPage().asSlice(ram.pageDataIndex(), ram.pageSize());
    }

    /**
     * Copies the current RAM_PAGE's bytes into {@code into} at {@code offset}.
     *
     * @param into   the array, with room for a page at {@code offset}
     * @param offset where the page goes in it
     */
    public void copyPage(byte[] into, int offset) {
        require(Validity.DATA_PAGE, "copyPage()");
        MemorySegment.copy(decodedPage(), ValueLayout.JAVA_BYTE, ram.pageDataIndex(), into, offset, (int) ram.pageSize());
    }

    /**
     * Copies the current RAM_PAGE's bytes into {@code into} at its position, which moves past them.
     *
     * @param into the buffer, with a page of room left
     */
    public void copyPage(ByteBuffer into) {
        require(Validity.DATA_PAGE, "copyPage()");
        int size = (int) ram.pageSize();
        MemorySegment.ofBuffer(into).copyFrom(decodedPage().asSlice(ram.pageDataIndex(), size));
        into.position(into.position() + size);
    }

    /** {@return how the current RAM_PAGE travelled; its bytes are decoded whatever the encoding} */
    public PageEncoding pageEncoding() {
        require(Validity.DATA_PAGE, "pageEncoding()");
        return ram.pageEncoding();
    }

    /**
     * {@return the offset in the source of the current RAM_PAGE's bytes when they lie there as they are (raw
     * and mapped-ram pages), else -1 (decoded pages live in a buffer reused by {@link #next()})}
     * On a {@link #isRandomAccess() random-access} source, {@link #bytesAt} reads them again later.
     */
    public long pageSourceOffset() {
        require(Validity.DATA_PAGE, "pageSourceOffset()");
        return ram.pageSourceOffset();
    }

    /**
     * A view of the source's bytes [offset, offset + length), valid until {@link #close()}: for
     * consumers that keep where a page lies and read it again later.
     *
     * @param offset the first byte's offset in the source
     * @param length how many bytes
     * @return the view
     * @throws IllegalStateException    if the source is not random-access
     * @throws IllegalArgumentException if the range is not within the source
     */
    public MemorySegment bytesAt(long offset, long length) {
        long size = source.size();
        if (!source.isRandomAccess()) {
            throw new IllegalStateException(Messages.bytesAtNeedsFile());
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside the " + size + "-byte source");
        }
        // consumers reading pages again (-m) go through the whole file in no set order: hand
        // the mapping back every so often, or the resident set grows to the file's size
        bytesAtSinceRelease += length;
        if (bytesAtSinceRelease > RELEASE_EVERY) {
            bytesAtSinceRelease = 0;
            source.release(0, size);
        }
        try {
            return source.window(offset, length).asSlice(0, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ field accessors

    /** {@return the field's name (or, on STRUCT_START, the struct field's name)} */
    public String fieldName() {
        require(Validity.FIELD, "fieldName()");
        return fields.field().name();
    }

    /** {@return the field's JSON type, e.g. {@code uint32} or {@code pci config}} */
    public String fieldType() {
        require(Validity.FIELD, "fieldType()");
        return fields.field().type();
    }

    /** {@return how the field's bytes are read} */
    public FieldKind fieldKind() {
        require(Validity.FIELD, "fieldKind()");
        return fields.field().kind();
    }

    /**
     * {@return the element's index when the field is an array entry ({@code array_len} or {@code index}
     * in the description), else -1} Consecutive entries of one name form one array.
     */
    public long fieldIndex() {
        require(Validity.FIELD, "fieldIndex()");
        return fields.fieldIndex();
    }

    /** {@return how many bytes the field's value takes in the stream (a capability: its name's)} */
    public long fieldSize() {
        require(Validity.VALUE, "fieldSize()");
        return fields.valueLength();
    }

    /** {@return the field's raw bytes, a view (for a capability, the name without its length byte)} */
    public MemorySegment fieldBytes() {
        require(Validity.VALUE, "fieldBytes()");
        return fields.valueBytes();
    }

    /**
     * {@return the value of an integer field of up to 8 bytes: sign-extended for {@link FieldKind#SIGNED},
     * zero-extended for {@link FieldKind#UNSIGNED} (a uint64 above 2^63 comes out negative: read
     * it with {@link Long#toUnsignedString(long)})}
     */
    public long fieldLongValue() {
        requireInteger("fieldLongValue()", 8);
        return fields.integerValue();
    }

    /** {@return the value of an integer field of any size, signed or not as its kind says} */
    public BigInteger fieldBigIntegerValue() {
        requireInteger("fieldBigIntegerValue()", Long.MAX_VALUE);
        return fields.bigIntegerValue();
    }

    /** {@return the value of a {@code bool} field: whether its first byte is not zero} */
    public boolean fieldBooleanValue() {
        requireKind("fieldBooleanValue()", FieldKind.BOOL, "bool");
        return fields.booleanValue();
    }

    /** {@return the name of a {@code capability} field (UTF-8; malformed bytes become U+FFFD)} */
    public String fieldStringValue() {
        requireKind("fieldStringValue()", FieldKind.CAPABILITY, "capability");
        return fields.stringValue();
    }

    /** {@return the subsection's name as the stream gives it} */
    public String subsectionName() {
        require(Validity.SUBSECTION, "subsectionName()");
        return fields.subsectionName();
    }

    /** {@return the subsection's version id (unsigned 32 bits)} */
    public long subsectionVersion() {
        require(Validity.SUBSECTION, "subsectionVersion()");
        return fields.subsectionVersion();
    }

    /**
     * Releases the source (unmaps the file, closes the stream, stops the decompressor's thread).
     * Views handed out are invalid afterwards.
     */
    @Override
    public void close() {
        source.close();
    }

    // ------------------------------------------------------------------ state checks

    private void require(long validOn, String accessor) {
        Validity.require(event, validOn, accessor);
    }

    private void requireInteger(String accessor, long maxBytes) {
        require(Validity.VALUE, accessor);
        FieldKind kind = fields.field().kind();
        if ((kind != FieldKind.SIGNED && kind != FieldKind.UNSIGNED) || fields.valueLength() > maxBytes) {
            throw new IllegalStateException(Messages.notAnInteger(fields.field().name(), accessor, maxBytes == 8));
        }
    }

    private void requireKind(String accessor, FieldKind kind, String kindName) {
        require(Validity.VALUE, accessor);
        if (fields.field().kind() != kind) {
            throw new IllegalStateException(Messages.wrongFieldKind(fields.field().name(), accessor, kindName));
        }
    }

    private void requireSection(String accessor) {
        if (!scanner.inSection()) {
            throw new IllegalStateException(Messages.notValidOn(accessor, event, Validity.SECTION));
        }
    }
}
