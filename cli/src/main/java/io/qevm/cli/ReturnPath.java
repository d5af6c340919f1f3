package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.consume.MigrationConsumer;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The destination's side of a live migration, as far as a QEMU source needs it to complete
 * (migration/savevm.c {@code loadvm_process_command}, migration/migration.c
 * {@code migrate_send_rp_*}): the commands of the stream, as the reader hands them out, answered
 * on the same connection, and the capabilities that need a real destination refused before
 * anything is written.
 * <ul>
 *   <li>MIG_CMD_OPEN_RETURN_PATH (the {@code return-path} capability, needed by others): the
 *       return path opens; with a source of QEMU 8.1 or later, MIG_RP_MSG_SWITCHOVER_ACK at once
 *       (see {@link #acksSwitchover});</li>
 *   <li>MIG_CMD_PING: MIG_RP_MSG_PONG with its value;</li>
 *   <li>at the end, once everything is written ({@link #finish}): MIG_RP_MSG_SHUT with status 0,
 *       which the source waits for before it completes; on a failure ({@link #fail}), status 1,
 *       and the source's migration fails (its VM keeps running);</li>
 *   <li>MIG_CMD_POSTCOPY_ADVISE and the other postcopy commands (postcopy-ram, or dirty-bitmaps,
 *       which QEMU migrates with postcopy), MIG_CMD_ENABLE_COLO (x-colo): refused, with a
 *       one-line error naming the capability.</li>
 * </ul>
 * Every message is {@code be16 type, be16 length, payload} ({@code migrate_send_rp_message}).
 */
final class ReturnPath implements MigrationConsumer {

    // migration/savevm.c enum qemu_vm_cmd
    static final int MIG_CMD_OPEN_RETURN_PATH = 1;
    static final int MIG_CMD_PING = 2;
    static final int MIG_CMD_POSTCOPY_ADVISE = 3;
    static final int MIG_CMD_POSTCOPY_LISTEN = 4;
    static final int MIG_CMD_POSTCOPY_RUN = 5;
    static final int MIG_CMD_POSTCOPY_RAM_DISCARD = 6;
    static final int MIG_CMD_PACKAGED = 7;
    static final int MIG_CMD_ENABLE_COLO = 8;
    static final int MIG_CMD_POSTCOPY_RESUME = 9;
    static final int MIG_CMD_RECV_BITMAP = 10;

    // migration/migration.c enum mig_rp_message_type
    static final int MIG_RP_MSG_SHUT = 1;
    static final int MIG_RP_MSG_PONG = 2;
    static final int MIG_RP_MSG_SWITCHOVER_ACK = 7;

    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** The machine types of QEMU 8.1 and later end in a version: {@code pc-q35-8.1}, {@code virt-9.2}. */
    private static final Pattern MACHINE_VERSION = Pattern.compile("-(\\d+)\\.(\\d+)$");

    /** Where the answers go: the source's connection. */
    interface Answers {
        void send(byte[] message, String what) throws IOException;
    }

    private final Answers answers;
    private String machine;
    private boolean open;
    private int pongs;
    private boolean switchoverAcked;

    ReturnPath(Answers answers) {
        this.answers = answers;
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) throws IOException {
        if (event == MigrationEvent.CONFIGURATION) {
            machine = reader.machineName();
            return;
        }
        if (event != MigrationEvent.COMMAND) {
            return;
        }
        int command = reader.commandType();
        switch (command) {
            case MIG_CMD_OPEN_RETURN_PATH -> {
                // QEMU's destination ignores a second one ("called when RP already open")
                if (!open) {
                    open = true;
                    if (acksSwitchover(machine)) {
                        // savevm.c: switchover-ack on and no device needing to ack (qevm has none)
                        answers.send(switchoverAck(), "MIG_RP_MSG_SWITCHOVER_ACK");
                        switchoverAcked = true;
                    }
                }
            }
            case MIG_CMD_PING -> {
                // without a return path QEMU's destination fails ("CMD_PING received with no
                // return path"); the reader reads a file's the same: nothing to answer on
                if (open) {
                    int value = reader.commandPayload().get(BE32, 0);
                    answers.send(pong(value), "MIG_RP_MSG_PONG");
                    pongs++;
                }
            }
            case MIG_CMD_POSTCOPY_ADVISE -> throw reader.commandPayload().byteSize() == 0
                    ? IncomingFailure.refused("dirty-bitmaps", "MIG_CMD_POSTCOPY_ADVISE: its bitmaps go by postcopy")
                    : IncomingFailure.refused("postcopy-ram", "MIG_CMD_POSTCOPY_ADVISE");
            case MIG_CMD_POSTCOPY_LISTEN, MIG_CMD_POSTCOPY_RUN, MIG_CMD_POSTCOPY_RAM_DISCARD, MIG_CMD_PACKAGED,
                 MIG_CMD_POSTCOPY_RESUME, MIG_CMD_RECV_BITMAP ->
                    throw IncomingFailure.refused("postcopy-ram", "MIG_CMD " + command + ", a postcopy command");
            case MIG_CMD_ENABLE_COLO -> throw IncomingFailure.refused("x-colo", "MIG_CMD_ENABLE_COLO");
            default -> {
                // SWITCHOVER_START (QEMU 10): nothing to answer
            }
        }
    }

    /** Whether the source asked for the return path. */
    boolean isOpen() {
        return open;
    }

    int pongs() {
        return pongs;
    }

    boolean switchoverAcked() {
        return switchoverAcked;
    }

    /** Everything is written: MIG_RP_MSG_SHUT with status 0, if the source opened the return path. */
    void finish() throws IOException {
        if (open) {
            answers.send(shut(0), "MIG_RP_MSG_SHUT");
        }
    }

    /**
     * The capture failed: MIG_RP_MSG_SHUT with status 1 (QEMU's destination sends the error of
     * its stream), if the return path is open and the connection still takes it; the source's
     * migration fails, its VM runs on.
     */
    void fail() {
        if (open) {
            try {
                answers.send(shut(1), "MIG_RP_MSG_SHUT");
            } catch (IOException | RuntimeException e) {
                // the connection is gone: the source sees that instead
            }
        }
    }

    /**
     * Whether to send MIG_RP_MSG_SWITCHOVER_ACK when the return path opens. QEMU's destination
     * sends it when its own switchover-ack capability is on (set there by hand, as on the source:
     * the stream does not carry it), and a source before QEMU 8.1 takes the message for an
     * invalid one and fails. To any source of 8.1 or later it is harmless (it only allows the
     * switchover), and necessary when switchover-ack is on there: so it goes to sources whose
     * machine type is of 8.1 or later (which an older QEMU does not have), and not to others.
     */
    static boolean acksSwitchover(String machine) {
        if (machine == null) {
            return false;
        }
        Matcher version = MACHINE_VERSION.matcher(machine);
        if (!version.find()) {
            return false;
        }
        int major = Integer.parseInt(version.group(1));
        int minor = Integer.parseInt(version.group(2));
        return major > 8 || major == 8 && minor >= 1;
    }

    /** migrate_send_rp_shut: MIG_RP_MSG_SHUT, length 4, be32 status (0: the destination is done, else an error). */
    static byte[] shut(int status) {
        return message(MIG_RP_MSG_SHUT, ByteBuffer.allocate(4).putInt(status).array());
    }

    /** migrate_send_rp_pong: MIG_RP_MSG_PONG, length 4, the PING's be32 value. */
    static byte[] pong(int value) {
        return message(MIG_RP_MSG_PONG, ByteBuffer.allocate(4).putInt(value).array());
    }

    /** migrate_send_rp_switchover_ack: MIG_RP_MSG_SWITCHOVER_ACK, length 0. */
    static byte[] switchoverAck() {
        return message(MIG_RP_MSG_SWITCHOVER_ACK, new byte[0]);
    }

    /** migrate_send_rp_message: be16 type, be16 length, the payload. */
    static byte[] message(int type, byte[] payload) {
        return ByteBuffer.allocate(4 + payload.length).order(ByteOrder.BIG_ENDIAN)
                .putShort((short) type).putShort((short) payload.length).put(payload).array();
    }
}
