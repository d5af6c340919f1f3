package io.qevm.record;

import io.qevm.MigrationEvent;
import io.qevm.ReadLimits;
import io.qevm.RecordType;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
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
 * <p>The JSON description comes after the device state. On a seekable source it is found from
 * the end when the scanner is made; on a stream, the scanner holds everything from the first
 * device section to the end in memory (bounded by {@link ReadLimits#maxHeldStreamBytes()}) and
 * finds it there: RAM, which comes before, streams through. Not part of the API.
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

    /** What the next call to {@link #next()} continues with. */
    private enum Mode { TOP, RAM, FIELDS, BODY_DONE, DONE }

    /** How a section's body is read. */
    private enum Kind { RAM, HTAB, STORAGE_ATTRIBUTES, DEVICE }

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

    private boolean descriptionKnown;
    private Description description;
    private byte[] descriptionJson;
    private long descriptionOffset = -1;

    private Mode mode = Mode.TOP;
    private Section section;
    private RecordType recordType;
    private long lastSectionId = -1;
    private long deviceStateSkippedAt = -1;

    /**
     * A scanner at the start of {@code source}: reads the file header and, on a seekable source,
     * the JSON description.
     *
     * @param requireDescription whether a stream without a description is an error; without one
     *                           the scanner stops (EOF) at the first device section after RAM
     */
    public RecordScanner(ByteSource source, ReadLimits limits, boolean requireDescription) {
        this(source, 0, limits, requireDescription, null);
    }

    /**
     * As {@link #RecordScanner(ByteSource, ReadLimits, boolean)}, the stream starting at
     * {@code streamStart} of {@code source} (past a libvirt header and its XML).
     */
    public RecordScanner(ByteSource source, long streamStart, ReadLimits limits, boolean requireDescription) {
        this(source, streamStart, limits, requireDescription, null);
    }

    private RecordScanner(ByteSource source, long streamStart, ReadLimits limits, boolean requireDescription,
                          RecordScanner known) {
        this.source = source;
        this.limits = limits;
        this.requireDescription = requireDescription;
        this.in = new ByteCursor(source, at, streamStart);
        at.attach(in);
        this.ram = new RamSection(in, at, limits, this::replay);
        this.fields = new VmStateDecoder(in, at, limits);
        this.configuration = new ConfigurationRecord(in, at, limits);
        this.command = new CommandRecord(in, at);
        this.streamStart = Bootstrap.readHeader(in);
        if (known != null) {
            adoptDescription(known.descriptionOffset, known.descriptionJson, known.description);
        } else if (source.isRandomAccess()) {
            findDescription(streamStart + 8);
        }
    }

    // ------------------------------------------------------------------ the description

    /** Finds the description in a source whose size is known, from {@code lowest} on. */
    private void findDescription(long lowest) {
        long found = Bootstrap.locateDescription(source, lowest, limits);
        if (found < 0) {
            descriptionKnown = true;
            if (requireDescription) {
                throw new MissingDescriptionException(Messages.noDescription(), ReadContext.at(Math.max(source.size(), 0)));
            }
            return;
        }
        byte[] json = Bootstrap.descriptionJson(source, found);
        Description parsed = DescriptionParser.parse(json, found + Bootstrap.DESCRIPTION_HEADER_BYTES, limits);
        adoptDescription(found, json, parsed);
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
     * On a stream: holds everything from the current record to the end, and finds the
     * description there. The device state it holds is then read from memory.
     */
    private void holdRestOfStream() {
        if (!in.holdToEnd(limits.maxHeldStreamBytes())) {
            throw new LimitExceededException(Messages.heldTooLong(limits.maxHeldStreamBytes()), at.get());
        }
        findDescription(at.eventOffset());
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
                if (!descriptionKnown) {
                    holdRestOfStream(); // on a stream: is it the description, the device stream cut short?
                    failIfPastTheDeviceStream();
                }
                throw at.malformed(Messages.descriptionBeforeEof());
            }
            default -> throw at.malformed(Messages.unknownRecord(type));
        }
    }

    private MigrationEvent eof() {
        if (!descriptionKnown) {
            holdRestOfStream();
        }
        long end = descriptionOffset >= 0 ? descriptionOffset : source.size();
        if (end >= 0 && in.position() != end) {
            throw at.malformed(Messages.bytesAfterEof(end - in.position(), descriptionOffset >= 0));
        }
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
            deviceStateSkippedAt = at.eventOffset();
            mode = Mode.DONE;
            return MigrationEvent.EOF;
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
                default -> {
                }
            }
        }
        if (!descriptionKnown) {
            holdRestOfStream();
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
        RecordScanner again = new RecordScanner(source, streamStart, limits, false, this);
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
}
