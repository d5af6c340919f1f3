package io.qevm.record;

import io.qevm.FieldKind;
import io.qevm.MigrationEvent;
import io.qevm.ReadLimits;
import io.qevm.exc.MalformedStreamException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import io.qevm.vmstate.Description;
import io.qevm.vmstate.VmStateDecoder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * QEMU_VM_CONFIGURATION (migration/savevm.c {@code vmstate_configuration}): a u32 length and the
 * machine name, then optional subsections: target-page-bits (u32), capabilities (u32 count, then
 * u8 length + name each), uuid (16 bytes). With a JSON description that describes it (QEMU 8.2+)
 * its fields are read as a device's; otherwise (QEMU 7.2, and a stream whose description has not
 * arrived) by that known layout. Not part of the API.
 */
final class ConfigurationRecord {

    private static final int QEMU_VM_SUBSECTION = 0x05;
    private static final int UUID_BYTES = 16;
    static final String TARGET_PAGE_BITS = "configuration/target-page-bits";
    private static final String CAPABILITIES = "configuration/capabilities";
    private static final String UUID = "configuration/uuid";

    private final ByteCursor in;
    private final ReadLocation at;
    private final ReadLimits limits;
    private String machineName;
    private final List<String> capabilities = new ArrayList<>();
    private int targetPageBits = -1;

    ConfigurationRecord(ByteCursor in, ReadLocation at, ReadLimits limits) {
        this.in = in;
        this.at = at;
        this.limits = limits;
    }

    String machineName() {
        return machineName;
    }

    List<String> capabilities() {
        return Collections.unmodifiableList(capabilities);
    }

    int targetPageBits() {
        return targetPageBits;
    }

    boolean has(String capability) {
        return capabilities.contains(capability);
    }

    /** Reads the record after its type byte; {@code described} is the JSON's entry, or null. */
    void read(Description.Struct described, VmStateDecoder fields) {
        machineName = null;
        capabilities.clear();
        targetPageBits = -1;
        if (described != null) {
            readDescribed(described, fields);
            return;
        }
        long length = in.be32();
        limits.validateNameBytes(length, at);
        machineName = in.utf8(in.take(length, "machine name"), (int) length);
        while (in.peekU8() == QEMU_VM_SUBSECTION) {
            long subsectionAt = in.position();
            in.skip(1, "subsection");
            String name = in.shortString("name");
            in.be32(); // version_id
            switch (name) {
                case TARGET_PAGE_BITS -> targetPageBits = (int) in.be32();
                case CAPABILITIES -> {
                    long count = in.be32();
                    limits.validateCapabilities(count, at);
                    for (long i = 0; i < count; i++) {
                        capabilities.add(in.shortString("name"));
                    }
                }
                case UUID -> in.skip(UUID_BYTES, "uuid");
                default -> throw new MalformedStreamException(Messages.unknownConfigurationSubsection(name),
                        new io.qevm.exc.ReadContext(subsectionAt, in.position(), null, -1, "CONFIGURATION"));
            }
        }
    }

    private void readDescribed(Description.Struct described, VmStateDecoder fields) {
        long start = at.eventOffset();
        fields.openSection("configuration", described);
        String subsection = null;
        for (MigrationEvent e = fields.next(); e != MigrationEvent.SECTION_END; e = fields.next()) {
            if (e == MigrationEvent.SUBSECTION) {
                subsection = fields.subsectionName();
            } else if (e == MigrationEvent.FIELD) {
                Description.Field field = fields.field();
                if (field.kind() == FieldKind.CAPABILITY) {
                    limits.validateCapabilities(capabilities.size() + 1L, at);
                    capabilities.add(fields.stringValue());
                } else if (fields.depth() == 0 && field.name().equals("name")) {
                    machineName = fields.stringValue();
                } else if (TARGET_PAGE_BITS.equals(subsection)
                        && (field.kind() == FieldKind.UNSIGNED || field.kind() == FieldKind.SIGNED)
                        && fields.valueLength() <= 4) {
                    targetPageBits = (int) fields.integerValue();
                }
            }
        }
        fields.closeAll();
        at.eventAt(start);
        at.reading = MigrationEvent.CONFIGURATION;
    }
}
