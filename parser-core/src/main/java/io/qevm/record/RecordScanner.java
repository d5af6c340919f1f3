package io.qevm.record;

import io.qevm.MigrationEvent;
import io.qevm.ReadLimits;
import io.qevm.RecordType;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.ReadContext;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import io.qevm.io.ReadLocation;
import io.qevm.ram.RamSection;
import io.qevm.vmstate.Description;
import io.qevm.vmstate.DescriptionParser;
import io.qevm.vmstate.VmStateDecoder;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The stream's records (migration/savevm.c {@code qemu_loadvm_state_main}): section framing
 * (START, PART, END, FULL, and the footer after each), CONFIGURATION, COMMAND and EOF, handing
 * each section's body to its reader: the {@link RamSection}, the opaque iterative sections, or
 * the {@link VmStateDecoder} for devices. It is what the public reader is a facade over, as
 * aalto's {@code StreamReaderImpl} is over its {@code XmlScanner}.
 *
 * <p>The JSON description comes after the device state, and usually ends the file. On a
 * seekable source it is found when the scanner is made: at the end, where it usually is, without
 * reading anything else; else (a state volume, a file padded, stale bytes after it) by reading
 * forward from the device state, which a first pass over the records finds ({@link
 * DescriptionSearch}). On a stream, the scanner holds everything from the first device section on
 * in memory while it reads forward the same way, until the description is complete (bounded by
 * {@link ReadLimits#maxHeldStreamBytes()}); RAM, which comes before, streams through. Bytes after
 * the description are ignored, and counted ({@link #trailingBytes()}). Not part of the API.
 */
public final class RecordScanner {

    // migration/savevm.c QEMU_VM_*
    private static final int QEMU_VM_EOF = 0x00;
    private static final int QEMU_VM_SECTION_START = 0x01;
    private static final int QEMU_VM_SECTION_PART = 0x02;
    private static final int QEMU_VM_SECTION_END = 0x03;
    private static final int QEMU_VM_SECTION_FULL = 0x04;
    private static final int QEMU_VM_CONFIGURATION = 0x07;
    private static final int QEMU_VM_COMMAND = 0x08;
    private static final int QEMU_VM_SECTION_FOOTER = 0x7e;
    private static final String RAM_NAME = "ram";
    private static final long RAM_VERSION = 4;
    /**
     * How far a stream is read past the description it found by reading forward, to tell
     * whether (and how many) bytes follow it: past the padding a file or a device rounds a
     * stream up to (Proxmox pads its state files to 1 KiB), and the stale tail a reused volume
     * keeps of a small stream; short of the free space of a state volume (at least 100 MiB,
     * usually GBs of zeros): the reader stops there rather than read it all from a pipe, and a
     * writer still writing gets EPIPE (or SIGPIPE) when the reader is closed. Within it, the
     * stream is told apart exactly as a file is (see {@link #findOnStream}).
     */
    static final long TRAILER_READ_BYTES = 16L << 20;

    /** What the next call to {@link #next()} continues with. */
    private enum Mode { TOP, RAM, FIELDS, BODY_DONE, DONE }

    /** How a section's body is read. */
    private enum Kind { RAM, HTAB, STORAGE_ATTRIBUTES, PBS_STATE, DEVICE }

    /** A section a START or FULL record opened: PART and END records name it by id. */
    private record Section(long id, String name, long instanceId, long version, Kind kind, Description.Struct body) {
    }

    private final ByteSource source;
    private final ReadLimits limits;
    private final boolean requireDescription;
    private final ReadLocation at = new ReadLocation();
    private final ByteCursor in;
    private final RamSection ram;
    private final VmStateDecoder fields;
    private final ConfigurationRecord configuration;
    private final CommandRecord command;
    private final Map<Long, Section> sections = new HashMap<>();
    private final long streamStart;
    /**
     * Whether this scanner is the first pass over a file whose description does not end it: it
     * reads up to where the device state starts, and stops there (see {@link #findForward}).
     */
    private final boolean probing;

    private boolean descriptionKnown;
    private Description description;
    private byte[] descriptionJson;
    private long descriptionOffset = -1;
    private long trailingBytes = -1;

    private Mode mode = Mode.TOP;
    private Section section;
    private RecordType recordType;
    private long lastSectionId = -1;
    private long deviceStateSkippedAt = -1;
    /** The section the device state starts with (null for QEMU_VM_EOF): where a probe stopped. */
    private String deviceStateSection;
    private long deviceStateInstance = -1;

    /**
     * A scanner at the start of {@code source}: reads the file header and, on a seekable source,
     * the JSON description.
     *
     * @param requireDescription whether a stream without a description is an error; without one
     *                           the scanner stops (EOF) at the first device section after RAM
     */
    public RecordScanner(ByteSource source, ReadLimits limits, boolean requireDescription) {
        this(source, 0, limits, requireDescription, null, false);
    }

    /**
     * As {@link #RecordScanner(ByteSource, ReadLimits, boolean)}, the stream starting at
     * {@code streamStart} of {@code source} (past a libvirt header and its XML).
     */
    public RecordScanner(ByteSource source, long streamStart, ReadLimits limits, boolean requireDescription) {
        this(source, streamStart, limits, requireDescription, null, false);
    }

    /**
     * @param known   a scanner whose description this one takes (a replay), or null
     * @param probing whether this is the first pass of a file whose description does not end it
     */
    private RecordScanner(ByteSource source, long streamStart, ReadLimits limits, boolean requireDescription,
                          RecordScanner known, boolean probing) {
        this.source = source;
        this.limits = limits;
        this.requireDescription = requireDescription;
        this.probing = probing;
        this.in = new ByteCursor(source, at, streamStart);
        at.attach(in);
        this.ram = new RamSection(in, at, limits, this::replay);
        this.fields = new VmStateDecoder(in, at, limits);
        this.configuration = new ConfigurationRecord(in, at, limits);
        this.command = new CommandRecord(in, at);
        this.streamStart = Bootstrap.readHeader(in);
        if (known != null) {
            adoptDescription(known.descriptionOffset, known.descriptionJson, known.description);
        } else if (probing) {
            descriptionKnown = true; // none: it reads up to the device state, where it stops
        } else if (source.isRandomAccess()) {
            findInFile();
        }
    }

    // ------------------------------------------------------------------ the description

    /**
     * On a file: the description that ends it, found from the end as it always was (the common
     * case: nothing else is read); else the one after QEMU_VM_EOF, read forward from the device
     * state ({@link #findForward}).
     */
    private void findInFile() {
        long found = Bootstrap.locateDescription(source, streamStart + 8, limits);
        if (found >= 0) {
            adoptFound(found, Bootstrap.descriptionJson(source, found));
            return;
        }
        DescriptionSearch.Found forward = findForward();
        if (forward != null) {
            adoptFound(forward.recordOffset(), forward.json(), forward.description());
            return;
        }
        noDescriptionFound();
    }

    /**
     * On a file whose description does not end it: where the device state starts is known only
     * by reading the records before it (RAM pages have no fixed size and cannot be searched:
     * guest memory holds anything), so a first scanner reads up to there, RAM-only as a stream
     * without a description is read (its pages are not decoded), and the description is searched
     * for from there. The second pass over RAM is the price of a description that does not end
     * the file, paid only then; it makes the description known at open, as on any other file.
     */
    private DescriptionSearch.Found findForward() {
        RecordScanner probe = new RecordScanner(source, streamStart, limits, false, null, true);
        try {
            while (probe.next() != MigrationEvent.EOF) {
                // up to the first device section or QEMU_VM_EOF
            }
        } catch (MigrationReadException brokenBefore) {
            return null; // the records break (or the file ends) before the device state: no description follows
        }
        long deviceState = probe.deviceStateSkippedAt;
        if (deviceState < 0) {
            return null;
        }
        return DescriptionSearch.ofFile(source, deviceState, limits, probe.deviceStateSection,
                probe.deviceStateInstance).find();
    }

    /**
     * On a stream, at its first device section (or QEMU_VM_EOF, or a VMDESCRIPTION record, when
     * none comes first): reads forward, holding everything from the event on in memory, until the
     * description after QEMU_VM_EOF is complete ({@link DescriptionSearch}): the device state is
     * then read from memory. When the stream ends first (within the bound), the description is
     * the one that runs to its end, as on a file: a device stream cut short, the description
     * after it, is told that way from one that has none.
     *
     * <p>Then it reads up to {@link #TRAILER_READ_BYTES} further: when the stream ends there, a
     * file of the same bytes would have taken the description that runs to its end (the common
     * case: the same one), and so does the stream; else (a state volume) it stops, the one found
     * taken, what follows not known. A fake description the guest wrote into a device's buffer
     * is thus taken on a stream no more than on a file, unless more than that follows it.
     *
     * @param section    the device section, or null
     * @param instanceId its instance id
     */
    private void findOnStream(String section, long instanceId) {
        long from = at.eventOffset();
        DescriptionSearch search = DescriptionSearch.ofStream(in, from, from + limits.maxHeldStreamBytes(), limits,
                section, instanceId);
        DescriptionSearch.Found found = search.find();
        if (found != null) {
            if (search.endsBy(found.end() + TRAILER_READ_BYTES)) {
                long atEnd = Bootstrap.locateDescription(source, from, limits);
                if (atEnd >= 0 && atEnd != found.recordOffset()) {
                    adoptFound(atEnd, Bootstrap.descriptionJson(source, atEnd));
                    return;
                }
            }
            adoptFound(found.recordOffset(), found.json(), found.description());
            return;
        }
        if (!search.sourceEnded()) {
            throw new LimitExceededException(Messages.heldTooLong(limits.maxHeldStreamBytes()), at.get());
        }
        long atEnd = Bootstrap.locateDescription(source, from, limits);
        if (atEnd >= 0) {
            adoptFound(atEnd, Bootstrap.descriptionJson(source, atEnd));
            return;
        }
        noDescriptionFound();
    }

    private void noDescriptionFound() {
        descriptionKnown = true;
        if (requireDescription) {
            throw new MissingDescriptionException(Messages.noDescription(), ReadContext.at(Math.max(source.size(), 0)));
        }
    }

    private void adoptFound(long found, byte[] json) {
        adoptFound(found, json, DescriptionParser.parse(json, found + Bootstrap.DESCRIPTION_HEADER_BYTES, limits));
    }

    /** Takes the description whose record is at {@code found}, checking its page size against RAM's. */
    private void adoptFound(long found, byte[] json, Description parsed) {
        adoptDescription(found, json, parsed);
        long end = found + Bootstrap.DESCRIPTION_HEADER_BYTES + json.length;
        if (source.size() >= 0) {
            trailingBytes = source.size() - end;
        }
        long pageSize = parsed.pageSize();
        if (pageSize >= 0) {
            ReadContext where = ReadContext.at(found + Bootstrap.DESCRIPTION_HEADER_BYTES);
            if (!RamSection.validPageSize(pageSize)) {
                throw new MalformedStreamException(Messages.badPageSize(pageSize), where);
            }
            if (ram.pageSize() < 0) {
                ram.setPageSize(pageSize);
            } else if (ram.pageSize() != pageSize) {
                throw new MalformedStreamException(Messages.pageSizeDisagrees(pageSize, ram.pageSize(), ram.pageSizeGiven()), where);
            }
        }
    }

    private void adoptDescription(long offset, byte[] json, Description parsed) {
        descriptionKnown = true;
        descriptionOffset = offset;
        descriptionJson = json;
        description = parsed;
        if (offset >= 0) {
            in.pushLimit(offset, Messages.DESCRIPTION_REGION);
        }
    }

    /**
     * On a stream, the record at the event offset was read (its type, or a section header)
     * before the description was found: when the device stream turns out to end inside it, reads
     * it again within that end, so that it fails where and as it does on a file (truncated),
     * not as the description's bytes read as a record would make it fail.
     */
    private void failIfPastTheDeviceStream() {
        if (in.position() <= in.limit()) {
            return;
        }
        in.rewindTo(at.eventOffset());
        in.u8();
        in.be32();
        in.shortString("name");
        in.be32();
        in.be32();
        throw new IllegalStateException("the record at " + at.eventOffset() + " was read again past " + in.limit());
    }

    // ------------------------------------------------------------------ records

    /** The next event; EOF again once the stream is done. */
    public MigrationEvent next() {
        // the RAM section's records come by the million: the path to them stays small enough to
        // be inlined into the caller's loop
        if (ram.active()) {
            return ram.next();
        }
        return nextOutsideRam();
    }

    private MigrationEvent nextOutsideRam() {
        return switch (mode) {
            case RAM -> {
                mode = Mode.TOP; // the RAM section's record ended (ram.active() no longer)
                yield nextRecord();
            }
            case FIELDS -> endsBody(fields.next());
            case TOP -> nextRecord();
            case BODY_DONE -> {
                mode = Mode.TOP;
                at.eventAt(in.position());
                at.reading = null;
                yield MigrationEvent.SECTION_END;
            }
            case DONE -> MigrationEvent.EOF;
        };
    }

    private MigrationEvent endsBody(MigrationEvent event) {
        if (event == MigrationEvent.SECTION_END) {
            mode = Mode.TOP;
        }
        return event;
    }

    private MigrationEvent nextRecord() {
        at.startEvent(null);
        at.leaveSection();
        section = null;
        int type = in.u8();
        if (type != QEMU_VM_SECTION_FOOTER) {
            fields.closeAll(); // a footer belongs to the record before it: its scope stays open
        }
        switch (type) {
            case QEMU_VM_EOF -> {
                return eof();
            }
            case QEMU_VM_SECTION_START, QEMU_VM_SECTION_FULL -> {
                at.reading = MigrationEvent.SECTION_START;
                return startSection(type == QEMU_VM_SECTION_START ? RecordType.START : RecordType.FULL);
            }
            case QEMU_VM_SECTION_PART, QEMU_VM_SECTION_END -> {
                at.reading = MigrationEvent.SECTION_START;
                return continueSection(type == QEMU_VM_SECTION_PART ? RecordType.PART : RecordType.END);
            }
            case QEMU_VM_SECTION_FOOTER -> {
                at.reading = MigrationEvent.FOOTER;
                Section footed = sections.get(lastSectionId);
                if (footed != null) {
                    at.enterSection(footed.name, footed.id);
                }
                long id = in.be32();
                if (lastSectionId < 0) {
                    throw at.malformed(Messages.footerWithoutSection(id));
                }
                if (id != lastSectionId) {
                    throw at.malformed(Messages.footerMismatch(id, lastSectionId));
                }
                section = footed;
                if (fields.scope() == null) {
                    fields.openSection(footed.name, null); // another record came between
                }
                return MigrationEvent.FOOTER;
            }
            case QEMU_VM_CONFIGURATION -> {
                at.reading = MigrationEvent.CONFIGURATION;
                readConfiguration();
                return MigrationEvent.CONFIGURATION;
            }
            case QEMU_VM_COMMAND -> {
                at.reading = MigrationEvent.COMMAND;
                command.read(ram);
                return MigrationEvent.COMMAND;
            }
            case Bootstrap.QEMU_VM_VMDESCRIPTION -> {
                if (probing) {
                    return stopAtDeviceState(null, -1);
                }
                if (!descriptionKnown) {
                    findOnStream(null, -1); // on a stream: is it the description, the device stream cut short?
                    failIfPastTheDeviceStream();
                }
                throw at.malformed(Messages.descriptionBeforeEof());
            }
            default -> throw at.malformed(Messages.unknownRecord(type));
        }
    }

    private MigrationEvent eof() {
        if (probing) {
            return stopAtDeviceState(null, -1);
        }
        if (!descriptionKnown) {
            findOnStream(null, -1);
        }
        long end = descriptionOffset >= 0 ? descriptionOffset : source.size();
        if (end >= 0 && in.position() != end) {
            throw at.malformed(Messages.bytesAfterEof(end - in.position(), descriptionOffset >= 0));
        }
        mode = Mode.DONE;
        return MigrationEvent.EOF;
    }

    /**
     * Reading stops at the device state, noting where and what: a probe ({@link #findForward})
     * there, a reader without a description where it cannot decode it.
     */
    private MigrationEvent stopAtDeviceState(String section, long instanceId) {
        deviceStateSkippedAt = at.eventOffset();
        deviceStateSection = section;
        deviceStateInstance = instanceId;
        mode = Mode.DONE;
        return MigrationEvent.EOF;
    }

    private MigrationEvent startSection(RecordType type) {
        long id = in.be32();
        String name = in.shortString("name");
        long instanceId = in.be32();
        long version = in.be32();
        Section started = newSection(id, name, instanceId, version);
        if (started == null) {
            return stopAtDeviceState(name, instanceId);
        }
        sections.put(id, started);
        return enterSection(started, type);
    }

    private Section newSection(long id, String name, long instanceId, long version) {
        // sections with a layout of their own, keyed as the reference script keys them
        if (instanceId == 0) {
            switch (name) {
                case RAM_NAME -> {
                    return ownLayout(id, name, version, RAM_VERSION, "RAM", Kind.RAM);
                }
                case HtabSection.NAME -> {
                    return ownLayout(id, name, version, HtabSection.VERSION, HtabSection.NAME, Kind.HTAB);
                }
                case StorageAttributesSection.NAME -> {
                    return ownLayout(id, name, version, StorageAttributesSection.VERSION,
                            StorageAttributesSection.NAME, Kind.STORAGE_ATTRIBUTES);
                }
                case PbsStateSection.NAME -> {
                    return ownLayout(id, name, version, PbsStateSection.VERSION, PbsStateSection.NAME, Kind.PBS_STATE);
                }
                default -> {
                }
            }
        }
        if (probing) {
            return null; // the device state starts here: the probe stops
        }
        if (!descriptionKnown) {
            findOnStream(name, instanceId);
            failIfPastTheDeviceStream();
        }
        if (description == null) {
            if (ram.complete()) {
                return null; // RAM-only reading: device state from here on cannot be decoded
            }
            throw new MissingDescriptionException(Messages.deviceWithoutDescription(name, instanceId),
                    new ReadContext(at.eventOffset(), in.position(), name, id, MigrationEvent.SECTION_START.name()));
        }
        Description.Device device = description.device(name, instanceId);
        if (device == null) {
            throw at.malformed(Messages.undescribedSection(name, instanceId));
        }
        return new Section(id, name, instanceId, version, Kind.DEVICE, device.body());
    }

    private Section ownLayout(long id, String name, long version, long expected, String what, Kind kind) {
        if (version != expected) {
            throw at.malformed(Messages.unsupportedVersion(what, version, expected));
        }
        return new Section(id, name, 0, version, kind, null);
    }

    private MigrationEvent continueSection(RecordType type) {
        long id = in.be32();
        Section continued = sections.get(id);
        if (continued == null) {
            throw at.malformed(Messages.unknownSectionId(id, type));
        }
        return enterSection(continued, type);
    }

    private MigrationEvent enterSection(Section entered, RecordType type) {
        section = entered;
        recordType = type;
        lastSectionId = entered.id;
        at.enterSection(entered.name, entered.id);
        switch (entered.kind) {
            case RAM -> {
                fields.openSection(entered.name, null);
                ram.enter(type);
                mode = Mode.RAM;
            }
            case HTAB -> {
                fields.openSection(entered.name, null);
                HtabSection.skipPart(in);
                mode = Mode.BODY_DONE;
            }
            case STORAGE_ATTRIBUTES -> {
                fields.openSection(entered.name, null);
                StorageAttributesSection.skipPart(in, at);
                mode = Mode.BODY_DONE;
            }
            case PBS_STATE -> {
                fields.openSection(entered.name, null);
                PbsStateSection.skipPart(in, at);
                mode = Mode.BODY_DONE;
            }
            case DEVICE -> {
                fields.openSection(entered.name, entered.body);
                mode = Mode.FIELDS;
            }
        }
        return MigrationEvent.SECTION_START;
    }

    private void readConfiguration() {
        configuration.read(description == null ? null : description.configuration(), fields);
        ram.setCapabilities(configuration.has("x-ignore-shared"), configuration.has("mapped-ram"));
        int bits = configuration.targetPageBits();
        if (bits >= 0) {
            // checked whether or not the size is known: a file knows its description's first
            if (bits < 9 || bits > 20) {
                throw at.malformed(Messages.badPageBits(bits));
            }
            if (ram.pageSize() < 0) {
                ram.setPageSize(1L << bits);
            } else if (ram.pageSize() != 1L << bits) {
                throw at.malformed(Messages.pageBitsDisagree(bits, ram.pageSize()));
            }
        }
    }

    /**
     * Reads the stream again from its start up to {@code upTo} with a second scanner, its RAM
     * section prepared by {@code prepare}: how a page index is made for XBZRLE on a seekable
     * source.
     */
    private void replay(long upTo, Consumer<RamSection> prepare) {
        RecordScanner again = new RecordScanner(source, streamStart, limits, false, this, false);
        prepare.accept(again.ram);
        while (again.in.position() < upTo && again.next() != MigrationEvent.EOF) {
            // the prepared RAM section records every page it passes
        }
    }

    // ------------------------------------------------------------------ state for the facade

    public ByteSource source() {
        return source;
    }

    public RamSection ram() {
        return ram;
    }

    public VmStateDecoder fields() {
        return fields;
    }

    public ReadLocation location() {
        return at;
    }

    public long position() {
        return in.position();
    }

    public long streamStart() {
        return streamStart;
    }

    /** Whether a section record is open (from its SECTION_START to its footer). */
    public boolean inSection() {
        return section != null;
    }

    public RecordType recordType() {
        return recordType;
    }

    public long sectionId() {
        return section.id;
    }

    public String sectionName() {
        return section.name;
    }

    public long instanceId() {
        return section.instanceId;
    }

    public long sectionVersion() {
        return section.version;
    }

    public String machineName() {
        return configuration.machineName();
    }

    public List<String> capabilities() {
        return configuration.capabilities();
    }

    public int targetPageBits() {
        return configuration.targetPageBits();
    }

    public int commandType() {
        return command.type();
    }

    public MemorySegment commandPayload() {
        return command.payload();
    }

    /** Whether the scanner knows if the stream has a description (on a stream: once it reached device state). */
    public boolean descriptionKnown() {
        return descriptionKnown;
    }

    public boolean hasDescription() {
        return description != null;
    }

    /** The description's JSON text (a copy), or null. */
    public byte[] descriptionJson() {
        return descriptionJson;
    }

    /** Offset of the description's JSON text, or -1. */
    public long descriptionJsonOffset() {
        return descriptionOffset < 0 ? -1 : descriptionOffset + Bootstrap.DESCRIPTION_HEADER_BYTES;
    }

    public long deviceStateSkippedAt() {
        return deviceStateSkippedAt;
    }

    /**
     * How many bytes follow the description, ignored: known on a file from the start, on a
     * stream when it ends within {@link #TRAILER_READ_BYTES} after it; -1 when not known, or
     * without a description.
     */
    public long trailingBytes() {
        return trailingBytes;
    }
}
