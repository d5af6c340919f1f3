package io.qevm.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.CleanFailure;
import io.qevm.MigrationReader;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.StateWriter;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PbsStateSection}: Proxmox VE's {@code pbs-state} (pve-qemu migration/pbs-state.c), a
 * live section registered without a vmstate: {@code pbs_state_save_setup} writes its whole body
 * in the setup phase, a QEMU_VM_SECTION_START record between RAM's setup and its iterations:
 * {@code qemu_put_be64(f, buf_size); qemu_put_buffer(f, buf, buf_size)}. The description has no
 * entry for it; the body is skipped by its length.
 */
final class PbsStateSectionTest {

    private static final int PAGE = 4096;
    private static final String DEV = Json.device("dev", 0, 1, Json.field("a", "uint32", 4));

    private static long skip(byte[] bytes, boolean stream) {
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        PbsStateSection.skipPart(c.in(), c.at());
        return c.in().position();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lengthThenThatManyBytes(boolean stream) {
        byte[] state = StreamBuilder.pattern(3000, 9);
        assertEquals(8 + 3000, skip(StreamBuilder.empty().u64(3000).bytes(state).u64(-1).toByteArray(), stream));
        assertEquals(8, skip(StreamBuilder.empty().u64(0).u8(0x7e).toByteArray(), stream), "an empty state");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void bodyCutShort(boolean stream) {
        byte[] bytes = StreamBuilder.empty().u64(100).bytes(new byte[60]).toByteArray();
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> PbsStateSection.skipPart(c.in(), c.at()));
        assertEquals("expected 100 bytes of pbs-state data, found " + RecordTesting.end(stream, 68), e.problem());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void lengthOf2To63OrMoreIsRefused(boolean stream) {
        byte[] bytes = StreamBuilder.empty().u64(0x8000000000000000L).bytes(new byte[16]).toByteArray();
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> PbsStateSection.skipPart(c.in(), c.at()));
        assertEquals(Messages.negativeLength("pbs-state length", 0x8000000000000000L), e.problem());
    }

    /**
     * As savevm-async writes it: RAM's setup, pbs-state's START (and footer), RAM's iterations
     * and END, the devices, EOF, the description (which has no pbs-state). Every kind of source
     * reads the same events; RAM and the device after it are read as without pbs-state.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void betweenRamSetupAndItsIterations(SourceKind kind) {
        Layout layout = proxmoxStream(1000);
        // RAM's SECTION_END is at its EOS record, its footer 8 bytes on
        assertEquals(List.of("SECTION_START@8", "RAM_BLOCK@" + layout.block, "SECTION_END@" + layout.ramEos,
                        "FOOTER@" + (layout.ramEos + 8),
                        "SECTION_START@" + layout.pbs, "SECTION_END@" + layout.pbsEnd, "FOOTER@" + layout.pbsEnd,
                        "SECTION_START@" + layout.ramPart, "RAM_PAGE@" + layout.page, "SECTION_END@" + layout.partEos,
                        "FOOTER@" + (layout.partEos + 8),
                        "SECTION_START@" + layout.ramEnd, "SECTION_END@" + (layout.ramEnd + 5),
                        "FOOTER@" + (layout.ramEnd + 5 + 8),
                        "SECTION_START@" + layout.device, "FIELD@" + layout.field, "SECTION_END@" + layout.deviceEnd,
                        "FOOTER@" + layout.deviceEnd),
                RecordTesting.events(kind, layout.bytes));
    }

    /** -d state shows it as it shows the other sections without a description: "". */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void stateShowsItAsEmpty(SourceKind kind) throws IOException {
        Layout layout = proxmoxStream(10);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MigrationReader reader = kind.open(layout.bytes); StateWriter state = new StateWriter()) {
            MigrationConsumer.drive(reader, state);
            state.writeTo(out, false);
        }
        String json = out.toString(StandardCharsets.UTF_8);
        assertEquals(true, json.contains("\"pbs-state (7)\": \"\","), json);
        assertEquals(true, json.contains("\"dev (3)\": {\n        \"a\": \"0x0000002a\"\n    }"), json);
    }

    @Test
    void onlyVersion1() {
        StreamBuilder b = StreamBuilder.stream();
        long start = b.position();
        byte[] bytes = b.sectionStart(7, PbsStateSection.NAME, 0, 2).u64(0).footer(7).eof()
                .description(Json.description(PAGE)).toByteArray();
        MalformedStreamException e = CleanFailure.assertFails(MalformedStreamException.class, bytes);
        CleanFailure.assertFailure(e, start, Messages.unsupportedVersion("pbs-state", 2, 1));
    }

    /**
     * A length past the end of the data: truncated, where the data ends: a file at its
     * description, which it knows from the start; a stream, which comes to the description only
     * at the device state (pbs-state comes before RAM's iterations), at the end of the input.
     */
    @Test
    void lengthPastTheEnd() {
        StreamBuilder b = StreamBuilder.stream();
        long start = b.position();
        b.sectionStart(7, PbsStateSection.NAME, 0, 1).u64(1 << 20).bytes(new byte[100]).footer(7).eof();
        long description = b.position();
        byte[] bytes = b.description(Json.description(PAGE)).toByteArray();
        CleanFailure.Apart<TruncatedInputException> failed = CleanFailure.assertFailsApart(TruncatedInputException.class,
                bytes);
        CleanFailure.assertFailure(failed.file(), start, description, Messages.truncated("pbs-state data", 1 << 20,
                Messages.endOfRegion(Messages.DESCRIPTION_REGION, description)));
        assertEquals(TruncatedInputException.class, failed.stream().getClass());
        CleanFailure.assertFailure(failed.stream(), start, bytes.length, Messages.truncated("pbs-state data", 1 << 20,
                Messages.endOfSource("input", bytes.length)));
    }

    /** Where each event of {@link #proxmoxStream} starts. */
    private record Layout(byte[] bytes, long block, long ramEos, long pbs, long pbsEnd, long ramPart, long page,
                          long partEos, long ramEnd, long device, long field, long deviceEnd) {
    }

    private static Layout proxmoxStream(int stateBytes) {
        StreamBuilder b = StreamBuilder.stream();
        b.sectionStart(2, "ram", 0, 4).memSize(2 * PAGE);
        long block = b.position();
        b.block("pc.ram", 2 * PAGE);
        long ramEos = b.position();
        b.eos().footer(2);
        long pbs = b.position();
        b.sectionStart(7, PbsStateSection.NAME, 0, 1).u64(stateBytes).bytes(StreamBuilder.pattern(stateBytes, 3));
        long pbsEnd = b.position();
        b.footer(7);
        long ramPart = b.position();
        b.sectionPart(2);
        long page = b.position();
        b.page(PAGE, "pc.ram", StreamBuilder.pattern(PAGE, 1));
        long partEos = b.position();
        b.eos().footer(2);
        long ramEnd = b.position();
        b.sectionEnd(2).eos().footer(2);
        long device = b.position();
        b.sectionFull(3, "dev", 0, 1);
        long field = b.position();
        b.u32(42);
        long deviceEnd = b.position();
        byte[] bytes = b.footer(3).eof().description(Json.description(PAGE, DEV)).toByteArray();
        return new Layout(bytes, block, ramEos, pbs, pbsEnd, ramPart, page, partEos, ramEnd, device, field, deviceEnd);
    }
}
