package io.qevm.vmstate;

import io.qevm.FieldKind;
import io.qevm.MigrationEvent;
import io.qevm.ReadLimits;
import io.qevm.ReadScope;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import io.qevm.internal.Messages;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * Decodes a device's state by walking its JSON description over the stream's bytes (QEMU's
 * migration/vmstate.c {@code vmstate_load_state}, read the other way round): fields in order,
 * {@code array_len} elements, nested structs, then the subsections the stream announces with
 * QEMU_VM_SUBSECTION. It keeps the scopes it is in ({@link ReadScope}), reused level by level:
 * nothing is allocated per field. Values are not decoded until asked for. Not part of the API.
 */
public final class VmStateDecoder {

    // migration/savevm.c
    private static final int QEMU_VM_SUBSECTION = 0x05;
    /** The byte QEMU writes for a null pointer (migration/vmstate-types.c vmstate_info_nullptr). */
    private static final byte NULLPTR_MARKER = '0';

    private final ByteCursor in;
    private final ReadLocation at;
    private final ReadLimits limits;
    private Scope[] scopes = new Scope[8];
    /** Open scopes: scopes[depth - 1] is the innermost. */
    private int depth;
    private long emptyValues;

    private Description.Field field;
    private long fieldIndex;
    private long valueOffset;
    private long valueLength;
    private String subsectionName;
    private long subsectionVersion;

    public VmStateDecoder(ByteCursor in, ReadLocation at, ReadLimits limits) {
        this.in = in;
        this.at = at;
        this.limits = limits;
    }

    /**
     * Opens the scope of a section record; when {@code body} is given, {@link #next()} then
     * reads its fields, and returns SECTION_END when they are done.
     */
    public void openSection(String name, Description.Struct body) {
        depth = 0;
        push(ReadScope.Kind.SECTION, name, -1, body, MigrationEvent.SECTION_END);
    }

    /** Leaves every scope: the reader is between sections. */
    public void closeAll() {
        depth = 0;
    }

    /** The innermost open scope, or null outside sections. */
    public ReadScope scope() {
        return depth == 0 ? null : scopes[depth - 1];
    }

    /** The depth of the innermost scope (0 for the section), or -1 outside sections. */
    public int depth() {
        return depth - 1;
    }

    /**
     * The next FIELD, STRUCT_START, SUBSECTION, or the end of the innermost scope (STRUCT_END,
     * SUBSECTION_END, or SECTION_END when the section's own fields are done).
     */
    public MigrationEvent next() {
        Scope scope = scopes[depth - 1];
        Description.Struct struct = scope.struct;
        if (scope.field < struct.fields().length) {
            at.startEvent(MigrationEvent.FIELD);
            Description.Field current = struct.fields()[scope.field];
            fieldIndex = !current.hasIndex() ? -1 : current.count() > 1 ? scope.element : current.index();
            if (++scope.element >= current.count()) {
                scope.field++;
                scope.element = 0;
            }
            field = current;
            if (current.kind() == FieldKind.STRUCT) {
                countEmptyValue();
                push(ReadScope.Kind.STRUCT, current.name(), fieldIndex, current.struct(), MigrationEvent.STRUCT_END);
                return MigrationEvent.STRUCT_START;
            }
            readValue(current);
            if (valueLength == 0) {
                countEmptyValue();
            }
            return MigrationEvent.FIELD;
        }
        if (scope.subsection < struct.subsections().length) {
            Description.Struct expected = struct.subsections()[scope.subsection++];
            at.startEvent(MigrationEvent.SUBSECTION);
            int marker = in.u8();
            if (marker != QEMU_VM_SUBSECTION) {
                throw at.malformed(Messages.subsectionMissing(expected.vmsdName(), marker));
            }
            subsectionName = in.shortString("name");
            subsectionVersion = in.be32();
            push(ReadScope.Kind.SUBSECTION, subsectionName, -1, expected, MigrationEvent.SUBSECTION_END);
            return MigrationEvent.SUBSECTION;
        }
        at.startEvent(scope.closeEvent);
        if (depth > 1) {
            depth--; // the section's own scope stays open for SECTION_END and its footer
        }
        return scope.closeEvent;
    }

    private void push(ReadScope.Kind kind, String name, long index, Description.Struct struct, MigrationEvent close) {
        limits.validateNesting(depth, at);
        if (depth == scopes.length) {
            scopes = Arrays.copyOf(scopes, depth * 2);
        }
        Scope scope = scopes[depth];
        if (scope == null) {
            scope = scopes[depth] = new Scope(depth, depth == 0 ? null : scopes[depth - 1]);
        }
        scope.open(kind, name, index, struct, close);
        depth++;
    }

    /**
     * Values that take no bytes are the one thing the stream's length does not bound: a
     * description could make a record of five bytes stand for billions of them.
     */
    private void countEmptyValue() {
        limits.validateEmptyValues(++emptyValues, at);
    }

    private void readValue(Description.Field current) {
        switch (current.kind()) {
            case CAPABILITY -> {
                valueLength = in.u8();
                valueOffset = in.take(valueLength, "capability");
                return;
            }
            case SIGNED, UNSIGNED, BOOL -> {
                if (current.size() < 1) {
                    throw at.malformed(Messages.badFieldSize(current.name(), current.type(), current.size()));
                }
            }
            case NULLPTR -> {
                if (current.size() != 1) {
                    throw at.malformed(Messages.badFieldSize(current.name(), current.type(), current.size()));
                }
            }
            default -> {
                if (current.size() < 0) {
                    throw at.malformed(Messages.badFieldSize(current.name(), current.type(), current.size()));
                }
            }
        }
        limits.validateFieldBytes(current.name(), current.size(), at);
        valueLength = current.size();
        if (in.lookAhead(valueLength) < valueLength) {
            in.take(valueLength, "field '" + current.name() + "'"); // throws: the name is spelled only then
        }
        valueOffset = in.take(valueLength, "field");
        if (current.kind() == FieldKind.NULLPTR && in.getByte(valueOffset) != NULLPTR_MARKER) {
            throw at.malformed(Messages.badNullptr(current.name(), in.getByte(valueOffset)));
        }
    }

    // ------------------------------------------------------------------ the current event

    /** The field of the current FIELD or STRUCT_START. */
    public Description.Field field() {
        return field;
    }

    /** The element's index for array entries, else -1. */
    public long fieldIndex() {
        return fieldIndex;
    }

    public long valueLength() {
        return valueLength;
    }

    /** The value's bytes, a view valid until the next event. */
    public MemorySegment valueBytes() {
        return in.slice(valueOffset, valueLength);
    }

    /** An integer of up to 8 bytes, sign-extended when the field is signed. */
    public long integerValue() {
        long value = 0;
        for (long i = 0; i < valueLength; i++) {
            value = (value << 8) | (in.getByte(valueOffset + i) & 0xff);
        }
        if (field.kind() == FieldKind.SIGNED && valueLength < 8) {
            int shift = 64 - 8 * (int) valueLength;
            value = (value << shift) >> shift;
        }
        return value;
    }

    public BigInteger bigIntegerValue() {
        byte[] bytes = valueBytes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        return field.kind() == FieldKind.SIGNED ? new BigInteger(bytes) : new BigInteger(1, bytes);
    }

    public boolean booleanValue() {
        return in.getByte(valueOffset) != 0;
    }

    /** The value's bytes as UTF-8 (a capability's name). */
    public String stringValue() {
        return in.utf8(valueOffset, (int) valueLength);
    }

    public String subsectionName() {
        return subsectionName;
    }

    public long subsectionVersion() {
        return subsectionVersion;
    }

    /** One level of nesting; reused whenever a scope opens at its depth. */
    private static final class Scope implements ReadScope {
        private final int depth;
        private final Scope parent;
        private Kind kind;
        private String name;
        private long index;
        private Object value;
        Description.Struct struct;
        int field;
        int element;
        int subsection;
        MigrationEvent closeEvent;

        Scope(int depth, Scope parent) {
            this.depth = depth;
            this.parent = parent;
        }

        void open(Kind kind, String name, long index, Description.Struct struct, MigrationEvent closeEvent) {
            this.kind = kind;
            this.name = name;
            this.index = index;
            this.struct = struct == null ? EMPTY : struct;
            this.closeEvent = closeEvent;
            this.value = null;
            field = 0;
            element = 0;
            subsection = 0;
        }

        @Override
        public Kind kind() {
            return kind;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long index() {
            return index;
        }

        @Override
        public ReadScope parent() {
            return parent;
        }

        @Override
        public int depth() {
            return depth;
        }

        @Override
        public String path() {
            StringBuilder path = new StringBuilder(64);
            appendPath(path);
            return path.toString();
        }

        private void appendPath(StringBuilder path) {
            if (parent != null) {
                parent.appendPath(path);
                path.append('/');
            }
            path.append(name);
            if (index >= 0) {
                path.append('[').append(index).append(']');
            }
        }

        @Override
        public Object currentValue() {
            return value;
        }

        @Override
        public void setCurrentValue(Object value) {
            this.value = value;
        }

        @Override
        public String toString() {
            return kind + " " + path();
        }
    }

    /** The body of a section with no fields to decode (RAM, the opaque iterative sections). */
    private static final Description.Struct EMPTY =
            new Description.Struct("", new Description.Field[0], new Description.Struct[0]);
}
