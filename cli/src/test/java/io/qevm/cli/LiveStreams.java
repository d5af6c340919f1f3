package io.qevm.cli;

import io.qevm.StreamBuilder;
import io.qevm.StreamBuilder.Json;

/**
 * Streams of a live migration as QEMU 7.2 writes them (migration/migration.c
 * {@code migration_thread}, migration/ram.c), built byte by byte: the header and CONFIGURATION
 * (no target-page-bits: an x86 machine), with a return path MIG_CMD_OPEN_RETURN_PATH and
 * MIG_CMD_PING 1, the RAM section's START (the block list), passes of PART records (the first
 * sends every page, later ones the pages dirtied meanwhile, XBZRLE-free), the END record (the
 * completion, VM stopped), a device, QEMU_VM_EOF and the JSON description.
 */
final class LiveStreams {

    static final int PAGE = 4096;
    /** pc.ram's pages; pc.bios follows it in the block list (the order QEMU walks them in). */
    static final int RAM_PAGES = 96;
    static final int BIOS_PAGES = 8;
    static final String DESCRIPTION = Json.description(PAGE,
            Json.device("timer", 0, 2, Json.field("ticks", "int64", 8), Json.field("buf", "buffer", 16)));

    private LiveStreams() {
    }

    /** How the stream starts and what it holds. */
    record Shape(String machine, boolean returnPath, int[] pings, int passes) {
    }

    /** A paused VM's migration, without a return path: one pass. */
    static byte[] precopy() {
        return build(new Shape("pc-i440fx-7.2", false, new int[0], 1)).toByteArray();
    }

    /** A live migration of {@code passes} passes with a return path and these PINGs after the first. */
    static byte[] withReturnPath(String machine, int passes, int... morePings) {
        int[] pings = new int[morePings.length + 1];
        pings[0] = 1;
        System.arraycopy(morePings, 0, pings, 1, morePings.length);
        return build(new Shape(machine, true, pings, passes)).toByteArray();
    }

    /**
     * The stream up to and including the RAM section's START (and the commands before it), for
     * tests that go on by hand.
     */
    static StreamBuilder head(Shape shape) {
        StreamBuilder b = StreamBuilder.stream().configuration(shape.machine());
        if (shape.returnPath()) {
            b.openReturnPath();
        }
        for (int ping : shape.pings()) {
            b.ping(ping);
        }
        b.sectionStart(1, "ram", 0, 4).memSize((long) (RAM_PAGES + BIOS_PAGES) * PAGE)
                .block("pc.ram", (long) RAM_PAGES * PAGE).block("pc.bios", (long) BIOS_PAGES * PAGE)
                .eos().footer(1);
        return b;
    }

    /** The whole stream of {@code shape}. */
    static StreamBuilder build(Shape shape) {
        StreamBuilder b = head(shape);
        // pass 1: every page, in two parts; pc.ram's even pages hold data, odd ones are zero
        b.sectionPart(1);
        for (int page = 0; page < RAM_PAGES; page++) {
            if (page == RAM_PAGES / 2) {
                b.eos().footer(1).sectionPart(1);
                ramPage(b, page, true, 1);
            } else {
                ramPage(b, page, page == 0, 1);
            }
        }
        for (int page = 0; page < BIOS_PAGES; page++) {
            b.page((long) page * PAGE, page == 0 ? "pc.bios" : null, StreamBuilder.pattern(PAGE, 1000 + page));
        }
        b.eos().footer(1);
        // later passes: the guest dirtied fewer pages each time (pages 0, 4, 8, ... then 0, 8, ...)
        for (int pass = 2; pass <= shape.passes(); pass++) {
            b.sectionPart(1);
            int step = 2 << pass;
            boolean first = true;
            for (int page = 0; page < RAM_PAGES; page += step) {
                b.page((long) page * PAGE, first ? "pc.ram" : null, StreamBuilder.pattern(PAGE, pass * 100 + page));
                first = false;
            }
            b.eos().footer(1);
        }
        // the completion, VM stopped: the last page dirtied
        b.sectionEnd(1).page(0, "pc.ram", StreamBuilder.pattern(PAGE, 999_999)).eos().footer(1);
        return tail(b);
    }

    private static void ramPage(StreamBuilder b, int page, boolean named, int seed) {
        String block = named ? "pc.ram" : null;
        if (page % 2 == 0) {
            b.page((long) page * PAGE, block, StreamBuilder.pattern(PAGE, seed * 100 + page));
        } else {
            b.zeroPage((long) page * PAGE, block, 0);
        }
    }

    /** The device state, QEMU_VM_EOF and the description after the RAM. */
    static StreamBuilder tail(StreamBuilder b) {
        return b.sectionFull(2, "timer", 0, 2).u64(0x1234).bytes(StreamBuilder.pattern(16, 7)).footer(2).eof()
                .description(DESCRIPTION);
    }
}
