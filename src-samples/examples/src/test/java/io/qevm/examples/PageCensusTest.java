package io.qevm.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.PageEncoding;
import io.qevm.Samples;
import io.qevm.consume.MigrationConsumer;
import io.qevm.examples.PageCensus.BlockCounts;
import java.io.IOException;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PageCensus against what the samples' NOTES.txt and ground truth say about their pages. */
class PageCensusTest {

    private static final long PAGE = 4096;

    @Test
    void pausedGuestSends49PagesOfDataAndTheRestAsZeroPages() throws IOException {
        PageCensus census = PageCensus.of(Samples.dump("a-pc-paused"));
        BlockCounts total = census.total();
        // NOTES: "49 RAM_SAVE_FLAG_PAGE, the rest zero pages"; info migrate: "duplicate: 32849 pages"
        assertEquals(49, total.dataPages(PageEncoding.RAW));
        assertEquals(49, total.dataPages());
        assertEquals(32849, total.zeroPages());
        assertEquals(49 * PAGE, total.dataBytes());
        // "the rest": every page of every block is sent, once
        for (BlockCounts block : census.blocks().values()) {
            assertEquals(block.length() / PAGE, block.dataPages() + block.zeroPages(), block.name());
            assertEquals(block.length() / PAGE, block.pagesSent(), block.name());
            assertEquals(0, block.pagesResent(), block.name());
        }
        // ground-truth/GROUND-TRUTH.txt: pc.bios has 46 non-zero 4K pages, pc.ram and pc.rom none
        assertEquals(46, census.blocks().get("pc.bios").dataPages());
        assertEquals(0, census.blocks().get("pc.ram").dataPages());
        assertEquals(0, census.blocks().get("pc.rom").dataPages());

        assertEquals("""
                block                         raw  mapped  compressed  xbzrle     zero      data bytes  resent
                pc.ram                          0       0           0       0    32768               0       0
                /rom@etc/acpi/tables            1       0           0       0       31            4096       0
                pc.bios                        46       0           0       0       18          188416       0
                pc.rom                          0       0           0       0       32               0       0
                /rom@etc/table-loader           1       0           0       0        0            4096       0
                /rom@etc/acpi/rsdp              1       0           0       0        0            4096       0
                total                          49       0           0       0    32849          200704       0
                """, Printed.by(census::print));
    }

    @Test
    void compressCapabilitySends1326CompressedPagesAnd3Raw() throws IOException {
        BlockCounts total = PageCensus.of(Samples.dump("h-compress")).total();
        // NOTES: "1326 RAM_SAVE_FLAG_COMPRESS_PAGE (0x100) records ... 3 pages still went as plain PAGE"
        assertEquals(1326, total.dataPages(PageEncoding.COMPRESSED));
        assertEquals(3, total.dataPages(PageEncoding.RAW));
        assertEquals(1329, total.dataPages());
        // same guest RAM as c-pc-loader-data (1329 PAGE records there): the same pages carry data
        assertEquals(PageCensus.of(Samples.dump("c-pc-loader-data")).total().dataPages(), total.dataPages());
    }

    @Test
    void liveMigrationResendsExactlyThePagesTheGuestDirties() throws IOException {
        PageCensus census = PageCensus.of(Samples.dump("i-live-xbzrle"));
        BlockCounts total = census.total();
        // NOTES: "16295 RAM_SAVE_FLAG_XBZRLE (0x40) pages"; info migrate: "normal: 1315 pages",
        // "duplicate: 32256 pages"
        assertEquals(16295, total.dataPages(PageEncoding.XBZRLE));
        assertEquals(1315, total.dataPages(PageEncoding.RAW));
        assertEquals(32256, total.zeroPages());
        assertEquals(dirtiedPages(), census.blocks().get("pc.ram").resentPages());
        assertEquals(529, census.pagesResent());

        assertEquals("""
                block                         raw  mapped  compressed  xbzrle     zero      data bytes  resent
                pc.ram                       1265       0           0   16295    32176        71925760     529
                /rom@etc/acpi/tables            2       0           0       0       30            8192       0
                pc.bios                        46       0           0       0       18          188416       0
                pc.rom                          0       0           0       0       32               0       0
                /rom@etc/table-loader           1       0           0       0        0            4096       0
                /rom@etc/acpi/rsdp              1       0           0       0        0            4096       0
                total                        1315       0           0   16295    32256        72130560     529
                """, Printed.by(census::print));
    }

    @Test
    void qemu10LiveMigrationToo() throws IOException {
        PageCensus census = PageCensus.of(Samples.dump("n-live-xbzrle"));
        BlockCounts total = census.total();
        // NOTES: "2393 RAM_SAVE_FLAG_XBZRLE (0x40) pages ..., 1185 PAGE, 32258 ZERO"
        assertEquals(2393, total.dataPages(PageEncoding.XBZRLE));
        assertEquals(1185, total.dataPages(PageEncoding.RAW));
        assertEquals(32258, total.zeroPages());
        assertEquals(dirtiedPages(), census.blocks().get("pc.ram").resentPages());
    }

    @Test
    void mappedRamHasOnlyMappedPagesAndNoZeroPages() throws IOException {
        PageCensus census = PageCensus.of(Samples.dump("n-mapped-ram"));
        // NOTES: "There are NO ZERO/PAGE records at all ... Present pages: pc.ram 1280,
        // acpi/tables 2, pc.bios 44, pc.rom 0, table-loader 1, rsdp 1 (=1328)"
        Map<String, Long> expected = Map.of("pc.ram", 1280L, "/rom@etc/acpi/tables", 2L, "pc.bios", 44L,
                "pc.rom", 0L, "/rom@etc/table-loader", 1L, "/rom@etc/acpi/rsdp", 1L);
        assertEquals(List.of("pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader",
                "/rom@etc/acpi/rsdp"), List.copyOf(census.blocks().keySet()));
        census.blocks().forEach((name, block) -> {
            assertEquals(expected.get(name), block.dataPages(PageEncoding.MAPPED), name);
            assertEquals(block.dataPages(PageEncoding.MAPPED), block.dataPages(), name);
            assertEquals(0, block.zeroPages(), name);
        });
        assertEquals(1328, census.total().dataPages());
    }

    /** A reader opened without TRACK_RESENDS cannot tell resends: the census says so on the first page. */
    @Test
    void needsTheReaderToTrackResends() throws IOException {
        try (MigrationReader reader = MigrationReader.open(Samples.dump("a-pc-paused"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> MigrationConsumer.drive(reader, new PageCensus()));
            assertEquals("isResend() needs the reader opened with ReadOptions.Feature.TRACK_RESENDS", e.getMessage());
            assertEquals(MigrationEvent.ZERO_PAGE, reader.currentEvent(), "a-pc-paused's first page is a zero page");
        }
    }

    /**
     * The pages inputs/dirty.img writes in its loop (NOTES of i-live-xbzrle): 512 pages at
     * 0x200000-0x3fffff, 16 pages at 0x400000 and the pass counter's page at 0x500000.
     */
    private static BitSet dirtiedPages() {
        BitSet pages = new BitSet();
        pages.set(0x200000 / 4096, 0x400000 / 4096);
        pages.set(0x400000 / 4096, 0x400000 / 4096 + 16);
        pages.set(0x500000 / 4096);
        return pages;
    }
}
