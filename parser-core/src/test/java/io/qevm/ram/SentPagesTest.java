package io.qevm.ram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link SentPages}: one bit a page sent, per block, in chunks made as pages arrive. */
final class SentPagesTest {

    @Test
    void aPageIsNewOnceThenResent() {
        SentPages sent = new SentPages();
        assertFalse(sent.mark(0, 5));
        assertTrue(sent.mark(0, 5));
        assertTrue(sent.mark(0, 5));
        assertFalse(sent.mark(0, 4), "its neighbour");
        assertFalse(sent.mark(0, 6));
        assertFalse(sent.mark(1, 5), "the same page of another block");
        assertTrue(sent.mark(1, 5));
    }

    /** Pages on both sides of a chunk (32 Ki pages), of a 64-bit word, and far apart. */
    @Test
    void chunkAndWordBoundaries() {
        SentPages sent = new SentPages();
        long[] pages = {0, 63, 64, 32_767, 32_768, 32_769, 65_535, 65_536, 1L << 30, (1L << 40) - 1};
        for (long page : pages) {
            assertFalse(sent.mark(3, page), "page " + page);
        }
        for (long page : pages) {
            assertTrue(sent.mark(3, page), "page " + page + " again");
        }
        for (long page : pages) {
            assertFalse(sent.mark(4, page), "block 4, page " + page);
            assertFalse(sent.mark(65_535, page), "block 65535, page " + page);
        }
        assertFalse(sent.mark(3, 1), "between pages marked");
        assertFalse(sent.mark(3, 32_766));
    }

    /** Through the reader: a live stream sends a page again; a zero page counts as a copy sent. */
    @ParameterizedTest
    @EnumSource(SourceKind.class)
    void resendsThroughTheReader(SourceKind kind) {
        byte[] bytes = StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize(8L * 4096)
                .block("pc.ram", 4L * 4096).block("vga.vram", 4L * 4096)
                .page(0, "pc.ram", new byte[4096])
                .zeroPage(4096, null, 0)
                .page(0, "vga.vram", new byte[4096])
                .eos().footer(2)
                .sectionPart(2)
                .page(0, "pc.ram", StreamBuilder.pattern(4096, 1))
                .page(4096, null, StreamBuilder.pattern(4096, 2))
                .zeroPage(2L * 4096, null, 0)
                .page(0, "vga.vram", new byte[4096])
                .eos().footer(2)
                .eof().description(Json.description(4096)).toByteArray();
        ReadOptions tracking = ReadOptions.builder().enable(ReadOptions.Feature.TRACK_RESENDS).build();
        List<Boolean> resends = new ArrayList<>();
        try (MigrationReader reader = kind.open(bytes, tracking)) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                if (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE) {
                    resends.add(reader.isResend());
                }
            }
        }
        assertEquals(List.of(false, false, false, true, true, false, true), resends);
    }

    @Test
    void resendsNeedTheFeature() {
        byte[] bytes = StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize(4096).block("pc.ram", 4096)
                .zeroPage(0, "pc.ram", 0).eos().footer(2).eof().description(Json.description(4096)).toByteArray();
        try (MigrationReader reader = MigrationReader.open(bytes, ReadOptions.DEFAULT)) {
            MigrationEvent e = reader.next();
            while (e != MigrationEvent.ZERO_PAGE) {
                e = reader.next();
            }
            IllegalStateException refused = assertThrows(IllegalStateException.class, reader::isResend);
            assertEquals("isResend() needs the reader opened with ReadOptions.Feature.TRACK_RESENDS", refused.getMessage());
        }
    }
}
