package io.qevm.consume;

import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.Samples;
import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

/**
 * {@link DumpStats} against facts found without it: QEMU's own counts ({@code info migrate} in
 * the samples' NOTES), the RAM QEMU loaded from the dump (ground truth), the pages the live
 * sample's guest program dirties, and streams built byte by byte.
 */
final class DumpStatsTest {

    private static final int PAGE = 4096;

    @TempDir
    Path work;

    private static DumpStats stats(Path dump) throws IOException {
        try (MigrationReader reader = MigrationReader.open(dump, ReadOptions.DEFAULT)) {
            return DumpStats.collect(reader);
        }
    }

    private static Map<String, DumpStats.Block> byName(DumpStats stats) {
        return stats.blocks().stream().collect(Collectors.toMap(DumpStats.Block::name, Function.identity()));
    }

    /** The kind of every page, from a map of one cell per page. */
    private static DumpStats.PageKind[] perPage(DumpStats.Block block) {
        int pages = (int) block.pages();
        List<DumpStats.Run> runs = block.map(pages);
        assertEquals(1, block.pagesPerCell(pages));
        DumpStats.PageKind[] kinds = new DumpStats.PageKind[pages];
        long next = 0;
        for (DumpStats.Run run : runs) {
            assertEquals(next, run.firstPage(), "runs cover the block in order");
            for (long p = run.firstPage(); p < run.firstPage() + run.pages(); p++) {
                kinds[(int) p] = run.kind();
            }
            next = run.firstPage() + run.pages();
        }
        assertEquals(pages, next);
        return kinds;
    }

    /**
     * c-pc-loader-data (paused, 128 MiB): QEMU's {@code info migrate} counted 1329 normal and
     * 31569 duplicate (zero) pages; pc.ram's map, page by page, is the RAM QEMU loaded from the
     * dump: a data page where that RAM is not zero (QEMU sends an all-zero page as a zero page).
     */
    @Test
    void aPausedVmAgainstQemuAndTheGroundTruth() throws IOException {
        DumpStats stats = stats(Samples.dump("c-pc-loader-data"));
        long data = 0;
        long zero = 0;
        for (DumpStats.Block block : stats.blocks()) {
            data += block.rawPages() + block.mappedPages() + block.compressedPages() + block.xbzrlePages();
            zero += block.zeroPages();
            assertEquals(0, block.resends(), block.name());
            assertEquals(block.pages(), block.distinctPages(), block.name() + ": a paused VM's dump sends every page once");
        }
        assertEquals(1329, data, "info migrate: normal: 1329 pages");
        assertEquals(31569, zero, "info migrate: duplicate: 31569 pages");
        assertEquals("pc-i440fx-7.2", stats.machineName());
        assertEquals(PAGE, stats.pageSize());

        DumpStats.Block ram = byName(stats).get("pc.ram");
        assertEquals(128L << 20, ram.length());
        BitSet nonZero = nonZeroPages(Samples.folder("c-pc-loader-data").resolve("ground-truth/pc.ram.xz"));
        assertEquals(1280, nonZero.cardinality(), "GROUND-TRUTH.txt: 1280 non-zero 4K pages");
        DumpStats.PageKind[] kinds = perPage(ram);
        for (int page = 0; page < kinds.length; page++) {
            assertEquals(nonZero.get(page) ? DumpStats.PageKind.DATA : DumpStats.PageKind.ZERO, kinds[page],
                    "pc.ram page " + page);
        }

        // coarse: 256 cells of 128 pages; the loader's 4 MiB at 0x1000000 (pages 4096..5119)
        // and the 1 MiB pattern at 0x4000000 (pages 16384..16639) are data cells
        assertEquals(128, ram.pagesPerCell(256));
        List<DumpStats.Run> coarse = ram.map(256);
        assertTrue(coarse.size() <= 256);
        assertTrue(coarse.contains(new DumpStats.Run(4096, 1024, DumpStats.PageKind.DATA)), coarse.toString());
        assertTrue(coarse.contains(new DumpStats.Run(16384, 256, DumpStats.PageKind.DATA)), coarse.toString());
        assertEquals(DumpStats.PageKind.ZERO, coarse.getFirst().kind());
    }

    /** Which pages of a RAM image (xz) hold a byte other than zero. */
    private static BitSet nonZeroPages(Path xz) throws IOException {
        BitSet pages = new BitSet();
        byte[] page = new byte[PAGE];
        try (InputStream in = new XZInputStream(new java.io.BufferedInputStream(Files.newInputStream(xz), 1 << 16))) {
            for (int index = 0; in.readNBytes(page, 0, PAGE) == PAGE; index++) {
                for (byte b : page) {
                    if (b != 0) {
                        pages.set(index);
                        break;
                    }
                }
            }
        }
        return pages;
    }

    /**
     * i-live-xbzrle: NOTES count 75 RAM records (START, 73 PART, END) and 16295 XBZRLE pages;
     * the guest program (dirty.asm) writes pages 0x200000-0x3fffff, 16 pages at 0x400000 and a
     * counter at 0x500000 over and over: those pages were sent more than once.
     */
    @Test
    void aLiveMigrationWithXbzrle() throws IOException {
        DumpStats stats = stats(Samples.dump("i-live-xbzrle"));
        DumpStats.Section ramSection = stats.sections().stream().filter(s -> s.name().equals("ram")).findFirst()
                .orElseThrow();
        assertEquals(75, ramSection.parts());
        long xbzrle = stats.blocks().stream().mapToLong(DumpStats.Block::xbzrlePages).sum();
        assertEquals(16295, xbzrle);
        DumpStats.Block ram = byName(stats).get("pc.ram");
        assertEquals(ram.pages(), ram.distinctPages(), "the first pass sends every page");
        assertEquals(ram.sentPages() - ram.distinctPages(), ram.resends());
        DumpStats.PageKind[] kinds = perPage(ram);
        for (int page = 0x200; page < 0x400; page++) {
            assertEquals(DumpStats.PageKind.RESENT, kinds[page], "page " + page);
        }
        for (int page = 0x400; page < 0x410; page++) {
            assertEquals(DumpStats.PageKind.RESENT, kinds[page], "page " + page);
        }
        assertEquals(DumpStats.PageKind.RESENT, kinds[0x500]);
        assertTrue(stats.passes().size() > 10, stats.passes().size() + " passes");
        assertNotNull(stats.completion());
    }

    /**
     * Counts and the map of a built stream, where a block 1 TiB long has three pages sent: the
     * page bits are allocated where pages are, never for the block's length.
     */
    @Test
    void aHugeBlockWithThreePagesIsCountedCheaply() throws IOException {
        long length = 1L << 40;
        byte[] data = new byte[PAGE];
        data[7] = 1;
        StreamBuilder b = stream().configuration("pc-q35-9.2").targetPageBits(12)
                .sectionStart(2, "ram", 0, 4).memSize(length).block("pc.ram", length)
                .page(0, "pc.ram", data).zeroPage(PAGE, "pc.ram", 0).page(length - PAGE, "pc.ram", data)
                .eos().footer(2).sectionPart(2)
                .zeroPage(0, "pc.ram", 0).zeroPage(2 * PAGE, "pc.ram", 0x5a)
                .eos().footer(2).eof().description(Json.description(PAGE));
        DumpStats stats = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (MigrationReader reader = MigrationReader.open(b.toByteArray(), ReadOptions.DEFAULT)) {
                return DumpStats.collect(reader);
            }
        });
        DumpStats.Block block = stats.blocks().getFirst();
        assertEquals(length / PAGE, block.pages());
        assertEquals(2, block.rawPages());
        assertEquals(2, block.zeroPages());
        assertEquals(1, block.fillPages());
        assertEquals(4, block.distinctPages());
        assertEquals(1, block.resends());
        assertEquals(length / PAGE - 4, block.neverSentPages());
        // a cell per 2^24 pages: mostly never sent, the first cell too
        assertEquals(List.of(new DumpStats.Run(0, length / PAGE, DumpStats.PageKind.NEVER_SENT)), block.map(16));
        assertEquals(List.of(), stats.capabilities());
        assertTrue(stats.qemuHints().contains("machine type pc-q35-9.2: written by QEMU 9.2 or later"),
                stats.qemuHints().toString());
        assertEquals(2, stats.sections().getFirst().parts());
    }
}
