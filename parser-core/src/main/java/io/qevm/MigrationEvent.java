package io.qevm;

import static io.qevm.MigrationEventId.ID_COMMAND;
import static io.qevm.MigrationEventId.ID_CONFIGURATION;
import static io.qevm.MigrationEventId.ID_EOF;
import static io.qevm.MigrationEventId.ID_FIELD;
import static io.qevm.MigrationEventId.ID_FOOTER;
import static io.qevm.MigrationEventId.ID_RAM_BLOCK;
import static io.qevm.MigrationEventId.ID_RAM_PAGE;
import static io.qevm.MigrationEventId.ID_SECTION_END;
import static io.qevm.MigrationEventId.ID_SECTION_START;
import static io.qevm.MigrationEventId.ID_STRUCT_END;
import static io.qevm.MigrationEventId.ID_STRUCT_START;
import static io.qevm.MigrationEventId.ID_SUBSECTION;
import static io.qevm.MigrationEventId.ID_SUBSECTION_END;
import static io.qevm.MigrationEventId.ID_ZERO_PAGE;

/**
 * What {@link MigrationReader#next()} found. Each constant has an int {@link #id()} (also in
 * {@link MigrationEventId}) and traits: whether it opens a scope, closes one, and carries bytes
 * to read ({@link #hasPayload()}), as jackson-core's {@code JsonToken} does. QEMU's own wire
 * values live with the code that reads them: the same byte means different things in different
 * records (0x08 is QEMU_VM_COMMAND and RAM_SAVE_FLAG_PAGE).
 *
 * <p>Nesting: each section record (START, PART, END or FULL) is opened by {@link #SECTION_START}
 * and closed by {@link #SECTION_END}, usually followed by a {@link #FOOTER}; inside a device,
 * {@link #STRUCT_START}/{@link #STRUCT_END} and {@link #SUBSECTION}/{@link #SUBSECTION_END} pair
 * up. {@link MigrationReader#scope()} is the open scope, so consumers need no stack of their own.
 */
public enum MigrationEvent {
    /** A START, PART, END or FULL record of a section begins: see {@link MigrationReader#recordType()}. */
    SECTION_START(ID_SECTION_START, Trait.OPENS),
    /** The body of the section record opened by the last SECTION_START is complete (its footer, if any, follows). */
    SECTION_END(ID_SECTION_END, Trait.CLOSES),
    /** The section id repeated after a record (QEMU_VM_SECTION_FOOTER), checked against it. */
    FOOTER(ID_FOOTER, Trait.NONE),
    /** The machine name, capabilities and target page bits (QEMU_VM_CONFIGURATION). */
    CONFIGURATION(ID_CONFIGURATION, Trait.NONE),
    /** A MIG_CMD_* with its payload (QEMU_VM_COMMAND). */
    COMMAND(ID_COMMAND, Trait.PAYLOAD),
    /** One entry of the RAM block list (RAM_SAVE_FLAG_MEM_SIZE). */
    RAM_BLOCK(ID_RAM_BLOCK, Trait.NONE),
    /**
     * A page of data, decoded whatever its encoding (raw, a mapped-ram page, zlib-compressed, an
     * XBZRLE delta): see {@link MigrationReader#pageEncoding()}.
     */
    RAM_PAGE(ID_RAM_PAGE, Trait.PAYLOAD),
    /** A page filled with one byte (RAM_SAVE_FLAG_ZERO). */
    ZERO_PAGE(ID_ZERO_PAGE, Trait.NONE),
    /** A device field with a value. */
    FIELD(ID_FIELD, Trait.PAYLOAD),
    /** A struct-typed device field begins; its fields follow. */
    STRUCT_START(ID_STRUCT_START, Trait.OPENS),
    /** The struct opened by the matching {@link #STRUCT_START} ends. */
    STRUCT_END(ID_STRUCT_END, Trait.CLOSES),
    /** A subsection of a device or struct begins (QEMU_VM_SUBSECTION); its fields follow. */
    SUBSECTION(ID_SUBSECTION, Trait.OPENS),
    /** The subsection opened by the matching {@link #SUBSECTION} ends. */
    SUBSECTION_END(ID_SUBSECTION_END, Trait.CLOSES),
    /** The device state is complete (QEMU_VM_EOF). Returned again by every later call. */
    EOF(ID_EOF, Trait.NONE);

    private enum Trait { NONE, OPENS, CLOSES, PAYLOAD }

    private final int id;
    private final boolean opensScope;
    private final boolean closesScope;
    private final boolean hasPayload;

    MigrationEvent(int id, Trait trait) {
        this.id = id;
        this.opensScope = trait == Trait.OPENS;
        this.closesScope = trait == Trait.CLOSES;
        this.hasPayload = trait == Trait.PAYLOAD;
    }

    /** {@return the event's {@link MigrationEventId} constant} */
    public int id() {
        return id;
    }

    /** {@return whether the event opens a scope that a later event closes (SECTION_START, STRUCT_START, SUBSECTION)} */
    public boolean opensScope() {
        return opensScope;
    }

    /** {@return whether the event closes the innermost open scope (SECTION_END, STRUCT_END, SUBSECTION_END)} */
    public boolean closesScope() {
        return closesScope;
    }

    /** {@return whether the event carries bytes to read as a view: RAM_PAGE, FIELD, COMMAND} */
    public boolean hasPayload() {
        return hasPayload;
    }
}
