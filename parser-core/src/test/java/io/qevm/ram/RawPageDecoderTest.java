package io.qevm.ram;

import static io.qevm.ram.RamTesting.PAGE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.PageEncoding;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import io.qevm.exc.TruncatedInputException;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link RawPageDecoder}: RAM_SAVE_FLAG_PAGE's bytes, handed out as a view of the stream. */
final class RawPageDecoderTest {

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aPageIsAViewOfTheStream(boolean stream) {
        byte[] data = StreamBuilder.pattern(PAGE, 3);
        byte[] bytes = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_PAGE).bytes(data).u8(0x10)
                .toByteArray();
        RamTesting.Cursor c = RamTesting.cursor(bytes, stream).startRecord(MigrationEvent.RAM_PAGE);
        c.in().be64();
        RamPage page = RamTesting.page(PAGE, 4 * PAGE);
        new RawPageDecoder().read(c.in(), page);
        assertEquals(PageEncoding.RAW, page.encoding);
        assertEquals(8, page.sourceOffset, "the bytes' offset in the stream");
        assertEquals(8 + PAGE, c.in().position());
        assertEquals(c.in().segment(), page.data, "the cursor's window: nothing copied");
        assertEquals(c.in().index(8), page.dataIndex);
        assertArrayEquals(data, page.data.asSlice(page.dataIndex, PAGE).toArray(ValueLayout.JAVA_BYTE));
    }

    @ParameterizedTest
    @ValueSource(ints = {1024, 2048, 65536})
    void thePageSizeIsTheRecords(int pageSize) {
        byte[] data = StreamBuilder.pattern(pageSize, pageSize);
        RamTesting.Cursor c = RamTesting.cursor(StreamBuilder.empty().bytes(data).u8(1).toByteArray(), false);
        RamPage page = RamTesting.page(pageSize, 4L * pageSize);
        new RawPageDecoder().read(c.in(), page);
        assertEquals(pageSize, c.in().position());
        assertArrayEquals(data, page.data.asSlice(page.dataIndex, pageSize).toArray(ValueLayout.JAVA_BYTE));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aPageCutShortIsTruncated(boolean stream) {
        byte[] bytes = StreamBuilder.empty().u64(PAGE | StreamBuilder.RAM_SAVE_FLAG_PAGE)
                .bytes(StreamBuilder.pattern(1000, 1)).toByteArray();
        RamTesting.Cursor c = RamTesting.cursor(bytes, stream).startRecord(MigrationEvent.RAM_PAGE);
        c.in().be64();
        TruncatedInputException e = assertThrows(TruncatedInputException.class,
                () -> new RawPageDecoder().read(c.in(), RamTesting.page(PAGE, 4 * PAGE)));
        assertEquals("expected 4096 bytes of page, found " + RamTesting.end(stream, 1008), e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(1008, e.position());
        assertEquals(8, c.in().position(), "the cursor stays before the page");
    }

    /** Through the reader: the page's bytes, and where they lie in the source. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void rawPagesThroughTheReader(SourceKind kind) {
        byte[] first = StreamBuilder.pattern(PAGE, 1);
        byte[] second = StreamBuilder.pattern(PAGE, 2);
        StreamBuilder builder = RamTesting.ram(4, PAGE);
        long firstAt = builder.position();
        builder.page(2L * PAGE, "pc.ram", first);
        long secondAt = builder.position();
        byte[] bytes = builder.page(0, null, second).eos().footer(2).eof().description(Json.description(PAGE))
                .toByteArray();
        List<RamTesting.Seen> pages = RamTesting.pages(kind, bytes);
        assertEquals(2, pages.size());
        assertEquals(firstAt, pages.get(0).offset());
        assertEquals(2L * PAGE, pages.get(0).pageOffset());
        assertEquals(PageEncoding.RAW, pages.get(0).encoding());
        assertEquals(firstAt + 8 + 1 + "pc.ram".length(), pages.get(0).sourceOffset(), "after the header and idstr");
        assertArrayEquals(first, pages.get(0).bytes());
        assertEquals(secondAt + 8, pages.get(1).sourceOffset(), "CONTINUE: no idstr");
        assertArrayEquals(second, pages.get(1).bytes());
        assertEquals(-1, Arrays.mismatch(second, pages.get(1).bytes()));
    }
}
