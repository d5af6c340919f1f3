package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.bytes;
import static io.qevm.ReaderTests.desc;
import static io.qevm.ReaderTests.describe;
import static io.qevm.ReaderTests.expect;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.ReaderTests.trace;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MissingDescriptionException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a stream read once, forward, does that a file does not: its JSON description, which QEMU
 * writes last, is found only when the reader reaches the device state (which it then holds,
 * bounded by {@link ReadLimits#maxHeldStreamBytes()}); opening a FIFO by its path; closing the
 * {@link InputStream} it was given. Each difference is asserted against the other kinds.
 */
final class ReaderStreamTest {

    static final String TIMER = Json.device("timer", 0, 2, Json.field("t", "int64", 8));

    /** CONFIGURATION, RAM (START and END, a page), then the device {@code timer}, EOF, and {@code json}. */
    static StreamBuilder ramThenTimer() {
        StreamBuilder b = stream().configuration("pc").targetPageBits(12);
        ramSetup(b, 1, "pc.ram", 0x2000L);
        return b.sectionEnd(1).page(0x1000, "pc.ram", pattern(PAGE, 1)).eos().footer(1);
    }

    // ------------------------------------------------------------------ the description

    /**
     * A file knows its description when opened; a stream knows nothing of it through RAM, and
     * all of it at the first device section, which it needs it for.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void descriptionKnownOnAStreamOnlyAtTheDeviceState(SourceKind kind) {
        StreamBuilder b = ramThenTimer();
        long timerAt = b.position();
        b.sectionFull(2, "timer", 0, 2).u64(7).footer(2);
        long eofAt = b.position();
        String json = desc(TIMER);
        byte[] bytes = b.eof().description(json).toByteArray();
        boolean file = kind != SourceKind.STREAM;
        try (MigrationReader reader = kind.open(bytes)) {
            for (int event = 0; event < 1 + 4 + 4; event++) { // CONFIGURATION, both RAM records
                assertEquals(file, reader.isDescriptionKnown(), "before event " + event);
                assertEquals(file, reader.hasDescription());
                assertEquals(file ? eofAt + 1 + 5 : -1, reader.descriptionJsonOffset());
                if (file) {
                    assertEquals(json, new String(bytes(reader.descriptionJson()), StandardCharsets.UTF_8));
                } else {
                    assertEquals("the JSON description of a stream is read when the reader reaches the device state:"
                            + " call next() until isDescriptionKnown()",
                            assertThrowsExactly(IllegalStateException.class, reader::descriptionJson).getMessage());
                }
                reader.next();
            }
            assertEquals(MigrationEvent.FOOTER, reader.currentEvent());
            assertEquals(file, reader.isDescriptionKnown(), "RAM read through");
            expect(reader, MigrationEvent.SECTION_START);
            assertEquals(timerAt, reader.eventOffset());
            assertTrue(reader.isDescriptionKnown());
            assertTrue(reader.hasDescription());
            assertEquals(eofAt + 1 + 5, reader.descriptionJsonOffset());
            assertEquals(json, new String(bytes(reader.descriptionJson()), StandardCharsets.UTF_8));
            assertTrue(reader.descriptionJson().isReadOnly());
            assertEquals(bytes.length, reader.sourceSize(), "the stream is held to its end");
            expect(reader, MigrationEvent.FIELD);
            assertEquals(7, reader.fieldLongValue());
        }
    }

    /** A stream with no device state finds its description at EOF. */
    @Test
    void descriptionOfARamOnlyStreamAtEof() {
        byte[] bytes = ramThenTimer().eof().description(desc()).toByteArray();
        try (MigrationReader reader = SourceKind.STREAM.open(bytes)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                assertFalse(reader.isDescriptionKnown(), e.name());
            }
            assertTrue(reader.isDescriptionKnown());
            assertTrue(reader.hasDescription());
            assertEquals(desc(), new String(bytes(reader.descriptionJson()), StandardCharsets.UTF_8));
        }
    }

    /**
     * No description, none required: each kind reads RAM and stops (EOF) at the device state,
     * which it cannot decode; a stream learns only there that there is none.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void withoutADescriptionEveryKindStopsAtTheDeviceState(SourceKind kind) {
        StreamBuilder b = ramThenTimer();
        long timerAt = b.position();
        byte[] bytes = b.sectionFull(2, "timer", 0, 2).u64(7).footer(2).eof().toByteArray();
        ReadOptions options = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION).build();
        assertEquals(List.of("CONFIGURATION pc caps=[] bits=12", "SECTION_START START ram #1",
                "RAM_BLOCK pc.ram 0x2000", "SECTION_END", "FOOTER #1", "SECTION_START END ram #1",
                "RAM_PAGE pc.ram@0x1000 RAW", "SECTION_END", "FOOTER #1", "EOF"), trace(bytes, options));
        try (MigrationReader reader = kind.open(bytes, options)) {
            assertEquals(kind != SourceKind.STREAM, reader.isDescriptionKnown());
            ReaderTests.skip(reader, 9);
            assertEquals(kind != SourceKind.STREAM, reader.isDescriptionKnown());
            expect(reader, MigrationEvent.EOF);
            assertTrue(reader.isDescriptionKnown());
            assertFalse(reader.hasDescription());
            assertEquals(timerAt, reader.deviceStateSkippedAt());
            assertEquals("the stream has no JSON description",
                    assertThrowsExactly(IllegalStateException.class, reader::descriptionJson).getMessage());
        }
    }

    /**
     * No description, one required (the default): a file fails when opened; a stream reads RAM
     * and fails at the device state. The same exception, at the same offset (the end).
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void aMissingDescriptionFailsAFileAtOpenAndAStreamAtTheDeviceState(SourceKind kind) {
        byte[] bytes = ramThenTimer().sectionFull(2, "timer", 0, 2).u64(7).footer(2).eof().toByteArray();
        List<String> seen = new ArrayList<>();
        MissingDescriptionException e = assertThrowsExactly(MissingDescriptionException.class, () -> {
            try (MigrationReader reader = kind.open(bytes)) {
                while (true) {
                    reader.next();
                    seen.add(describe(reader));
                }
            }
        });
        assertEquals(bytes.length, e.eventOffset());
        assertTrue(e.problem().startsWith("expected a JSON VM description (QEMU_VM_VMDESCRIPTION record)"),
                e.problem());
        assertEquals(kind == SourceKind.STREAM ? 9 : 0, seen.size(), seen.toString());
    }

    // ------------------------------------------------------------------ the held device state

    /** A device state of {@code fieldBytes}, for the holding limit; returns the stream, notes where it starts. */
    static byte[] bigDevice(int fieldBytes, long[] deviceAt) {
        StreamBuilder b = ramThenTimer();
        deviceAt[0] = b.position();
        return b.sectionFull(2, "blob", 0, 1).bytes(pattern(fieldBytes, 5)).footer(2).eof()
                .description(desc(Json.device("blob", 0, 1, Json.field("b", "buffer", fieldBytes)))).toByteArray();
    }

    /**
     * A stream holds everything from its first device section to its end (the description
     * included) until the description is read: more than maxHeldStreamBytes is an error there; a
     * file holds nothing, so the limit does not apply.
     */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void heldDeviceStateOverTheLimit(SourceKind kind) {
        long[] deviceAt = new long[1];
        byte[] bytes = bigDevice(3000, deviceAt);
        int held = (int) (bytes.length - deviceAt[0]);
        ReadLimits exact = ReadLimits.builder().maxHeldStreamBytes(held).build();
        ReadLimits under = ReadLimits.builder().maxHeldStreamBytes(held - 1).build();
        assertEquals(List.of("SECTION_START FULL blob #2"), trace(bytes, ReadOptions.builder().limits(exact).build())
                .subList(9, 10));
        List<String> events = new ArrayList<>();
        Runnable read = () -> {
            try (MigrationReader reader = kind.open(bytes, ReadOptions.builder().limits(under).build())) {
                for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                    events.add(e.name());
                }
            }
        };
        if (kind != SourceKind.STREAM) {
            read.run();
            assertEquals(13, events.size(), events.toString());
            return;
        }
        LimitExceededException e = assertThrowsExactly(LimitExceededException.class, read::run);
        assertEquals("more than " + (held - 1) + " bytes of device state follow the first device section of the"
                + " stream, held until the JSON VM description after them arrives (see"
                + " ReadLimits.maxHeldStreamBytes)", e.problem());
        assertEquals(deviceAt[0], e.eventOffset());
        assertEquals(9, events.size(), "RAM read through before: " + events);
    }

    /** The limit counts bytes, whatever the window the stream source starts with (4 MiB). */
    @Test
    void heldDeviceStateOverALimitAboveTheWindow() {
        long[] deviceAt = new long[1];
        byte[] bytes = bigDevice(5 << 20, deviceAt);
        int held = (int) (bytes.length - deviceAt[0]);
        for (int limit : new int[] {held, held - 1}) {
            ReadOptions options = ReadOptions.builder().limits(ReadLimits.builder().maxHeldStreamBytes(limit)
                    .maxFieldBytes(8 << 20).build()).build();
            try (MigrationReader reader = SourceKind.STREAM.open(bytes, options)) {
                ReaderTests.skip(reader, 9);
                if (limit == held) {
                    expect(reader, MigrationEvent.SECTION_START);
                } else {
                    assertEquals(deviceAt[0], assertThrowsExactly(LimitExceededException.class, reader::next)
                            .eventOffset());
                }
            }
        }
    }

    // ------------------------------------------------------------------ opening a FIFO, closing a stream

    /** open(Path) on a FIFO reads it as a stream, event for event as the same bytes in a file. */
    @Test
    @Timeout(60)
    void fifoByPathReadsAsTheFile(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("qevm.fifo");
        boolean made;
        try {
            made = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor() == 0;
        } catch (IOException noMkfifo) {
            made = false;
        }
        assumeTrue(made, "mkfifo is needed to make a FIFO");
        StreamBuilder b = ramThenTimer().sectionFull(2, "timer", 0, 2).u64(7).footer(2);
        byte[] bytes = b.eof().description(desc(TIMER)).toByteArray();
        Path file = dir.resolve("same.mig");
        Files.write(file, bytes);
        List<String> fromFile = read(file);
        Thread writer = Thread.ofPlatform().start(() -> {
            try (OutputStream out = Files.newOutputStream(fifo)) {
                for (int at = 0; at < bytes.length; at += 100) {
                    out.write(bytes, at, Math.min(100, bytes.length - at));
                    out.flush();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        List<String> fromFifo;
        try (MigrationReader reader = MigrationReader.open(fifo)) {
            assertFalse(reader.isRandomAccess());
            assertEquals(fifo.toString(), reader.sourceName());
            fromFifo = events(reader);
        }
        writer.join();
        assertEquals(fromFile, fromFifo);
        assertTrue(fromFifo.getLast().startsWith("EOF at "), fromFifo.getLast());
    }

    private static List<String> read(Path file) throws IOException {
        try (MigrationReader reader = MigrationReader.open(file)) {
            assertTrue(reader.isRandomAccess());
            return events(reader);
        }
    }

    private static List<String> events(MigrationReader reader) {
        List<String> lines = new ArrayList<>();
        for (MigrationEvent e = reader.next(); ; e = reader.next()) {
            lines.add(describe(reader) + " at " + reader.eventOffset());
            if (e == MigrationEvent.EOF) {
                return lines;
            }
        }
    }

    /** An InputStream that counts how often it is closed. */
    static final class Closing extends ByteArrayInputStream {
        final AtomicInteger closed = new AtomicInteger();

        Closing(byte[] bytes) {
            super(bytes);
        }

        @Override
        public void close() throws IOException {
            closed.incrementAndGet();
            super.close();
        }
    }

    /** open(InputStream) reads the stream and closes it on close(), which throws nothing and may be repeated. */
    @Test
    void openInputStreamClosesItOnClose() throws IOException {
        byte[] bytes = ramThenTimer().eof().description(desc()).toByteArray();
        Closing in = new Closing(bytes);
        MigrationReader reader = MigrationReader.open(in, ReadOptions.DEFAULT);
        assertEquals("<stream>", reader.sourceName());
        assertFalse(reader.isRandomAccess());
        expect(reader, MigrationEvent.CONFIGURATION);
        assertEquals(0, in.closed.get(), "open while reading");
        reader.close();
        assertEquals(1, in.closed.get());
        reader.close();
        assertEquals(1, in.closed.get(), "closed once");
    }

    /** A stream that is not a migration stream is closed by the failed open, as the reader is never handed out. */
    @Test
    void openInputStreamClosesItWhenOpeningFails() {
        Closing in = new Closing("not a migration stream".getBytes(StandardCharsets.US_ASCII));
        MalformedStreamException e = assertThrowsExactly(MalformedStreamException.class,
                () -> MigrationReader.open(in, ReadOptions.DEFAULT));
        assertEquals(0, e.eventOffset());
        assertEquals(1, in.closed.get());
    }

    /** The same for a stream that ends inside its header. */
    @Test
    void openInputStreamClosesItWhenItEndsInTheHeader() {
        Closing in = new Closing(new byte[] {0x51, 0x45});
        assertThrowsExactly(io.qevm.exc.TruncatedInputException.class, () -> MigrationReader.open(in,
                ReadOptions.DEFAULT));
        assertEquals(1, in.closed.get());
    }

    /** Read as a stream through its channel, a FileInputStream reads as the file does. */
    @Test
    void openFileInputStreamReadsAsTheFile(@TempDir Path dir) throws IOException {
        byte[] bytes = ramThenTimer().sectionFull(2, "timer", 0, 2).u64(7).footer(2).eof().description(desc(TIMER))
                .toByteArray();
        Path file = dir.resolve("x.mig");
        Files.write(file, bytes);
        List<String> fromStream;
        try (InputStream in = Files.newInputStream(file);
             MigrationReader reader = MigrationReader.open(in, ReadOptions.DEFAULT)) {
            assertFalse(reader.isRandomAccess());
            fromStream = events(reader);
        }
        try (InputStream in = new java.io.FileInputStream(file.toFile());
             MigrationReader reader = MigrationReader.open(in, ReadOptions.DEFAULT)) {
            assertEquals(fromStream, events(reader));
        }
        assertEquals(read(file), fromStream);
    }
}
