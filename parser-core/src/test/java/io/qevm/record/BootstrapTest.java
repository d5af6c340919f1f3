package io.qevm.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.ReadLimits;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import io.qevm.io.ReadLocation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Bootstrap}: what the bytes are (the QEMU magic and version, perhaps behind a libvirt
 * save header in either byte order) and where the JSON description is (the VMDESCRIPTION
 * record whose JSON runs exactly to the end).
 */
final class BootstrapTest {

    private static final String XML = "<domain type='kvm'><name>vm</name></domain>\n\0";

    private static ByteCursor cursor(byte[] bytes, boolean stream) {
        ReadLocation at = new ReadLocation();
        ByteSource source = stream ? ByteSource.of(SourceKind.trickle(bytes, 3), "<stream>") : ByteSource.of(bytes, "<heap>");
        ByteCursor in = new ByteCursor(source, at, 0);
        at.attach(in);
        return in;
    }

    private static <T extends MigrationReadException> T fails(Class<T> type, byte[] bytes, boolean stream, String problem,
                                                            long eventOffset, long position) {
        T e = assertThrows(type, () -> Bootstrap.readHeader(cursor(bytes, stream)));
        assertEquals(problem, e.problem());
        assertEquals(eventOffset, e.eventOffset(), "event offset");
        assertEquals(position, e.position(), "position");
        return e;
    }

    // ------------------------------------------------------------------ the QEMU header

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aQemuStream(boolean stream) {
        ByteCursor in = cursor(StreamBuilder.stream().eof().toByteArray(), stream);
        assertEquals(0, Bootstrap.readHeader(in));
        assertEquals(8, in.position());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theMagic(boolean stream) {
        fails(MalformedStreamException.class, StreamBuilder.empty().header(0x12345678, 3).toByteArray(), stream,
                "expected the QEMU migration magic 0x5145564d ('QEVM'), found 0x12345678 (not a QEMU migration stream,"
                        + " libvirt save image, qcow2 image, or gzip, bzip2, xz, zstd or lzop data)", 0, 0);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theVersion(boolean stream) {
        fails(MalformedStreamException.class, StreamBuilder.empty().header(StreamBuilder.QEMU_VM_FILE_MAGIC, 2)
                .toByteArray(), stream, "expected stream version 3, found 2", 4, 4);
    }

    /** Not a byte: "empty file" (or input), not a 32-bit value the end of the file cuts. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anEmptyFile(boolean stream) {
        fails(TruncatedInputException.class, new byte[0], stream, stream ? "empty input" : "empty file", 0, 0);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFileShorterThanTheHeader(boolean stream) {
        String end = stream ? "input" : "file";
        fails(TruncatedInputException.class, new byte[] {0x51, 0x45, 0x56}, stream,
                "expected 4 bytes of a 32-bit value, found the end of the " + end + " (at byte 3)", 0, 3);
        fails(TruncatedInputException.class, StreamBuilder.empty().u32(StreamBuilder.QEMU_VM_FILE_MAGIC).u8(0)
                .toByteArray(), stream, "expected 4 bytes of a 32-bit value, found the end of the " + end
                + " (at byte 5)", 0, 5);
    }

    /** The stream's header where the container layer found it: past a libvirt header, say. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aStreamThatStartsFurtherOn(boolean stream) {
        byte[] bytes = StreamBuilder.empty().zeros(100).header().eof().toByteArray();
        ReadLocation at = new ReadLocation();
        ByteSource source = stream ? ByteSource.of(SourceKind.trickle(bytes, 3), "<stream>") : ByteSource.of(bytes, "<heap>");
        ByteCursor in = new ByteCursor(source, at, 100);
        at.attach(in);
        assertEquals(100, Bootstrap.readHeader(in));
        assertEquals(108, in.position());
        byte[] wrong = StreamBuilder.empty().zeros(100).header(0x7f454c46, 3).toByteArray();
        ByteCursor elf = new ByteCursor(ByteSource.of(wrong, "<heap>"), at, 100);
        at.attach(elf);
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> Bootstrap.readHeader(elf));
        assertEquals(Messages.badMagic(0x7f454c46), e.problem());
        assertEquals(100, e.eventOffset());
    }

    // ------------------------------------------------------------------ locating the description

    private static ByteSource heap(byte[] bytes) {
        return ByteSource.of(bytes, "<heap>");
    }

    @Test
    void theDescriptionIsTheRecordThatRunsToTheEnd() {
        StreamBuilder b = StreamBuilder.stream().eof();
        long record = b.position();
        String json = Json.description(4096);
        byte[] bytes = b.description(json).toByteArray();
        assertEquals(record, Bootstrap.locateDescription(heap(bytes), 8, ReadLimits.DEFAULT));
        assertArrayEquals(json.getBytes(StandardCharsets.UTF_8), Bootstrap.descriptionJson(heap(bytes), record));
        assertEquals(-1, Bootstrap.locateDescription(heap(bytes), record + 1, ReadLimits.DEFAULT),
                "not below the lowest offset allowed");
    }

    /**
     * The reference finds the JSON by its '{' after the last NUL: it fails when the length itself
     * holds 0x7b. Lengths 0x7b, 0x7b7b and 0x067b (a 0x06 and a '{' in the length) are found.
     */
    @ParameterizedTest
    @ValueSource(ints = {0x7b, 0x7b7b, 0x067b, 0x0606})
    void aLengthHoldingBracesAndRecordTypes(int length) {
        String json = Json.description(4096);
        json = json.substring(0, json.length() - 1) + ", \"pad\": \"" + "x".repeat(length - json.length() - 11) + "\"}";
        assertEquals(length, json.length());
        StreamBuilder b = StreamBuilder.stream().eof();
        long record = b.position();
        byte[] bytes = b.description(json).toByteArray();
        assertEquals(record, Bootstrap.locateDescription(heap(bytes), 8, ReadLimits.DEFAULT));
    }

    /** Device state that looks like a description record before the real one does not fool the scan. */
    @Test
    void aLookAlikeInTheDeviceState() {
        String json = Json.description(4096);
        StreamBuilder b = StreamBuilder.stream();
        // 0x06, a length that would reach the end, '{': written before the real record
        long fake = b.position();
        b.u8(6).u32(0).u8('{');
        b.eof();
        long record = b.position();
        byte[] bytes = b.description(json).toByteArray();
        ByteBuffer.wrap(bytes).putInt((int) fake + 1, (int) (bytes.length - fake - 5));
        assertEquals(record, Bootstrap.locateDescription(heap(bytes), 8, ReadLimits.DEFAULT), "the last one wins");
    }

    @Test
    void whitespaceAfterTheJsonCountsInItsLength() {
        StreamBuilder b = StreamBuilder.stream().eof();
        long record = b.position();
        byte[] bytes = b.description(Json.description(4096) + "\n \t").toByteArray();
        assertEquals(record, Bootstrap.locateDescription(heap(bytes), 8, ReadLimits.DEFAULT));
    }

    @Test
    void noDescription() {
        assertEquals(-1, Bootstrap.locateDescription(heap(StreamBuilder.stream().eof().toByteArray()), 8,
                ReadLimits.DEFAULT), "suppress-vmdesc");
        byte[] trailing = StreamBuilder.stream().eof().description(Json.description(4096)).u8(0).toByteArray();
        assertEquals(-1, Bootstrap.locateDescription(heap(trailing), 8, ReadLimits.DEFAULT), "a byte after the JSON");
        byte[] wrongLength = StreamBuilder.stream().eof().u8(6).u32(10).bytes("{}".getBytes(StandardCharsets.US_ASCII))
                .toByteArray();
        assertEquals(-1, Bootstrap.locateDescription(heap(wrongLength), 8, ReadLimits.DEFAULT),
                "a length that does not reach the end");
        assertEquals(-1, Bootstrap.locateDescription(heap(StreamBuilder.stream().toByteArray()), 8, ReadLimits.DEFAULT),
                "nothing after the header");
    }

    /** Within the limit, found; further back than it allows, a LimitExceededException, not "none". */
    @Test
    void overTheDescriptionLimit() {
        StreamBuilder b = StreamBuilder.stream().eof();
        long record = b.position();
        String json = Json.description(4096);
        byte[] bytes = b.description(json).toByteArray();
        ReadLimits exact = ReadLimits.builder().maxDescriptionBytes(json.length()).build();
        assertEquals(record, Bootstrap.locateDescription(heap(bytes), 8, exact));
        ReadLimits below = ReadLimits.builder().maxDescriptionBytes(json.length() - 1).build();
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> Bootstrap.locateDescription(heap(bytes), 8, below));
        assertEquals("too many bytes in the JSON VM description: " + json.length() + ", over the limit of "
                + (json.length() - 1) + " (see ReadLimits)", e.problem());
        assertEquals(record, e.eventOffset());
    }

    /** Through the reader, each source kind: the same checks, at the same offsets. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void throughTheReader(SourceKind kind) {
        byte[] xml = XML.getBytes(StandardCharsets.UTF_8);
        byte[] bytes = StreamBuilder.empty().libvirtHeader(xml, ByteOrder.BIG_ENDIAN, 0).header(0x5145564d, 4).eof()
                .description(Json.description(4096)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> kind.open(bytes).close());
        assertEquals("expected stream version 3, found 4", e.problem());
        assertEquals(92 + xml.length + 4, e.eventOffset());
    }
}
