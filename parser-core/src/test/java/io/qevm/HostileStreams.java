package io.qevm;

import io.qevm.StreamBuilder.Json;

/**
 * Whole streams for the CLI's failure tests (package {@code io.qevm.cli}), built with
 * {@link StreamBuilder}: each is a complete, well-formed stream apart from what its name says.
 */
public final class HostileStreams {

    /** The page size of every stream here. */
    public static final int PAGE = 4096;
    private static final long RAM = 2;

    private HostileStreams() {
    }

    /**
     * A RAM-only stream (QEMU 7.2 layout, page_size 4096, no devices) with one block per name,
     * each one page long and holding {@link #pageOf(int)} of its index. Names must be at most
     * 255 bytes of UTF-8 and may be anything else (the block list is what -x names files by).
     */
    public static byte[] ramBlocks(String... names) {
        StreamBuilder b = StreamBuilder.stream().sectionStart(RAM, "ram", 0, 4).memSize((long) names.length * PAGE);
        for (String name : names) {
            b.block(name, PAGE);
        }
        b.eos().footer(RAM).sectionPart(RAM);
        for (int i = 0; i < names.length; i++) {
            b.page(0, names[i], pageOf(i));
        }
        return b.eos().footer(RAM).sectionEnd(RAM).eos().footer(RAM).eof().description(Json.description(PAGE))
                .toByteArray();
    }

    /** The page block {@code index} of {@link #ramBlocks} holds. */
    public static byte[] pageOf(int index) {
        return StreamBuilder.pattern(PAGE, index * 31 + 1);
    }

    /** A block named {@code pc.ram} of {@code length} bytes with one data page at {@code address}. */
    public static byte[] oneBlock(long length, long address) {
        return StreamBuilder.stream().sectionStart(RAM, "ram", 0, 4).memSize(length).block("pc.ram", length)
                .eos().footer(RAM).sectionPart(RAM).page(address, "pc.ram", pageOf(0)).eos().footer(RAM)
                .sectionEnd(RAM).eos().footer(RAM).eof().description(Json.description(PAGE)).toByteArray();
    }

    /**
     * A device section whose idstr is one the reference keys specially when its instance is 0
     * ({@code ram}, {@code spapr/htab}, {@code s390-storage_attributes}), here with instance 1: a
     * plain device with one uint8 field, as the description says.
     */
    public static byte[] deviceNamedLikeAnIterativeSection(String name) {
        String description = Json.description(PAGE, Json.device(name, 1, 1, Json.field("x", "uint8", 1)));
        return StreamBuilder.stream().sectionFull(7, name, 1, 1).u8(0x2a).footer(7).eof().description(description)
                .toByteArray();
    }

    /**
     * A 5-byte device record that its description makes an array of {@code count} empty structs:
     * events (and whatever a consumer builds per event) out of all proportion to the input.
     */
    public static byte[] emptyStructs(int count) {
        String empty = Json.struct("e", 1, new String[0]);
        String field = "{\"name\": \"o\", \"array_len\": " + count + ", \"type\": \"struct\", \"struct\": "
                + empty + ", \"size\": 0}";
        return StreamBuilder.stream().sectionFull(1, "dev", 0, 1).footer(1).eof()
                .description(Json.description(PAGE, Json.device("dev", 0, 1, field))).toByteArray();
    }

    /** One page record of the RAM section, then the stream cut (the description follows at once). */
    public static byte[] truncatedInRam() {
        return StreamBuilder.stream().sectionStart(RAM, "ram", 0, 4).memSize(PAGE).block("pc.ram", PAGE).eos()
                .footer(RAM).sectionPart(RAM).u64(StreamBuilder.RAM_SAVE_FLAG_PAGE).str8("pc.ram").zeros(100)
                .description(Json.description(PAGE)).toByteArray();
    }
}
