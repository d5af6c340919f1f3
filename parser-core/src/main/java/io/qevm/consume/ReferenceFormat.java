package io.qevm.consume;

import io.qevm.FieldKind;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;

/**
 * Values spelled as {@code analyze-migration.py} spells them, for consumers that print fields
 * the way users of the reference script read them.
 */
public final class ReferenceFormat {

    private ReferenceFormat() {
    }

    /**
     * {@return the current FIELD's value as the reference's VMSDField classes print it: a {@link Boolean}
     * for {@code bool}; otherwise a String: integers as {@code 0x} + two hex digits a byte, negative
     * signed ones followed by {@code " (-1)"}; {@code nullptr}; a capability's name; any other
     * type's bytes as space-separated hex}
     *
     * @param reader a reader on a FIELD event
     */
    public static Object fieldValue(MigrationReader reader) {
        if (reader.currentEvent() != MigrationEvent.FIELD) {
            throw new IllegalStateException("fieldValue needs a FIELD event, not " + reader.currentEvent());
        }
        return switch (reader.fieldKind()) {
            case BOOL -> reader.fieldBooleanValue();
            case NULLPTR -> "nullptr";
            case CAPABILITY -> reader.fieldStringValue();
            case SIGNED, UNSIGNED -> integer(reader);
            default -> hexBytes(reader.fieldBytes());
        };
    }

    /**
     * {@return the bytes as space-separated two-digit lowercase hex ({@code "00 ff 10"}); empty for none}
     *
     * @param bytes the bytes
     */
    public static String hexBytes(MemorySegment bytes) {
        return Hex.bytes(bytes);
    }

    private static String integer(MigrationReader reader) {
        int size = (int) reader.fieldSize();
        if (size <= 8) {
            long value = reader.fieldLongValue();
            String hex = Hex.padded(value, size * 2);
            return reader.fieldKind() == FieldKind.SIGNED && value < 0 ? hex + " (" + value + ")" : hex;
        }
        BigInteger value = reader.fieldBigIntegerValue();
        String digits = (value.signum() < 0 ? value.add(BigInteger.ONE.shiftLeft(size * 8)) : value).toString(16);
        String hex = "0x" + "0".repeat(Math.max(0, size * 2 - digits.length())) + digits;
        return value.signum() < 0 ? hex + " (" + value + ")" : hex;
    }
}
