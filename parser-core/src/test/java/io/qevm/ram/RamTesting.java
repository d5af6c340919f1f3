package io.qevm.ram;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.SourceKind;
import io.qevm.StreamBuilder;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import io.qevm.io.ReadLocation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the {@code ram} tests share: a decoder's cursor over built bytes, a page record for it to
 * fill, and the events a reader hands out, copied.
 */
final class RamTesting {

    static final int PAGE = 4096;

    private RamTesting() {
    }

    /** A cursor over {@code bytes} and the location its errors carry. */
    record Cursor(ByteCursor in, ReadLocation at) {

        /** A record starts here: errors name it (as the RAM section's loop does). */
        Cursor startRecord(MigrationEvent event) {
            at.startEvent(event);
            return this;
        }
    }

    /** Over a heap array ({@code stream} false) or a stream that hands out a few bytes a read. */
    static Cursor cursor(byte[] bytes, boolean stream) {
        ReadLocation at = new ReadLocation();
        ByteSource source = stream ? ByteSource.of(SourceKind.trickle(bytes, 7), "<stream>") : ByteSource.of(bytes, "<heap>");
        ByteCursor in = new ByteCursor(source, at, 0);
        at.attach(in);
        return new Cursor(in, at);
    }

    /** The end of the data as a source of that kind names it. */
    static String end(boolean stream, long at) {
        return "the end of the " + (stream ? "input" : "file") + " (at byte " + at + ")";
    }

    /** A page record of {@code size} bytes in a block "pc.ram" of {@code length} bytes. */
    static RamPage page(int size, long length) {
        RamPage page = new RamPage();
        page.size = size;
        page.block = block(0, "pc.ram", length);
        return page;
    }

    static Block block(int number, String name, long length) {
        Block block = new Block(number, name, name.getBytes(StandardCharsets.UTF_8));
        block.length = length;
        return block;
    }

    /** The header, START of section 2 "ram" v4, and one block "pc.ram" of {@code pages} pages of {@code pageSize}. */
    static StreamBuilder ram(int pages, int pageSize) {
        return StreamBuilder.stream().sectionStart(2, "ram", 0, 4).memSize((long) pages * pageSize)
                .block("pc.ram", (long) pages * pageSize);
    }

    /** One event as the reader handed it out, what it carried copied. */
    record Seen(MigrationEvent event, long offset, String block, long pageOffset, int fill, io.qevm.PageEncoding encoding,
                long sourceOffset, byte[] bytes) {
    }

    /** Every RAM_BLOCK, RAM_PAGE and ZERO_PAGE to EOF. */
    static List<Seen> read(MigrationReader reader) {
        List<Seen> seen = new ArrayList<>();
        try (reader) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                switch (e) {
                    case RAM_BLOCK -> seen.add(new Seen(e, reader.eventOffset(), reader.blockName(), -1, -1, null,
                            -1, null));
                    case ZERO_PAGE -> seen.add(new Seen(e, reader.eventOffset(), reader.blockName(), reader.pageOffset(),
                            reader.fillByte(), null, -1, null));
                    case RAM_PAGE -> {
                        byte[] copy = new byte[reader.pageSize()];
                        reader.copyPage(copy, 0);
                        seen.add(new Seen(e, reader.eventOffset(), reader.blockName(), reader.pageOffset(), -1,
                                reader.pageEncoding(), reader.pageSourceOffset(), copy));
                    }
                    default -> {
                    }
                }
            }
        }
        return seen;
    }

    static List<Seen> read(SourceKind kind, byte[] bytes) {
        return read(kind.open(bytes, ReadOptions.DEFAULT));
    }

    /** Only the pages (RAM_PAGE and ZERO_PAGE) of {@link #read}. */
    static List<Seen> pages(SourceKind kind, byte[] bytes) {
        return read(kind, bytes).stream().filter(s -> s.event() != MigrationEvent.RAM_BLOCK).toList();
    }
}
