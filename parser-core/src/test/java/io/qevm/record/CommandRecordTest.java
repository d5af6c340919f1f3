package io.qevm.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadLimits;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.ram.RamSection;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link CommandRecord}: QEMU_VM_COMMAND's u16 command, u16 length and payload
 * (migration/savevm.c {@code qemu_savevm_command_send}); the commands whose payload QEMU fixes
 * are checked, PACKAGED is refused, POSTCOPY_ADVISE tells the RAM section the page sizes.
 */
final class CommandRecordTest {

    /** The record after its type byte (at offset 1), read; the cursor, the record and the RAM section. */
    private record Read(RecordTesting.Cursor cursor, CommandRecord command, RamSection ram) {
    }

    private static Read read(int command, byte[] payload, boolean stream) {
        byte[] bytes = StreamBuilder.empty().command(command, payload).u8(0x42).toByteArray();
        return read(bytes, stream);
    }

    private static Read read(byte[] bytes, boolean stream) {
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        c.at().startEvent(MigrationEvent.COMMAND);
        c.in().u8();
        CommandRecord record = new CommandRecord(c.in(), c.at());
        RamSection ram = new RamSection(c.in(), c.at(), ReadLimits.DEFAULT, null);
        record.read(ram);
        return new Read(c, record, ram);
    }

    private static MalformedStreamException refused(int command, byte[] payload) {
        return assertThrows(MalformedStreamException.class, () -> read(command, payload, false));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void eachCommandAndItsPayload(boolean stream) {
        Read ping = read(StreamBuilder.MIG_CMD_PING, new byte[] {0, 0, 1, 2}, stream);
        assertEquals(2, ping.command().type());
        assertArrayEquals(new byte[] {0, 0, 1, 2}, ping.command().payload().toArray(ValueLayout.JAVA_BYTE));
        assertEquals(9, ping.cursor().in().position());
        assertEquals(0x42, ping.cursor().in().u8(), "the stream goes on after the payload");

        assertEquals(0, read(StreamBuilder.MIG_CMD_OPEN_RETURN_PATH, new byte[0], stream).command().payload().byteSize());
        assertEquals(11, read(StreamBuilder.MIG_CMD_SWITCHOVER_START, new byte[0], stream).command().type());
        // commands with a variable payload (POSTCOPY_LISTEN 4, RUN 5, RAM_DISCARD 6, RECV_BITMAP 8, RESUME 9,
        // ENABLE_COLO 10) are taken as given
        for (int command : new int[] {4, 5, 6, 8, 9, 10}) {
            Read any = read(command, new byte[] {1, 2, 3}, stream);
            assertEquals(command, any.command().type());
            assertEquals(3, any.command().payload().byteSize());
        }
    }

    @Test
    void postcopyAdviseGivesThePageSize() {
        byte[] advise = StreamBuilder.empty().u8(StreamBuilder.QEMU_VM_COMMAND).u16(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE)
                .u16(16).u64(0x201000).u64(4096).toByteArray();
        assertEquals(4096, read(advise, false).ram().pageSize(), "the target page size");
        byte[] bad = StreamBuilder.empty().u8(StreamBuilder.QEMU_VM_COMMAND).u16(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE)
                .u16(16).u64(0x201000).u64(4095).toByteArray();
        assertEquals(-1, read(bad, false).ram().pageSize(), "not a page size: left for the records to tell");
        assertEquals(-1, read(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE, new byte[0], false).ram().pageSize(),
                "an advise without payload (QEMU before 2.x) says nothing");
    }

    @Test
    void fixedPayloadLengths() {
        MalformedStreamException ping = refused(StreamBuilder.MIG_CMD_PING, new byte[3]);
        assertEquals("expected MIG_CMD 2 with 4 bytes of payload, found 3", ping.problem());
        assertEquals(0, ping.eventOffset());
        assertEquals(8, ping.position(), "after the payload");
        assertEquals("expected MIG_CMD 1 with 0 bytes of payload, found 1",
                refused(StreamBuilder.MIG_CMD_OPEN_RETURN_PATH, new byte[1]).problem());
        assertEquals("expected MIG_CMD 11 with 0 bytes of payload, found 2",
                refused(StreamBuilder.MIG_CMD_SWITCHOVER_START, new byte[2]).problem());
        assertEquals("expected MIG_CMD 3 with 16 bytes of payload, found 8",
                refused(StreamBuilder.MIG_CMD_POSTCOPY_ADVISE, new byte[8]).problem());
    }

    @Test
    void unknownAndUnsupportedCommands() {
        MalformedStreamException zero = refused(0, new byte[0]);
        assertEquals("expected a MIG_CMD from 1 to 11, found 0", zero.problem());
        assertEquals(5, zero.position(), "after command and length: the payload is not read");
        assertEquals("expected a MIG_CMD from 1 to 11, found 12", refused(12, new byte[0]).problem());
        assertEquals("expected a MIG_CMD from 1 to 11, found 65535", refused(0xffff, new byte[0]).problem());
        MalformedStreamException packaged = refused(StreamBuilder.MIG_CMD_PACKAGED, new byte[4]);
        assertEquals("MIG_CMD_PACKAGED (postcopy's nested stream) is not supported", packaged.problem());
        assertEquals(5, packaged.position());
    }

    /** The length is checked against the data before the command's own length rule. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aPayloadCutShort(boolean stream) {
        byte[] bytes = StreamBuilder.empty().u8(StreamBuilder.QEMU_VM_COMMAND).u16(StreamBuilder.MIG_CMD_PING).u16(300)
                .bytes(new byte[20]).toByteArray();
        TruncatedInputException e = assertThrows(TruncatedInputException.class, () -> read(bytes, stream));
        assertEquals("expected 300 bytes of command payload, found " + RecordTesting.end(stream, 25), e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(25, e.position());
    }

    /** Through the reader, on every source: the command's type and payload; an error names the record. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void throughTheReader(SourceKind kind) {
        StreamBuilder b = StreamBuilder.stream().openReturnPath().ping(0x01020304);
        long bad = b.position();
        byte[] good = b.switchoverStart().eof().description(Json.description(4096)).toByteArray();
        try (MigrationReader reader = kind.open(good)) {
            assertEquals(MigrationEvent.COMMAND, reader.next());
            assertEquals(1, reader.commandType());
            assertEquals(MigrationEvent.COMMAND, reader.next());
            assertEquals(2, reader.commandType());
            assertArrayEquals(new byte[] {1, 2, 3, 4}, reader.commandPayload().toArray(ValueLayout.JAVA_BYTE));
            assertEquals(MigrationEvent.COMMAND, reader.next());
            assertEquals(bad, reader.eventOffset());
            assertEquals(11, reader.commandType());
            assertEquals(MigrationEvent.EOF, reader.next());
        }
        StreamBuilder p = StreamBuilder.stream().ping(1);
        long record = p.position();
        byte[] packaged = p.command(StreamBuilder.MIG_CMD_PACKAGED, new byte[] {0, 0, 0, 0})
                .eof().description(Json.description(4096)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> RecordTesting.events(kind, packaged));
        assertEquals("MIG_CMD_PACKAGED (postcopy's nested stream) is not supported", e.problem());
        assertEquals(record, e.eventOffset());
        assertEquals(record + 5, e.position());
        assertEquals("COMMAND", e.event());
    }
}
