package io.qevm.consume;

import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * {@link PassCounter} keeps its memory bounded: a stream whose every page starts a new pass (the
 * same page sent over and over) has its passes summed in pairs past {@link PassCounter#MAX_KEPT}.
 */
final class PassCounterTest {

    private static final int PAGE = 4096;

    @Test
    void passesPastTheLimitAreSummedInPairs() throws IOException {
        int sent = PassCounter.MAX_KEPT + 4465; // 70001 passes of one page each
        StreamBuilder b = stream().configuration("pc").targetPageBits(12).sectionStart(2, "ram", 0, 4)
                .memSize(PAGE).block("pc.ram", PAGE);
        for (int i = 0; i < sent; i++) {
            b.zeroPage(0, "pc.ram", 0);
        }
        b.eos().footer(2).eof().description(Json.description(PAGE));
        DumpStats stats;
        try (MigrationReader reader = MigrationReader.open(b.toByteArray(), ReadOptions.DEFAULT)) {
            stats = DumpStats.collect(reader);
        }
        assertEquals(sent, stats.passCount());
        assertEquals(2, stats.passesPerEntry());
        assertEquals((sent + 1) / 2, stats.passes().size(), "35000 pairs and the last pass alone");
        assertEquals(sent, stats.passes().stream().mapToLong(PassCounter.Pass::pages).sum());
        assertEquals(2, stats.passes().getFirst().pages());
        assertEquals(1, stats.passes().getLast().pages());
        assertEquals(sent - 1, stats.blocks().getFirst().resends());
    }
}
