package io.qevm.ram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qevm.MigrationEvent;
import io.qevm.ReadLimits;
import io.qevm.StreamBuilder;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.internal.LongLongMap;
import io.qevm.io.ReadLocation;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link BlockTable}: the blocks of the MEM_SIZE list, found by String where the list names
 * them, and by the name's bytes in the window (no String) where a page record does.
 */
final class BlockTableTest {

    private static final List<String> NAMES = List.of("pc.ram", "pc.ram1", "pc.ra", "/rom@etc/acpi/tables",
            "vga.vram", "bloc\u00e9-\u00fc");

    private static BlockTable table(ReadLimits limits) {
        BlockTable table = new BlockTable(limits, new ReadLocation());
        for (String name : NAMES) {
            table.findOrAdd(name, name.getBytes(StandardCharsets.UTF_8)).length = 1 << 20;
        }
        return table;
    }

    /** A cursor over u8 length + idstr for each name, a record of its own each. */
    private static RamTesting.Cursor names(String... names) {
        StreamBuilder b = StreamBuilder.empty();
        for (String name : names) {
            b.str8(name);
        }
        return RamTesting.cursor(b.toByteArray(), false);
    }

    @Test
    void blocksAreNumberedInListOrderAndListedOnce() {
        BlockTable table = table(ReadLimits.DEFAULT);
        assertEquals(NAMES.size(), table.all().size());
        for (int i = 0; i < NAMES.size(); i++) {
            Block block = table.all().get(i);
            assertEquals(i, block.number());
            assertEquals(NAMES.get(i), block.name());
            assertSame(block, table.named(NAMES.get(i)));
        }
        Block again = table.findOrAdd("pc.ram", "pc.ram".getBytes(StandardCharsets.UTF_8));
        assertSame(table.all().get(0), again, "a name listed again (a second MEM_SIZE list) is the same block");
        assertEquals(NAMES.size(), table.all().size());
        assertNull(table.named("pc.rom"));
    }

    @Test
    void readNameFindsEachBlockByItsBytes() {
        BlockTable table = table(ReadLimits.DEFAULT);
        String[] order = {"vga.vram", "pc.ra", "pc.ram1", "pc.ram", "bloc\u00e9-\u00fc", "/rom@etc/acpi/tables"};
        RamTesting.Cursor c = names(order);
        for (String name : order) {
            assertSame(table.named(name), table.readName(c.in(), null), name);
        }
    }

    /** The previous record's block is tried first; when it is not the one named, the table is. */
    @Test
    void theLikelyBlockIsTriedFirst() {
        BlockTable table = table(ReadLimits.DEFAULT);
        Block ram = table.named("pc.ram");
        RamTesting.Cursor c = names("pc.ram", "pc.ram1", "pc.ra");
        assertSame(ram, table.readName(c.in(), ram));
        assertSame(table.named("pc.ram1"), table.readName(c.in(), ram), "a longer name with the likely one as prefix");
        assertSame(table.named("pc.ra"), table.readName(c.in(), ram), "a shorter one");
    }

    @Test
    void findLooksAtTheBytesInTheWindow() {
        BlockTable table = table(ReadLimits.DEFAULT);
        byte[] bytes = "xxpc.ram1yy".getBytes(StandardCharsets.US_ASCII);
        RamTesting.Cursor c = RamTesting.cursor(bytes, false);
        c.in().lookAhead(bytes.length);
        assertSame(table.named("pc.ram1"), table.find(c.in(), 2, 7));
        assertSame(table.named("pc.ram"), table.find(c.in(), 2, 6));
        assertSame(table.named("pc.ra"), table.find(c.in(), 2, 5));
        assertNull(table.find(c.in(), 2, 4), "pc.r");
        assertNull(table.find(c.in(), 1, 6), "xpc.ra");
    }

    @Test
    void anUnknownNameIsMalformedAtTheRecord() {
        RamTesting.Cursor c = RamTesting.cursor(StreamBuilder.empty().u64(0x1008).str8("pc.rom").toByteArray(), false)
                .startRecord(MigrationEvent.RAM_PAGE);
        BlockTable located = new BlockTable(ReadLimits.DEFAULT, c.at());
        located.findOrAdd("pc.ram", "pc.ram".getBytes(StandardCharsets.UTF_8));
        c.in().be64();
        MalformedStreamException e = assertThrows(MalformedStreamException.class, () -> located.readName(c.in(), null));
        assertEquals("expected a RAM block of the MEM_SIZE list, found 'pc.rom'", e.problem());
        assertEquals(0, e.eventOffset());
        assertEquals(15, e.position(), "after the name");
    }

    /**
     * Two names with one hash: the later one's entry replaces the earlier one's in the hash
     * index, and the earlier is then found by a search. (No two real idstrs are known to share
     * an FNV-1a hash: the collision is made by pointing the hash of one at the other.)
     */
    @Test
    void hashCollisionsFallBackToASearch() throws ReflectiveOperationException {
        BlockTable table = table(ReadLimits.DEFAULT);
        Block ram = table.named("pc.ram");
        Block vram = table.named("vga.vram");
        Field index = BlockTable.class.getDeclaredField("byNameHash");
        index.setAccessible(true);
        Method hash = BlockTable.class.getDeclaredMethod("nameHash", MemorySegment.class, long.class, long.class);
        hash.setAccessible(true);
        byte[] ramBytes = "pc.ram".getBytes(StandardCharsets.US_ASCII);
        long ramHash = (long) hash.invoke(null, MemorySegment.ofArray(ramBytes), 0L, (long) ramBytes.length);
        ((LongLongMap) index.get(table)).put(ramHash, vram.number(), -1);

        RamTesting.Cursor c = names("pc.ram", "vga.vram", "pc.ram");
        assertSame(ram, table.readName(c.in(), null), "the hash points at vga.vram, the bytes say pc.ram");
        assertSame(vram, table.readName(c.in(), null));
        assertSame(ram, table.readName(c.in(), vram));

        // a name not in the table whose hash points at a block is still not found
        byte[] romBytes = "pc.rom".getBytes(StandardCharsets.US_ASCII);
        long romHash = (long) hash.invoke(null, MemorySegment.ofArray(romBytes), 0L, (long) romBytes.length);
        ((LongLongMap) index.get(table)).put(romHash, ram.number(), -1);
        RamTesting.Cursor rom = names("pc.rom");
        rom.in().lookAhead(7);
        assertNull(table.find(rom.in(), 1, 6));
    }

    @Test
    void theBlockLimit() {
        ReadLimits three = ReadLimits.builder().maxBlocks(3).build();
        RamTesting.Cursor c = RamTesting.cursor(new byte[0], false).startRecord(MigrationEvent.RAM_BLOCK);
        BlockTable table = new BlockTable(three, c.at());
        for (String name : List.of("a", "b", "c")) {
            table.findOrAdd(name, name.getBytes(StandardCharsets.US_ASCII));
        }
        table.findOrAdd("b", new byte[] {'b'}); // listed again: no new block
        LimitExceededException e = assertThrows(LimitExceededException.class,
                () -> table.findOrAdd("d", new byte[] {'d'}));
        assertEquals("too many RAM blocks: 4, over the limit of 3 (see ReadLimits)", e.problem());
        assertEquals(3, table.all().size());
    }
}
