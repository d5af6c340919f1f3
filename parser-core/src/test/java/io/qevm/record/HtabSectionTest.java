package io.qevm.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link HtabSection}: spapr/htab's parts (hw/ppc/spapr.c {@code htab_save_*}), skipped and
 * checked for their framing: -1 (no hash table), a hash shift (the first part), or chunks up to
 * one of all zeros.
 */
final class HtabSectionTest {

    /** A chunk: u32 index, u16 n_valid, u16 n_invalid, n_valid 16-byte PTEs. */
    private static StreamBuilder chunk(StreamBuilder b, long index, int valid, int invalid) {
        b.u32(index).u16(valid).u16(invalid);
        for (int i = 0; i < valid; i++) {
            b.bytes(StreamBuilder.pattern(16, (int) index + i));
        }
        return b;
    }

    private static long skip(byte[] bytes, boolean stream) {
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        HtabSection.skipPart(c.in());
        return c.in().position();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void noHashTableOrTheFirstPart(boolean stream) {
        assertEquals(4, skip(StreamBuilder.empty().u32(0xffffffffL).u64(-1).toByteArray(), stream), "-1: nothing more");
        assertEquals(4, skip(StreamBuilder.empty().u32(24).u64(-1).toByteArray(), stream), "the hash shift alone");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void chunksUpToAllZeros(boolean stream) {
        StreamBuilder b = StreamBuilder.empty().u32(0);
        chunk(b, 0, 3, 0);
        chunk(b, 100, 0, 7); // invalid entries take no bytes
        chunk(b, 0, 0, 2); // index 0 but invalid entries: not the end
        chunk(b, 2000, 1, 1);
        long end = chunk(b, 0, 0, 0).position();
        byte[] bytes = b.u64(-1).toByteArray();
        assertEquals(end, skip(bytes, stream));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pteCutShort(boolean stream) {
        StreamBuilder b = StreamBuilder.empty().u32(0).u32(5).u16(4).u16(0).bytes(new byte[40]);
        RecordTesting.Cursor c = RecordTesting.cursor(b.toByteArray(), stream);
        TruncatedInputException e = assertThrows(TruncatedInputException.class, () -> HtabSection.skipPart(c.in()));
        assertEquals("expected 64 bytes of hash PTEs, found " + RecordTesting.end(stream, 52), e.problem());
        assertEquals(52, e.position());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void noEndChunk(boolean stream) {
        byte[] bytes = chunk(StreamBuilder.empty().u32(0), 1, 1, 0).toByteArray();
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        TruncatedInputException e = assertThrows(TruncatedInputException.class, () -> HtabSection.skipPart(c.in()));
        assertEquals("expected 4 bytes of a 32-bit value, found " + RecordTesting.end(stream, bytes.length),
                e.problem());
    }

    /** Through the reader: START with the hash shift, PART with chunks, END with -1; nothing between start and end. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void throughTheReader(SourceKind kind) {
        StreamBuilder b = StreamBuilder.stream();
        long start = b.position();
        b.sectionStart(5, "spapr/htab", 0, 1).u32(24);
        long end1 = b.position();
        b.footer(5);
        long part = b.position();
        chunk(chunk(b.sectionPart(5).u32(0), 7, 2, 3), 0, 0, 0);
        long end2 = b.position();
        b.footer(5);
        long last = b.position();
        b.sectionEnd(5).u32(0xffffffffL);
        long end3 = b.position();
        long footer3 = end3;
        byte[] bytes = b.footer(5).eof().description(Json.description(65536)).toByteArray();
        assertEquals(List.of("SECTION_START@" + start, "SECTION_END@" + end1, "FOOTER@" + end1,
                "SECTION_START@" + part, "SECTION_END@" + end2, "FOOTER@" + end2,
                "SECTION_START@" + last, "SECTION_END@" + end3, "FOOTER@" + footer3),
                RecordTesting.events(kind, bytes));
    }

    @Test
    void onlyVersion1() {
        StreamBuilder b = StreamBuilder.stream();
        long start = b.position();
        byte[] bytes = b.sectionStart(5, "spapr/htab", 0, 2).u32(24).footer(5).eof()
                .description(Json.description(65536)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> RecordTesting.events(SourceKind.HEAP, bytes));
        assertEquals("expected spapr/htab section version 1, found 2", e.problem());
        assertEquals(start, e.eventOffset());
        assertEquals(MigrationEvent.SECTION_START.name(), e.event());
    }
}
