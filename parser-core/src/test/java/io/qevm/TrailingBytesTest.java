package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.describe;
import static io.qevm.ReaderTests.trace;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JSON description when bytes follow it: a state volume (Proxmox VE's
 * {@code vm-ID-state-NAME}, zeros after the stream), a reused one (an older stream's bytes
 * after), a file padded to a block. The description is the one that ends the file when there is
 * one, else the first after QEMU_VM_EOF from the device state on; what follows is ignored and
 * counted ({@link MigrationReader#trailingBytes()}). Every kind of source reads the same events
 * as from the stream alone; a file knows the count from the start, a stream with the
 * description, when it ends within 16 MiB after it.
 */
final class TrailingBytesTest {

    private static final int BUFFER = 512;
    private static final String DEV = Json.device("dev", 0, 1, Json.field("a", "uint32", 4),
            Json.field("buf", "buffer", BUFFER));
    private static final String TIMER = Json.device("timer", 0, 2, Json.field("t", "int64", 8));
    private static final String DESCRIPTION = ReaderTests.desc(DEV, TIMER);
    /** How far a stream is read past its description (RecordScanner.TRAILER_READ_BYTES). */
    private static final int READ_PAST = 16 << 20;

    /**
     * CONFIGURATION, RAM (a page), device {@code dev} (a = 7, buf = {@code buffer}), device
     * {@code timer}, QEMU_VM_EOF, then the VMDESCRIPTION record of {@code description}.
     */
    private static byte[] dump(byte[] buffer, String description) {
        if (buffer.length != BUFFER) {
            throw new IllegalArgumentException("buf has " + BUFFER + " bytes");
        }
        return ReaderStreamTest.ramThenTimer().sectionFull(2, "dev", 0, 1).u32(7).bytes(buffer).footer(2)
                .sectionFull(3, "timer", 0, 2).u64(9).footer(3).eof().description(description).toByteArray();
    }

    private static byte[] dump() {
        return dump(StreamBuilder.pattern(BUFFER, 3), DESCRIPTION);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** The VMDESCRIPTION record of {@code json}: 0x06, u32 length, the text. */
    private static byte[] record(String json) {
        return StreamBuilder.empty().description(json).toByteArray();
    }

    /** Bytes a reused volume might hold: SHA-256 of a counter, as in the stale-tail sample. */
    private static byte[] stale(int length) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (long i = 0; out.size() < length; i++) {
                out.writeBytes(sha.digest(Long.toString(i).getBytes(StandardCharsets.US_ASCII)));
            }
            return Arrays.copyOf(out.toByteArray(), length);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * {@code bytes} (a stream, then {@code trailing} more bytes) reads, from every kind of source,
     * as {@code stream} alone does from a heap array, the description at the same offset; a file
     * counts the bytes after from the start, a stream from when it knows the description.
     */
    private static void readsAsTheStreamAlone(byte[] bytes, byte[] stream, long trailing) {
        assertArrayEquals(stream, Arrays.copyOf(bytes, stream.length), "the stream comes first");
        List<String> expected = trace(SourceKind.HEAP, stream, ReadOptions.DEFAULT);
        long jsonAt;
        try (MigrationReader alone = SourceKind.HEAP.open(stream)) {
            jsonAt = alone.descriptionJsonOffset();
            assertEquals(0, alone.trailingBytes(), "a stream that ends its file");
        }
        for (SourceKind kind : SourceKind.values()) {
            boolean file = kind != SourceKind.STREAM;
            try (MigrationReader reader = kind.open(bytes)) {
                assertEquals(file ? trailing : -1, reader.trailingBytes(), kind + ": at open");
                List<String> events = new ArrayList<>();
                do {
                    reader.next();
                    events.add(describe(reader));
                    if (!reader.isDescriptionKnown()) {
                        assertEquals(-1, reader.trailingBytes(), kind + ": before the description");
                    } else {
                        assertEquals(trailing, reader.trailingBytes(), kind + ": with the description");
                        assertEquals(jsonAt, reader.descriptionJsonOffset(), kind + ": where the description is");
                    }
                } while (reader.currentEvent() != MigrationEvent.EOF);
                assertEquals(expected, events, kind + ": the events");
            }
        }
    }

    // ------------------------------------------------------------------ what follows the stream

    /** A state volume or a padded file: zeros. Beyond 16 MiB, a stream does not count them. */
    @ParameterizedTest
    @ValueSource(ints = {1, 1023, 4096, 3 << 20})
    void zeros(int zeros) {
        byte[] stream = dump();
        readsAsTheStreamAlone(concat(stream, new byte[zeros]), stream, zeros);
    }

    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void moreThan16MiBOfZerosAreNotCountedOnAStream(SourceKind kind) {
        byte[] stream = dump();
        byte[] bytes = concat(stream, new byte[READ_PAST + 1]);
        try (MigrationReader reader = kind.open(bytes)) {
            CleanFailure.drain(reader, 1000);
            assertEquals(kind == SourceKind.STREAM ? -1 : READ_PAST + 1, reader.trailingBytes());
        }
        bytes = concat(stream, new byte[READ_PAST]);
        try (MigrationReader reader = kind.open(bytes)) {
            CleanFailure.drain(reader, 1000);
            assertEquals(READ_PAST, reader.trailingBytes(), "16 MiB exactly: counted");
        }
    }

    /** A volume reused without being cleared: whatever bytes follow, 0x00 and 0x06 among them. */
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 1000, 128 << 10})
    void staleBytes(int length) {
        byte[] stream = dump();
        readsAsTheStreamAlone(concat(stream, stale(length)), stream, length);
    }

    /**
     * A reused volume: an older, longer stream of the same VM was written there before, with
     * other device state and a description of its own (other fields); this one overwrote its
     * start; zeros or stale bytes after (the volume is larger than both). The older
     * description, later in the volume, is not this stream's.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anOlderStreamUnderneath(boolean zeros) {
        byte[] stream = dump();
        byte[] volume = concat(stream, olderTail(stream.length), zeros ? new byte[4096] : stale(4096));
        readsAsTheStreamAlone(volume, stream, volume.length - stream.length);
    }

    /**
     * The limit of "the description that ends the file first": an older stream whose end is
     * exactly the file's (a file rewritten in place, shorter, not truncated) has the description
     * at the end, and every kind takes it, as a file whose description ends it always did; the
     * device state, which it does not describe, then fails to read, cleanly and alike.
     */
    @org.junit.jupiter.api.Test
    void anOlderStreamThatEndsTheFile() {
        byte[] stream = dump();
        byte[] file = concat(stream, olderTail(stream.length));
        long timerAt = indexOf(stream, StreamBuilder.empty().sectionFull(3, "timer", 0, 2).toByteArray());
        MalformedStreamException e = CleanFailure.assertFails(MalformedStreamException.class, file);
        CleanFailure.assertFailure(e, timerAt, Messages.undescribedSection("timer", 0));
    }

    /** The bytes past {@code from} of an older stream of the same VM, longer, with a dev of other fields. */
    private static byte[] olderTail(int from) {
        String olderDev = Json.device("dev", 0, 1, Json.field("a", "uint64", 8), Json.field("buf", "buffer", BUFFER - 4));
        StreamBuilder older = ReaderStreamTest.ramThenTimer();
        for (int i = 0; i < 3; i++) {
            older.page(PAGE * i, "pc.ram", StreamBuilder.pattern(PAGE, 40 + i));
        }
        byte[] olderStream = older.sectionFull(2, "dev", 0, 1).u64(5).bytes(new byte[BUFFER - 4]).footer(2).eof()
                .description(ReaderTests.desc(olderDev)).toByteArray();
        assertTrue(olderStream.length > from + 100);
        return Arrays.copyOfRange(olderStream, from, olderStream.length);
    }

    /** Another stream's QEMU_VM_EOF and description right after this one's, then zeros. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void anotherDescriptionRightAfter(SourceKind kind) {
        byte[] stream = dump();
        byte[] other = concat(new byte[] {0}, record(ReaderTests.desc(TIMER)), new byte[5000]);
        readsAsTheStreamAlone(concat(stream, other), stream, other.length);
    }

    // ------------------------------------------------------------------ what the device state holds

    /**
     * Device state that looks like the end of a stream (a guest writes a device's buffer): each
     * is refused as the description (it is no description, too long, runs past its bytes, does
     * not describe the device state it would end), the real one is read; with bytes after the
     * stream (the search forward is then what finds it, on every kind) and without.
     */
    @ParameterizedTest
    @MethodSource("fakes")
    void descriptionLikeBytesInTheDeviceState(String what, byte[] fake) {
        assertTrue(fake.length <= BUFFER, what + " fits the buffer");
        byte[] buffer = Arrays.copyOf(fake, BUFFER);
        Arrays.fill(buffer, fake.length, BUFFER, (byte) 0x11);
        byte[] stream = dump(buffer, DESCRIPTION);
        readsAsTheStreamAlone(stream, stream, 0);
        readsAsTheStreamAlone(concat(stream, new byte[3000]), stream, 3000);
        readsAsTheStreamAlone(concat(stream, stale(3000)), stream, 3000);
    }

    static Stream<Arguments> fakes() {
        byte[] eof = {0};
        return Stream.of(
                Arguments.of("not JSON", concat(eof, record("{garbage}"))),
                Arguments.of("JSON, not a description", concat(eof, record("{\"devices\": 5}"))),
                Arguments.of("a description of no device", concat(eof, record("{\"page_size\": 4096, \"devices\": []}"))),
                Arguments.of("a description of another device", concat(eof, record(ReaderTests.desc(TIMER)))),
                Arguments.of("a length over the limit", concat(eof, new byte[] {6, -1, -1, -1, -1, '{', '}'})),
                Arguments.of("a length past the buffer (the footer's zeros follow)",
                        concat(eof, new byte[] {6, 0, 0, 0, 100, '{'})),
                Arguments.of("a length past the end", concat(eof, new byte[] {6, 0, 0, 0x10, 0, '{'})),
                Arguments.of("no QEMU_VM_EOF before", concat(new byte[] {1}, record(ReaderTests.desc(DEV)))));
    }

    /**
     * A fake that passes for this stream's description (it describes the device state it would
     * end) but does not end the device stream: with nothing after the stream, every kind reads
     * the real description, at the end; with bytes after, every kind takes the fake, and fails
     * cleanly, alike, where the device stream runs into it.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFakeOfThisStreamsDescriptionFailsCleanly(boolean bytesAfter) {
        byte[] buffer = Arrays.copyOf(concat(new byte[] {0}, record(ReaderTests.desc(DEV))), BUFFER);
        byte[] stream = dump(buffer, DESCRIPTION);
        if (!bytesAfter) {
            readsAsTheStreamAlone(stream, stream, 0);
            return;
        }
        int bufAt = indexOf(stream, buffer);
        long fakeRecord = bufAt + 1;
        TruncatedInputException e = CleanFailure.assertFails(TruncatedInputException.class,
                concat(stream, new byte[1000]));
        CleanFailure.assertFailure(e, bufAt, fakeRecord, Messages.truncated("field 'buf'", BUFFER,
                Messages.endOfRegion(Messages.DESCRIPTION_REGION, fakeRecord)));
    }

    /**
     * The limit of a search forward: a fake that ends the device stream exactly (it describes
     * the device up to the buffer it is in, and the buffer holds QEMU_VM_EOF there) is, with
     * bytes after the stream, taken as the description on every kind alike: the device state
     * after it is read as bytes after the stream. Only a description at the end of the file or
     * input (where the stream ends within 16 MiB after the fake) is beyond a guest's reach.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFakeThatEndsTheDeviceStreamIsTakenOnlyWhenBytesFollow(boolean bytesAfter) {
        String fake = ReaderTests.desc(Json.device("dev", 0, 1, Json.field("a", "uint32", 4)));
        byte[] buffer = Arrays.copyOf(concat(new byte[] {0}, record(fake)), BUFFER);
        byte[] stream = dump(buffer, DESCRIPTION);
        if (!bytesAfter) {
            readsAsTheStreamAlone(stream, stream, 0);
            return;
        }
        byte[] bytes = concat(stream, new byte[1000]);
        int bufAt = indexOf(stream, buffer);
        List<String> events = trace(bytes);
        assertEquals(List.of("SECTION_START FULL dev #2", "FIELD a UNSIGNED 7", "SECTION_END", "EOF"),
                events.subList(events.size() - 4, events.size()));
        try (MigrationReader reader = SourceKind.STREAM.open(bytes)) {
            CleanFailure.drain(reader, 1000);
            assertEquals(bufAt + 1 + 5, reader.descriptionJsonOffset());
            assertEquals(bytes.length - (bufAt + 1 + 5 + fake.length()), reader.trailingBytes());
        }
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    // ------------------------------------------------------------------ hostile trailers, no description

    /**
     * No description, then bytes that look like one: each kind reads to the device state, finds
     * none, and says so at the end of the input, as for a stream with nothing after QEMU_VM_EOF.
     */
    @ParameterizedTest
    @MethodSource("notDescriptions")
    void noDescriptionThenSomethingLikeOne(String what, byte[] after) {
        byte[] stream = dump();
        int eofAt = stream.length - record(DESCRIPTION).length - 1;
        byte[] bytes = concat(Arrays.copyOf(stream, eofAt + 1), after);
        MissingDescriptionException e = CleanFailure.assertFails(MissingDescriptionException.class, bytes);
        CleanFailure.assertFailure(e, bytes.length, bytes.length, Messages.noDescription());
    }

    static Stream<Arguments> notDescriptions() {
        byte[] json = DESCRIPTION.getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                Arguments.of("zeros", new byte[4096]),
                Arguments.of("stale bytes", stale(5000)),
                Arguments.of("a length over the limit", concat(new byte[] {6, -1, -1, -1, -1}, json, new byte[100])),
                Arguments.of("cut short", Arrays.copyOf(record(DESCRIPTION), json.length - 10)),
                Arguments.of("cut short, zeros after", concat(Arrays.copyOf(record(DESCRIPTION), json.length - 10),
                        new byte[100])),
                Arguments.of("a NUL in the JSON", concat(record(DESCRIPTION.replace("\"t\"", "\"\0\"")),
                        new byte[100])),
                Arguments.of("not a description", concat(record("{\"devices\": {}}"), new byte[100])),
                Arguments.of("not ending with '}'", concat(record(DESCRIPTION + "x"), new byte[100])));
    }

    /** Without a description required: RAM is read, and reading stops at the device state, on every kind. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void noDescriptionNotRequired(SourceKind kind) {
        byte[] stream = dump();
        int eofAt = stream.length - record(DESCRIPTION).length - 1;
        byte[] bytes = concat(Arrays.copyOf(stream, eofAt + 1), stale(2000));
        ReadOptions options = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        try (MigrationReader reader = kind.open(bytes, options)) {
            CleanFailure.drain(reader, 1000);
            assertTrue(reader.isDescriptionKnown());
            assertEquals(false, reader.hasDescription());
            assertEquals(-1, reader.trailingBytes());
            assertEquals(indexOf(bytes, StreamBuilder.empty().sectionFull(2, "dev", 0, 1).toByteArray()),
                    reader.deviceStateSkippedAt());
        }
    }

    /**
     * Candidates by the hundred thousand before the description, in the device state (a
     * buffer of some MiB), each looked at once, in time linear in the bytes, whatever they are:
     * JSON that parses (a description of no device); a length of 1 MiB whose JSON holds the
     * next candidate's QEMU_VM_EOF (a NUL) early; a length of 16 MiB where the byte at that
     * length is a '}' (every byte but the headers is), which only the NUL stops from being
     * copied and parsed (16 MiB a candidate, 2 TiB in all).
     */
    @ParameterizedTest
    @MethodSource("candidates")
    void manyCandidatesTakeLinearTime(String what, byte[] block, int mib) {
        byte[] buf = new byte[mib << 20];
        for (int at = 0; at + block.length <= buf.length; at += block.length) {
            System.arraycopy(block, 0, buf, at, block.length);
        }
        String dev = Json.device("dev", 0, 1, Json.field("buf", "buffer", buf.length));
        StreamBuilder b = ReaderStreamTest.ramThenTimer().sectionFull(2, "dev", 0, 1).bytes(buf).footer(2).eof();
        byte[] stream = b.description(ReaderTests.desc(dev)).toByteArray();
        byte[] bytes = concat(stream, new byte[1 << 20]);
        for (SourceKind kind : SourceKind.values()) {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                try (MigrationReader reader = kind.open(bytes)) {
                    CleanFailure.drain(reader, 1000);
                    assertEquals(1 << 20, reader.trailingBytes());
                    assertEquals(stream.length - (long) ReaderTests.desc(dev).length(), reader.descriptionJsonOffset());
                }
            }, () -> what + " from " + kind);
        }
    }

    static Stream<Arguments> candidates() {
        byte[] eof = {0};
        byte[] braces = new byte[64];
        Arrays.fill(braces, (byte) '}');
        // 16 MiB + 10: the JSON's last byte is at offset 15 of a block 262144 blocks on, a '}'
        System.arraycopy(new byte[] {0, 6, 1, 0, 0, 10, '{'}, 0, braces, 0, 7);
        return Stream.of(
                Arguments.of("parsing", concat(eof, record("{\"devices\": []}")), 4),
                Arguments.of("a NUL early", new byte[] {0, 6, 0, 0x10, 0, 0, '{', '"', 'a'}, 4),
                Arguments.of("a NUL early, '}' at the end", braces, 24));
    }

    // ------------------------------------------------------------------ a stream holds no more than it needs

    /**
     * A state volume piped in: 2 x RAM of zeros after the stream, here 1 GiB, never in memory.
     * The reader stops reading 16 MiB (and a step) past the description; the held device state
     * is bounded by the description's end, not the input's.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void aVolumeFromAPipeIsNotReadToItsEnd(int smallHold) throws IOException {
        byte[] stream = dump();
        long zeros = 1L << 30;
        CountingInput in = new CountingInput(stream, zeros);
        ReadLimits limits = smallHold == 0 ? ReadLimits.DEFAULT
                : ReadLimits.builder().maxHeldStreamBytes((int) (stream.length - deviceStateAt(stream))).build();
        try (MigrationReader reader = MigrationReader.open(in, ReadOptions.builder().limits(limits).build())) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CleanFailure.drain(reader, 1000));
            assertEquals(-1, reader.trailingBytes());
            assertTrue(reader.hasDescription());
        }
        long readPast = in.read - stream.length;
        assertTrue(readPast <= READ_PAST + (5L << 20), "read " + readPast + " bytes past the stream");
    }

    /** The hold limit counts up to the description's end: one byte less fails, whatever follows. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void theHoldEndsWithTheDescription(int less) {
        byte[] stream = dump();
        long held = stream.length - deviceStateAt(stream);
        byte[] bytes = concat(stream, new byte[100_000]);
        ReadOptions options = ReadOptions.builder()
                .limits(ReadLimits.builder().maxHeldStreamBytes((int) held - less).build()).build();
        try (MigrationReader reader = SourceKind.STREAM.open(bytes, options)) {
            if (less == 0) {
                CleanFailure.drain(reader, 1000);
                assertEquals(-1, reader.trailingBytes(), "the hold ends where the description does: nothing read past");
            } else {
                LimitExceededException e = assertThrowsExactly(LimitExceededException.class,
                        () -> CleanFailure.drain(reader, 1000));
                assertEquals(Messages.heldTooLong(held - 1), e.problem());
                assertEquals(deviceStateAt(stream), e.eventOffset());
            }
        }
    }

    private static long deviceStateAt(byte[] stream) {
        return indexOf(stream, StreamBuilder.empty().sectionFull(2, "dev", 0, 1).toByteArray());
    }

    /** {@code stream}, then {@code zeros} zero bytes made as read; counts what was read. */
    private static final class CountingInput extends InputStream {
        private final byte[] stream;
        private final long total;
        long read;

        CountingInput(byte[] stream, long zeros) {
            this.stream = stream;
            this.total = stream.length + zeros;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (read >= total) {
                return -1;
            }
            int n = (int) Math.min(len, total - read);
            for (int i = 0; i < n; i++) {
                long at = read + i;
                b[off + i] = at < stream.length ? stream[(int) at] : 0;
            }
            read += n;
            return n;
        }
    }

    // ------------------------------------------------------------------ a file whose description ends it

    /**
     * The common case costs nothing more: a file whose description ends it knows it at open
     * without reading its records (a record that is broken fails only when the reader reaches
     * it). When bytes follow, the records up to the device state are read at open to find it:
     * the broken record stops that pass, and the file is one without a description.
     */
    @ParameterizedTest
    @EnumSource(value = SourceKind.class, names = {"MAPPED", "HEAP"})
    void aDescriptionAtTheEndIsFoundWithoutReadingTheRecords(SourceKind kind) {
        StreamBuilder b = StreamBuilder.stream().configuration("pc").targetPageBits(12);
        ReaderTests.ramSetup(b, 1, "pc.ram", 0x2000L);
        long broken = b.position();
        byte[] stream = b.u8(0x55).eof().description(DESCRIPTION).toByteArray();
        try (MigrationReader reader = kind.open(stream)) {
            assertTrue(reader.hasDescription());
            assertEquals(0, reader.trailingBytes());
            MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class,
                    () -> CleanFailure.drain(reader, 1000));
            CleanFailure.assertFailure(e, broken, Messages.unknownRecord(0x55));
        }
        byte[] volume = concat(stream, new byte[100]);
        MissingDescriptionException e = assertThrowsExactly(MissingDescriptionException.class, () -> kind.open(volume));
        CleanFailure.assertFailure(e, volume.length, volume.length, Messages.noDescription());
    }

    // ------------------------------------------------------------------ the real samples

    /**
     * The real samples with bytes after them read as the dumps they were made from: zeros up
     * to a whole number of MiB plus 3 MiB (a-pc-paused-volume); padding to 1 KiB and 128 KiB of
     * stale bytes (n-q35-devices-stale-tail).
     */
    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused-volume a-pc-paused", "n-q35-devices-stale-tail n-q35-devices"})
    void realSamples(String names) {
        String[] pair = names.split(" ");
        byte[] volume = CleanFailure.sample(pair[0]);
        byte[] stream = CleanFailure.sample(pair[1]);
        readsAsTheStreamAlone(volume, stream, volume.length - stream.length);
    }
}
