package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The return path (migration/migration.c {@code migrate_send_rp_message}: be16 type, be16 length,
 * payload; enum mig_rp_message_type: SHUT 1, PONG 2, SWITCHOVER_ACK 7): the messages byte by
 * byte, and a capture over a real socket answering a fake source that opens the return path,
 * pings, and waits for SHUT before it closes, as QEMU's source does.
 */
final class ReturnPathTest {

    private static final Duration TIMEOUT = LiveCaptureTest.TIMEOUT;

    @TempDir
    Path work;

    private static byte[] bytes(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    // ------------------------------------------------------------------ the messages

    @Test
    void shutIsTypeOneLengthFourAndTheStatus() {
        // migrate_send_rp_shut(mis, 0): cpu_to_be32(0)
        assertArrayEquals(bytes(0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00), ReturnPath.shut(0));
        assertArrayEquals(bytes(0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01), ReturnPath.shut(1));
    }

    @Test
    void pongIsTypeTwoLengthFourAndThePingsValue() {
        // migrate_send_rp_pong(mis, tmp32): the PING's be32 value back
        assertArrayEquals(bytes(0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01), ReturnPath.pong(1));
        assertArrayEquals(bytes(0x00, 0x02, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef), ReturnPath.pong(0xdeadbeef));
    }

    @Test
    void switchoverAckIsTypeSevenLengthZero() {
        // migrate_send_rp_switchover_ack(mis): migrate_send_rp_message(mis, MIG_RP_MSG_SWITCHOVER_ACK, 0, NULL)
        assertArrayEquals(bytes(0x00, 0x07, 0x00, 0x00), ReturnPath.switchoverAck());
    }

    @ParameterizedTest
    @CsvSource({
        "pc-i440fx-7.2, false",
        "pc-q35-8.0, false",
        "pc-q35-8.1, true",
        "pc-i440fx-8.2, true",
        "virt-9.0, true",
        "pseries-10.1, true",
        "s390-ccw-virtio-8.1, true",
        "microvm, false",
        "pc-q35-rhel9.4.0, false",
        "versatilepb, false",
    })
    void switchoverAckGoesToSourcesOf81AndLater(String machine, boolean acked) {
        assertEquals(acked, ReturnPath.acksSwitchover(machine));
    }

    // ------------------------------------------------------------------ over a socket

    /** What qevm sends on the return path of {@code stream}, read to its end by a source that waits for SHUT. */
    private List<FakeSource.Message> answersTo(byte[] stream, String... args) throws Exception {
        LiveRun run = LiveRun.start(work, LiveCaptureTest.incoming("unix:rp.sock", args));
        List<FakeSource.Message> messages;
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("rp.sock"), TIMEOUT)) {
            source.send(stream);
            messages = source.awaitShut(TIMEOUT);
        }
        CliRun result = run.result(TIMEOUT);
        assertEquals(0, result.exit(), result.err());
        return messages;
    }

    @Test
    void pingsArePongedAndShutComesAtTheEnd() throws Exception {
        byte[] stream = LiveStreams.withReturnPath("pc-i440fx-7.2", 3, 0x12345678, 0);
        List<FakeSource.Message> messages = answersTo(stream, "-x", "-o", "out");
        assertEquals(List.of("2 1", "2 305419896", "2 0", "1 0"),
                messages.stream().map(m -> m.type() + " " + m.u32()).toList());
        assertTrue(Files.exists(work.resolve("out").resolve("pc.ram")), "SHUT comes once the files are there");
    }

    @Test
    void theAnswerIsExactlyTheseBytes() throws Exception {
        byte[] stream = LiveStreams.withReturnPath("pc-i440fx-7.2", 1);
        LiveRun run = LiveRun.start(work, LiveCaptureTest.incoming("unix:rp.sock", "-d", "state"));
        byte[] answer;
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("rp.sock"), TIMEOUT)) {
            source.send(stream);
            source.awaitShut(TIMEOUT);
            assertTrue(source.awaitClosedByPeer(TIMEOUT), "qevm closes its end after SHUT");
            answer = source.answerBytes();
        }
        assertEquals(0, run.result(TIMEOUT).exit());
        assertArrayEquals(bytes(0, 2, 0, 4, 0, 0, 0, 1, 0, 1, 0, 4, 0, 0, 0, 0), answer,
                "PONG 1 (the ping after OPEN_RETURN_PATH), then SHUT 0, and nothing else");
    }

    @Test
    void aSourceOf81IsAckedAtOnce() throws Exception {
        byte[] stream = LiveStreams.withReturnPath("pc-q35-8.1", 2);
        List<FakeSource.Message> messages = answersTo(stream, "-d", "desc");
        assertEquals(List.of(7, 2, 1), messages.stream().map(FakeSource.Message::type).toList(),
                "SWITCHOVER_ACK as the return path opens, before PONG 1; SHUT last");
    }

    @Test
    void withoutAReturnPathNothingIsSent() throws Exception {
        // a PING with no OPEN_RETURN_PATH before it: nothing to answer on (QEMU's destination fails)
        byte[] stream = LiveStreams.build(new LiveStreams.Shape("pc-i440fx-7.2", false, new int[] {5}, 1))
                .toByteArray();
        LiveRun run = LiveRun.start(work, LiveCaptureTest.incoming("unix:rp.sock", "-d", "state"));
        byte[] answer;
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("rp.sock"), TIMEOUT)) {
            source.send(stream);
            assertTrue(source.awaitClosedByPeer(TIMEOUT));
            answer = source.answerBytes();
        }
        assertEquals(0, run.result(TIMEOUT).exit());
        assertArrayEquals(new byte[0], answer);
    }

    @Test
    void aFailureIsShutWithAnError() throws Exception {
        // the device's footer names another section: the capture fails, after the RAM
        StreamBuilder b = LiveStreams.head(new LiveStreams.Shape("pc-i440fx-7.2", true, new int[] {1}, 1));
        b.sectionEnd(1).page(0, "pc.ram", StreamBuilder.pattern(4096, 3)).eos().footer(1);
        byte[] stream = b.sectionFull(2, "timer", 0, 2).u64(0x1234).bytes(StreamBuilder.pattern(16, 7)).footer(3)
                .eof().description(LiveStreams.DESCRIPTION).toByteArray();
        LiveRun run = LiveRun.start(work, LiveCaptureTest.incoming("unix:rp.sock", "-x", "-o", "out"));
        List<FakeSource.Message> messages;
        try (FakeSource source = FakeSource.connect("unix:" + work.resolve("rp.sock"), TIMEOUT)) {
            source.send(stream);
            messages = source.awaitShut(TIMEOUT);
        }
        CliRun result = run.result(TIMEOUT);
        assertEquals(1, result.exit());
        assertEquals(List.of("2 1", "1 1"), messages.stream().map(m -> m.type() + " " + m.u32()).toList(),
                "SHUT with status 1: the source's migration fails");
        assertTrue(result.err().startsWith("qevm: unix:rp.sock: at byte "), result.err());
        assertFalse(Files.exists(work.resolve("out").resolve("pc.ram")), "nothing extracted");
    }
}
