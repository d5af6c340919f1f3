package io.qevm;

/** The four section records of the stream (QEMU_VM_SECTION_*, migration/savevm.c). */
public enum RecordType {
    /** QEMU_VM_SECTION_START: first part of an iterative section, with the section's header. */
    START(0x01),
    /** QEMU_VM_SECTION_PART: a later part of an iterative section, section id only. */
    PART(0x02),
    /** QEMU_VM_SECTION_END: the last part of an iterative section, section id only. */
    END(0x03),
    /** QEMU_VM_SECTION_FULL: a whole device state, with the section's header. */
    FULL(0x04);

    private final int wireValue;

    RecordType(int wireValue) {
        this.wireValue = wireValue;
    }

    /** {@return the record type byte} */
    public int wireValue() {
        return wireValue;
    }

    /** {@return whether the record carries the section header (idstr, instance and version)} */
    public boolean hasHeader() {
        return this == START || this == FULL;
    }
}
