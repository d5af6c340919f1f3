package io.qevm;

/**
 * What {@link MigrationReader#next()} found. Each constant carries the QEMU wire value it stands
 * for, where there is one: a record type byte ({@code QEMU_VM_*}, migration/savevm.c) or a RAM
 * record flag ({@code RAM_SAVE_FLAG_*}, migration/ram.c); see {@link #wireValue()}.
 *
 * <p>Nesting: a record opened by {@link #SECTION_START} is closed by {@link #RECORD_END} (then
 * usually a {@link #FOOTER}); inside a device, {@link #STRUCT_START}/{@link #STRUCT_END} and
 * {@link #SUBSECTION}/{@link #SUBSECTION_END} pair up, so the nesting can be rebuilt from the
 * events alone.
 */
public enum MigrationEvent {
    /** A START, PART, END or FULL record begins: see {@link MigrationReader#recordType()}. */
    SECTION_START(-1),
    /** The body of the current section record is complete (its footer, if any, follows). */
    RECORD_END(-1),
    /** QEMU_VM_SECTION_FOOTER: the section id repeated after a record; checked against it. */
    FOOTER(0x7e),
    /** QEMU_VM_CONFIGURATION: the machine name, capabilities and target page bits. */
    CONFIGURATION(0x07),
    /** QEMU_VM_COMMAND: a MIG_CMD_* with its payload. */
    COMMAND(0x08),
    /** RAM_SAVE_FLAG_MEM_SIZE: one entry of the RAM block list. */
    RAM_BLOCK(0x04),
    /**
     * RAM_SAVE_FLAG_PAGE: a page of data, decoded whatever its encoding (raw, a mapped-ram page,
     * zlib-compressed, an XBZRLE delta): see {@link MigrationReader#pageEncoding()}.
     */
    RAM_PAGE(0x08),
    /** RAM_SAVE_FLAG_ZERO: a page filled with one byte. */
    ZERO_PAGE(0x02),
    /** A device field with a value. */
    FIELD(-1),
    /** A struct-typed device field begins; its fields follow. */
    STRUCT_START(-1),
    /** The struct opened by the matching {@link #STRUCT_START} ends. */
    STRUCT_END(-1),
    /** QEMU_VM_SUBSECTION: a subsection of a device or struct begins; its fields follow. */
    SUBSECTION(0x05),
    /** The subsection opened by the matching {@link #SUBSECTION} ends. */
    SUBSECTION_END(-1),
    /** QEMU_VM_EOF: the device state is complete. Returned again by every later call. */
    EOF(0x00);

    private final int wireValue;

    MigrationEvent(int wireValue) {
        this.wireValue = wireValue;
    }

    /**
     * The QEMU value this event stands for: a record type byte for record events, a
     * RAM_SAVE_FLAG_* for page and block events; -1 for events with no wire value of their own.
     */
    public int wireValue() {
        return wireValue;
    }
}
