package io.qevm.cli;

import io.qevm.FieldKind;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The device state of one dump as {@code qevm diff} compares it: every section by name and
 * instance id, each with its fields by path, in stream order. A field's value is kept as its
 * bytes (a digest for a big one), so that two dumps compare byte for byte whatever the type.
 */
final class DeviceState {

    /** Bytes of a field value kept as they are; a bigger value is kept as its SHA-256. */
    static final int MAX_KEPT_VALUE = 64 << 10;
    /** Bounds what one dump's device state may hold here (a real VM's takes a few MiB at most). */
    static final long MAX_FIELDS = 4_000_000;
    static final long MAX_KEPT_BYTES = 128L << 20;

    /** A section: name and instance id, which together identify it ({@code cpu (1)}). */
    record SectionKey(String name, long instanceId) {

        String display() {
            return name + " (" + instanceId + ")";
        }
    }

    /** One section: its version and fields (path below the section -> value), in stream order. */
    static final class Section {
        final SectionKey key;
        long version;
        final Map<String, Value> fields = new LinkedHashMap<>();

        Section(SectionKey key) {
            this.key = key;
        }
    }

    /**
     * A field's value: {@code bytes} as in the stream, or its SHA-256 when {@code digest}
     * (values over {@link #MAX_KEPT_VALUE} bytes).
     */
    record Value(FieldKind kind, String type, long size, byte[] bytes, boolean digest) {

        boolean sameAs(Value other) {
            return size == other.size && digest == other.digest && Arrays.equals(bytes, other.bytes);
        }

        /** How the value is printed: integers in hex, bools, short buffers as hex bytes. */
        String display() {
            if (digest) {
                return size + " bytes";
            }
            return switch (kind) {
                case SIGNED, UNSIGNED -> "0x" + new BigInteger(1, bytes).toString(16);
                case BOOL -> bytes.length > 0 && bytes[0] != 0 ? "true" : "false";
                case NULLPTR -> "nullptr";
                case CAPABILITY -> '"' + printable(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)) + '"';
                default -> bytes.length <= 32 ? HexFormat.of().formatHex(bytes) : size + " bytes";
            };
        }
    }

    final Map<SectionKey, Section> sections = new LinkedHashMap<>();
    /** Whether the dump has a JSON description (else no device field could be read). */
    boolean described;
    /**
     * Whether the dump is a plain file, its stream at hand (no container: not a qcow2 image, a
     * compressed file or a libvirt image), which its RAM index may read from two threads at once.
     */
    boolean plainFile;
    /** The machine type the stream names (its CONFIGURATION section), or null. */
    String machine;
    private long fieldCount;
    private long keptBytes;

    /** Reads the device state of {@code reader} to its end. */
    static DeviceState read(MigrationReader reader) throws java.io.IOException {
        DeviceState state = new DeviceState();
        io.qevm.consume.MigrationConsumer.drive(reader, state::accept);
        return state;
    }

    /** The section the fields go to; the digest for big values (made once). */
    private Section section;
    private MessageDigest sha;

    /**
     * Takes what it keeps of one event of a pass over the stream (a {@code MigrationConsumer},
     * so that the pass that indexes the dump's RAM reads its device state too); the state is
     * complete after EOF.
     */
    void accept(MigrationEvent e, MigrationReader reader) {
        switch (e) {
            case SECTION_START -> {
                SectionKey key = new SectionKey(reader.sectionName(), reader.instanceId());
                section = sections.get(key);
                if (section == null) {
                    section = new Section(key);
                    sections.put(key, section);
                } else if (reader.recordType() == io.qevm.RecordType.FULL) {
                    // a section sent again whole: QEMU's destination loads the last
                    section.fields.clear();
                }
                section.version = reader.sectionVersion();
            }
            case CONFIGURATION -> machine = reader.machineName();
            case FIELD -> {
                if (++fieldCount > MAX_FIELDS) {
                    throw new DiffLimitException(reader.sourceName() + ": more than " + MAX_FIELDS
                            + " device fields: too many to compare");
                }
                long size = reader.fieldSize();
                MemorySegment value = reader.fieldBytes();
                byte[] bytes;
                boolean digest = size > MAX_KEPT_VALUE;
                if (digest) {
                    if (sha == null) {
                        sha = sha256();
                    }
                    sha.update(value.asByteBuffer());
                    bytes = sha.digest();
                } else {
                    bytes = value.toArray(ValueLayout.JAVA_BYTE);
                }
                keptBytes += bytes.length;
                if (keptBytes > MAX_KEPT_BYTES) {
                    throw new DiffLimitException(reader.sourceName() + ": more than " + (MAX_KEPT_BYTES >> 20)
                            + " MiB of device fields: too many to compare");
                }
                String path = relative(reader.fieldPath(), section.key.name());
                Value v = new Value(reader.fieldKind(), reader.fieldType(), size, bytes, digest);
                if (section.fields.putIfAbsent(path, v) != null) {
                    // the same path twice in one section (a description naming two fields
                    // alike): the later ones numbered, so that each is compared with its peer
                    for (int n = 2; section.fields.putIfAbsent(path + " #" + n, v) != null; n++) {
                        // next number
                    }
                }
            }
            case EOF -> {
                described = reader.hasDescription();
                plainFile = reader.isRandomAccess() && reader.containers().isEmpty();
            }
            default -> {
            }
        }
    }

    /** {@code cpu/env.regs[3]} of section {@code cpu}: {@code env.regs[3]}. */
    private static String relative(String fieldPath, String sectionName) {
        if (fieldPath.startsWith(sectionName) && fieldPath.length() > sectionName.length()
                && fieldPath.charAt(sectionName.length()) == '/') {
            return fieldPath.substring(sectionName.length() + 1);
        }
        return fieldPath;
    }

    /**
     * {@code text} (a name or value from the dump) with control characters as {@code \\xNN}, so
     * that it cannot break a line of the output.
     */
    static String printable(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                StringBuilder b = new StringBuilder(text.length() + 8).append(text, 0, i);
                for (int j = i; j < text.length(); j++) {
                    char d = text.charAt(j);
                    if (d < 0x20 || d == 0x7f) {
                        b.append(String.format("\\x%02x", (int) d));
                    } else {
                        b.append(d);
                    }
                }
                return b.toString();
            }
        }
        return text;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every Java platform has SHA-256
        }
    }

    /** A dump whose device state is beyond what diff holds: one line, exit 2. */
    static final class DiffLimitException extends RuntimeException {
        DiffLimitException(String message) {
            super(message);
        }
    }
}
