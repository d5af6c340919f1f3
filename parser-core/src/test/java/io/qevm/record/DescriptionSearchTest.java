package io.qevm.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.ReadLimits;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.io.ByteSource;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link DescriptionSearch}: the first VMDESCRIPTION record after a QEMU_VM_EOF byte whose JSON
 * fits, holds no NUL, ends with '}' and parses as a description of the device state's first
 * section; over a file and over a stream (a few bytes a read), alike.
 */
final class DescriptionSearchTest {

    private static final String JSON = Json.description(4096, Json.device("dev", 0, 1, Json.field("a", "uint8", 1)));
    private static final byte[] RECORD = StreamBuilder.empty().description(JSON).toByteArray();

    private static byte[] concat(byte[]... parts) {
        StreamBuilder joined = StreamBuilder.empty();
        Arrays.stream(parts).forEach(joined::bytes);
        return joined.toByteArray();
    }

    /** Where the search from 0 finds a description in {@code bytes}, as a file and as a stream; -1 for none. */
    private static long find(byte[] bytes) {
        DescriptionSearch.Found file = DescriptionSearch.ofFile(ByteSource.of(bytes, "<heap>"), 0, ReadLimits.DEFAULT,
                "dev", 0).find();
        RecordTesting.Cursor c = RecordTesting.cursor(bytes, true);
        DescriptionSearch.Found stream = DescriptionSearch.ofStream(c.in(), 0, Long.MAX_VALUE / 2, ReadLimits.DEFAULT,
                "dev", 0).find();
        long at = file == null ? -1 : file.recordOffset();
        assertEquals(at, stream == null ? -1 : stream.recordOffset(), "the stream finds what the file does");
        if (file != null) {
            assertEquals(JSON, new String(file.json(), java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(at + RECORD.length, file.end());
        }
        return at;
    }

    /**
     * The scan goes eight bytes at a time: the record is found at every alignment, after bytes
     * that a word-wise test for 0x06 could mistake (0x05 and 0x07 borrow and carry next to it,
     * 0x86 has its high bit, 0x06 itself without the rest of a record).
     */
    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x05, 0x06, 0x07, 0x16, 0x86, 0xff})
    void foundAtEveryAlignment(int filler) {
        for (int before = 1; before <= 17; before++) {
            byte[] head = new byte[before];
            Arrays.fill(head, (byte) filler);
            head[before - 1] = 0; // QEMU_VM_EOF
            byte[] bytes = concat(head, RECORD, new byte[before]);
            assertEquals(before, find(bytes), "after " + before + " bytes of 0x" + Integer.toHexString(filler));
        }
    }

    @Test
    void theFirstWins() {
        byte[] bytes = concat(new byte[] {0}, RECORD, new byte[] {0}, RECORD, new byte[3]);
        assertEquals(1, find(bytes));
    }

    @Test
    void notAfterQemuVmEofOrNotFromTheStart() {
        assertEquals(-1, find(concat(new byte[] {7}, RECORD, new byte[3])), "no QEMU_VM_EOF before");
        assertEquals(-1, find(RECORD), "the byte before the search: not part of it");
        assertEquals(2, find(concat(new byte[] {7, 0}, RECORD)));
    }

    /** Refused, then the one after found: each candidate is checked on its own. */
    @Test
    void refusedCandidatesAreSkipped() {
        byte[] otherDevice = StreamBuilder.empty().description(Json.description(4096, Json.device("timer", 0, 1,
                Json.field("t", "int64", 8)))).toByteArray();
        byte[] noClose = StreamBuilder.empty().description(JSON + " x").toByteArray();
        byte[] nul = StreamBuilder.empty().description(JSON.replace("\"a\"", "\"\0\"")).toByteArray();
        byte[] tooLong = {6, 0x04, 0, 0, 1, '{'}; // 64 MiB + 1
        byte[] bytes = concat(new byte[] {0}, otherDevice, new byte[] {0}, noClose, new byte[] {0}, nul,
                new byte[] {0}, tooLong, new byte[] {0}, RECORD);
        assertEquals(bytes.length - RECORD.length, find(bytes));
        assertEquals(-1, find(Arrays.copyOf(bytes, bytes.length - 1)), "the real one cut short");
    }

    /**
     * On a stream, a description must end within the hold; one byte past it is read to tell
     * whether the stream ends there ({@link DescriptionSearch#sourceEnded}, {@code endsBy}).
     */
    @Test
    void theHold() {
        byte[] bytes = concat(new byte[] {0}, RECORD, new byte[10]);
        long end = 1 + RECORD.length;
        RecordTesting.Cursor exact = RecordTesting.cursor(bytes, true);
        DescriptionSearch within = DescriptionSearch.ofStream(exact.in(), 0, end, ReadLimits.DEFAULT, "dev", 0);
        assertEquals(1, within.find().recordOffset());
        assertFalse(within.endsBy(end + 9), "10 bytes follow");
        RecordTesting.Cursor again = RecordTesting.cursor(bytes, true);
        DescriptionSearch onMore = DescriptionSearch.ofStream(again.in(), 0, end + 100, ReadLimits.DEFAULT, "dev", 0);
        assertEquals(1, onMore.find().recordOffset());
        assertTrue(onMore.endsBy(end + 10), "10 bytes follow");
        RecordTesting.Cursor shortOne = RecordTesting.cursor(bytes, true);
        DescriptionSearch over = DescriptionSearch.ofStream(shortOne.in(), 0, end - 1, ReadLimits.DEFAULT, "dev", 0);
        assertNull(over.find());
        assertFalse(over.sourceEnded(), "stopped by the hold, the stream going on");
        RecordTesting.Cursor none = RecordTesting.cursor(new byte[100], true);
        DescriptionSearch ended = DescriptionSearch.ofStream(none.in(), 0, 1000, ReadLimits.DEFAULT, "dev", 0);
        assertNull(ended.find());
        assertTrue(ended.sourceEnded());
    }
}
