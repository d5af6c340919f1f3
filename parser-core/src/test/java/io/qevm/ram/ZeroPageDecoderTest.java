package io.qevm.ram;

import static io.qevm.ram.RamTesting.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.TruncatedInputException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link ZeroPageDecoder}: RAM_SAVE_FLAG_ZERO's one fill byte. */
final class ZeroPageDecoderTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsTheFillByte(boolean stream) {
        RamTesting.Cursor c = RamTesting.cursor(new byte[] {0x00, 0x5a, (byte) 0xff}, stream);
        RamPage page = RamTesting.page(PAGE, 4 * PAGE);
        ZeroPageDecoder zero = new ZeroPageDecoder();
        zero.read(c.in(), page);
        assertEquals(0, page.fill);
        assertEquals(1, c.in().position());
        zero.read(c.in(), page);
        assertEquals(0x5a, page.fill, "QEMU sends only 0; any other fill is read as given");
        zero.read(c.in(), page);
        assertEquals(0xff, page.fill, "unsigned");
        assertEquals(3, c.in().position());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aMissingFillByteIsTruncated(boolean stream) {
        byte[] header = StreamBuilder.empty().u64(3L * PAGE | StreamBuilder.RAM_SAVE_FLAG_ZERO).toByteArray();
        RamTesting.Cursor c = RamTesting.cursor(header, stream).startRecord(MigrationEvent.ZERO_PAGE);
        c.in().be64();
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> new ZeroPageDecoder().read(c.in(), RamTesting.page(PAGE, 4 * PAGE)));
        assertEquals("expected a byte, found " + RamTesting.end(stream, 8), e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(8, e.position());
        assertEquals("ZERO_PAGE", e.event());
    }

    /** Through the reader: ZERO_PAGE events carry the block, the offset in it and the fill. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void zeroPagesThroughTheReader(SourceKind kind) {
        StreamBuilder builder = RamTesting.ram(4, PAGE);
        long first = builder.position();
        builder.zeroPage(0, "pc.ram", 0);
        long second = builder.position();
        byte[] bytes = builder.zeroPage(3L * PAGE, null, 0x5a)
                .eos().footer(2).eof().description(Json.description(PAGE)).toByteArray();
        List<RamTesting.Seen> pages = RamTesting.pages(kind, bytes);
        assertEquals(2, pages.size());
        assertEquals(MigrationEvent.ZERO_PAGE, pages.get(0).event());
        assertEquals(first, pages.get(0).offset());
        assertEquals("pc.ram", pages.get(0).block());
        assertEquals(0, pages.get(0).pageOffset());
        assertEquals(0, pages.get(0).fill());
        assertEquals(second, pages.get(1).offset());
        assertEquals(3L * PAGE, pages.get(1).pageOffset(), "CONTINUE: the same block");
        assertEquals(0x5a, pages.get(1).fill());
    }
}
