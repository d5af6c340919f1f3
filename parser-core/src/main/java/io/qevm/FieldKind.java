package io.qevm;

/**
 * How a device field's bytes are to be read, derived from its JSON {@code type}
 * (the reader table of QEMU's scripts/analyze-migration.py).
 */
public enum FieldKind {
    /** {@code bool}: one byte or more, true when the first is not zero. */
    BOOL,
    /** A big-endian two's-complement integer of {@code size} bytes: int8..int64, {@code int32 le},
     * {@code int32 equal}, {@code int64 equal}, and (as the reference reads them) {@code uint8 equal},
     * {@code uint16 equal}. */
    SIGNED,
    /** A big-endian unsigned integer of {@code size} bytes: uint8..uint64, {@code uint32 equal}. */
    UNSIGNED,
    /** {@code nullptr} (QEMU 9.1+): the one byte {@code '0'} standing for a null pointer. */
    NULLPTR,
    /** {@code capability}: u8 length + name, in the configuration section. */
    CAPABILITY,
    /** {@code struct}: never a FIELD itself; announced by STRUCT_START. */
    STRUCT,
    /** Anything else: {@code size} raw bytes (buffer, timer, float64, and device-specific types). */
    BYTES
}
