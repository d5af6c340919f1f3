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
 * {@link StorageAttributesSection}: s390-storage_attributes' u64 records (hw/s390x/s390-stattrib.c),
 * skipped and checked: EOS ends a part, MORE carries a count and that many bytes, ERROR is the
 * source's failure, DONE (maybe followed by EOS) ends the last part.
 */
final class StorageAttributesSectionTest {

    private static final int EOS = StreamBuilder.STATTR_FLAG_EOS;
    private static final int MORE = StreamBuilder.STATTR_FLAG_MORE;
    private static final int DONE = StreamBuilder.STATTR_FLAG_DONE;

    private static long skip(byte[] bytes, boolean stream) {
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        StorageAttributesSection.skipPart(c.in(), c.at());
        return c.in().position();
    }

    private static MalformedStreamException malformed(byte[] bytes) {
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, false);
        c.at().startEvent(MigrationEvent.SECTION_START);
        return assertThrows(MalformedStreamException.class, () -> StorageAttributesSection.skipPart(c.in(), c.at()));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void eosEndsThePart(boolean stream) {
        assertEquals(8, skip(StreamBuilder.empty().u64(EOS).u64(-1).toByteArray(), stream));
        assertEquals(8, skip(StreamBuilder.empty().u64(0x7000_0000_0000_0000L | EOS).u64(-1).toByteArray(), stream),
                "the address bits are not flags");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void moreCarriesACountOfBytes(boolean stream) {
        StreamBuilder b = StreamBuilder.empty().u64(0x1000L << 12 | MORE).u64(5).bytes(1, 2, 3, 4, 5)
                .u64(MORE).u64(0).u64(EOS);
        long end = b.position();
        assertEquals(end, skip(b.u64(-1).toByteArray(), stream));
    }

    /** Under TCG the END part is DONE then EOS; the EOS belongs to it. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void doneThenEos(boolean stream) {
        assertEquals(16, skip(StreamBuilder.empty().u64(DONE).u64(EOS).footer(3).toByteArray(), stream));
    }

    /** DONE alone: what follows (the footer) is the next record's, and is left to it. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void doneAlone(boolean stream) {
        assertEquals(8, skip(StreamBuilder.empty().u64(DONE).footer(3).sectionEnd(2).toByteArray(), stream));
        assertEquals(8, skip(StreamBuilder.empty().u64(DONE).footer(3).toByteArray(), stream),
                "fewer than 8 bytes after it");
        assertEquals(8, skip(StreamBuilder.empty().u64(DONE).toByteArray(), stream), "nothing after it");
    }

    /** ERROR is checked before any other flag: with MORE beside it, the count is not read. */
    @Test
    void anError() {
        MalformedStreamException e = malformed(StreamBuilder.empty().u64(0x4 | MORE).u64(1).u8(0).toByteArray());
        assertEquals("found STATTR_FLAG_ERROR: the source failed to save storage attributes", e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(8, e.position(), "after the record");
    }

    @Test
    void unknownFlags() {
        MalformedStreamException e = malformed(StreamBuilder.empty().u64(MORE).u64(2).bytes(7, 7).u64(0x30)
                .toByteArray());
        assertEquals("expected storage attribute flags EOS, MORE or DONE, found 0x30", e.problem());
        assertEquals(26, e.position());
        assertEquals("expected storage attribute flags EOS, MORE or DONE, found 0x0",
                malformed(StreamBuilder.empty().u64(0).toByteArray()).problem());
    }

    @Test
    void aNegativeCount() {
        MalformedStreamException e = malformed(StreamBuilder.empty().u64(MORE).u64(-1).toByteArray());
        assertEquals("expected a storage attribute count below 2^63, found 18446744073709551615", e.problem());
        assertEquals(16, e.position());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void attributesCutShort(boolean stream) {
        byte[] bytes = StreamBuilder.empty().u64(MORE).u64(100).bytes(new byte[30]).toByteArray();
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, stream);
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> StorageAttributesSection.skipPart(c.in(), c.at()));
        assertEquals("expected 100 bytes of storage attributes, found " + RecordTesting.end(stream, 46), e.problem());
        assertEquals(46, e.position());
    }

    /** Through the reader: START and PART end with EOS, END with DONE and EOS, as TCG writes them. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void throughTheReader(SourceKind kind) {
        StreamBuilder b = StreamBuilder.stream();
        long start = b.position();
        b.sectionStart(4, "s390-storage_attributes", 0, 0).u64(EOS);
        long end1 = b.position();
        b.footer(4);
        long part = b.position();
        b.sectionPart(4).u64(MORE).u64(3).bytes(1, 2, 3).u64(EOS);
        long end2 = b.position();
        b.footer(4);
        long last = b.position();
        b.sectionEnd(4).u64(DONE).u64(EOS);
        long end3 = b.position();
        byte[] bytes = b.footer(4).eof().description(Json.description(4096)).toByteArray();
        assertEquals(List.of("SECTION_START@" + start, "SECTION_END@" + end1, "FOOTER@" + end1,
                "SECTION_START@" + part, "SECTION_END@" + end2, "FOOTER@" + end2,
                "SECTION_START@" + last, "SECTION_END@" + end3, "FOOTER@" + end3),
                RecordTesting.events(kind, bytes));
    }

    @Test
    void anErrorThroughTheReaderNamesTheSection() {
        StreamBuilder b = StreamBuilder.stream();
        long start = b.position();
        byte[] bytes = b.sectionStart(4, "s390-storage_attributes", 0, 0).u64(0x4).footer(4).eof()
                .description(Json.description(4096)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> RecordTesting.events(SourceKind.HEAP, bytes));
        assertEquals("found STATTR_FLAG_ERROR: the source failed to save storage attributes", e.problem());
        assertEquals(start, e.eventOffset());
        assertEquals("s390-storage_attributes", e.sectionName());
        assertEquals(4, e.sectionId());
    }

    @Test
    void onlyVersion0() {
        byte[] bytes = StreamBuilder.stream().sectionStart(4, "s390-storage_attributes", 0, 1).u64(EOS).footer(4).eof()
                .description(Json.description(4096)).toByteArray();
        MalformedStreamException e = assertThrows(MalformedStreamException.class,
                () -> RecordTesting.events(SourceKind.HEAP, bytes));
        assertEquals("expected s390-storage_attributes section version 0, found 1", e.problem());
    }
}
