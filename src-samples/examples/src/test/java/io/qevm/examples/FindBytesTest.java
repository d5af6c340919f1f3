package io.qevm.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.Samples;
import io.qevm.examples.FindBytes.Hit;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FindBytes on the samples whose guest RAM holds inputs/pattern1M.txt at guest 0x4000000 (NOTES of
 * c-pc-loader-data: "1 MiB of 'MIGRATION-CORPUS-PATTERN line %08d: The quick brown fox jumps over
 * the lazy dog.\n' at 0x4000000"; pc.ram starts at guest address 0, so that is its offset there).
 */
class FindBytesTest {

    private static final long PATTERN_AT = 0x4000000;
    private static final int LINE = "MIGRATION-CORPUS-PATTERN line 00000000: The quick brown fox jumps over the lazy dog.\n"
            .length();
    private static final int PAGE = 4096;

    @Test
    void findsTheFirstLineOfThePattern() throws IOException {
        List<Hit> hits = FindBytes.search(Samples.dump("c-pc-loader-data"),
                "MIGRATION-CORPUS-PATTERN line 00000000".getBytes(UTF_8));
        assertEquals(List.of(new Hit("pc.ram", 0x4000000)), hits);
        assertEquals("pc.ram 0x0000000004000000\n", Printed.by(out -> FindBytes.print(hits, out)));
    }

    /** Whatever the encoding of the pages (raw, zlib, mapped-ram), the same hits. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"c-pc-loader-data", "h-compress", "n-pc-loader", "n-mapped-ram"})
    void findsEveryLineThatDoesNotStraddleAPage(String sample) throws IOException {
        String needle = "MIGRATION-CORPUS-PATTERN";
        List<Hit> expected = new ArrayList<>();
        for (long at = 0; at + needle.length() <= 1 << 20; at += LINE) {
            // per page: a line whose first 24 bytes cross a 4 KiB boundary is not found
            if (at / PAGE == (at + needle.length() - 1) / PAGE) {
                expected.add(new Hit("pc.ram", PATTERN_AT + at));
            }
        }
        assertEquals(12267, expected.size()); // of 12336 whole lines
        assertEquals(expected, FindBytes.search(Samples.dump(sample), needle.getBytes(UTF_8)));
    }

    @Test
    void missesAMatchThatStraddlesTwoPages() throws IOException {
        // line 48 starts at 48 * 85 = 4080: its 38 first bytes cross into the next page
        assertEquals(4080, 48 * LINE);
        assertEquals(List.of(), FindBytes.search(Samples.dump("c-pc-loader-data"),
                "MIGRATION-CORPUS-PATTERN line 00000048".getBytes(UTF_8)));
        // its 16 bytes "MIGRATION-CORPUS" end the page; the rest, in the next page, is found there
        assertEquals(List.of(new Hit("pc.ram", PATTERN_AT + PAGE)), FindBytes.search(Samples.dump("c-pc-loader-data"),
                "-PATTERN line 00000048".getBytes(UTF_8)));
    }

    @Test
    void findsNothingInAGuestWithoutThePattern() throws IOException {
        assertEquals(List.of(), FindBytes.search(Samples.dump("a-pc-paused"), "MIGRATION-CORPUS".getBytes(UTF_8)));
    }

    @Test
    void refusesAnEmptyNeedle() {
        assertThrows(IllegalArgumentException.class, () -> new FindBytes(new byte[0]));
    }
}
