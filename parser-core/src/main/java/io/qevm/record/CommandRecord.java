package io.qevm.record;

import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import io.qevm.ram.RamSection;
import java.lang.foreign.MemorySegment;

/**
 * QEMU_VM_COMMAND (migration/savevm.c {@code qemu_savevm_command_send}): u16 command, u16
 * length, the payload. Commands 1-11 are read and their payload handed out; PACKAGED (a nested
 * stream, postcopy) is refused, 0 and above 11 are errors. POSTCOPY_ADVISE tells the RAM section
 * which blocks carry their own page size. Not part of the API.
 */
final class CommandRecord {

    // migration/savevm.c enum qemu_vm_cmd
    static final int MIG_CMD_OPEN_RETURN_PATH = 1;
    static final int MIG_CMD_PING = 2;
    static final int MIG_CMD_POSTCOPY_ADVISE = 3;
    static final int MIG_CMD_PACKAGED = 7;
    static final int MIG_CMD_SWITCHOVER_START = 11;
    private static final int MIG_CMD_MAX = 11;
    private static final int POSTCOPY_ADVISE_BYTES = 16;

    private final ByteCursor in;
    private final ReadLocation at;
    private int type;
    private long payloadOffset;
    private int payloadLength;

    CommandRecord(ByteCursor in, ReadLocation at) {
        this.in = in;
        this.at = at;
    }

    int type() {
        return type;
    }

    /** The payload, a view valid until the next event. */
    MemorySegment payload() {
        return in.slice(payloadOffset, payloadLength);
    }

    /** Reads the record after its type byte. */
    void read(RamSection ram) {
        type = in.be16();
        payloadLength = in.be16();
        if (type < 1 || type > MIG_CMD_MAX) {
            throw at.malformed(Messages.unknownCommand(type));
        }
        if (type == MIG_CMD_PACKAGED) {
            throw at.malformed(Messages.packagedUnsupported());
        }
        payloadOffset = in.take(payloadLength, "command payload");
        int expected = switch (type) {
            case MIG_CMD_PING -> 4;
            case MIG_CMD_POSTCOPY_ADVISE -> payloadLength == 0 ? 0 : POSTCOPY_ADVISE_BYTES;
            case MIG_CMD_OPEN_RETURN_PATH, MIG_CMD_SWITCHOVER_START -> 0;
            default -> payloadLength; // variable or undocumented payloads: taken as given
        };
        if (payloadLength != expected) {
            throw at.malformed(Messages.badCommandLength(type, payloadLength, expected));
        }
        if (type == MIG_CMD_POSTCOPY_ADVISE && payloadLength == POSTCOPY_ADVISE_BYTES) {
            ram.postcopyAdvise(in.getBe64(payloadOffset), in.getBe64(payloadOffset + 8));
        }
    }
}
