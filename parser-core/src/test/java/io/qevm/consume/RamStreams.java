package io.qevm.consume;

import io.qevm.StreamBuilder;

/**
 * The RAM scenarios the consumer tests build, on {@link StreamBuilder}: a RAM section (id 2)
 * with its block list and pages of every encoding, then EOF and a JSON description with no
 * devices.
 */
final class RamStreams {

    /** The section id every stream here gives "ram". */
    static final int RAM_ID = 2;

    private final StreamBuilder b = StreamBuilder.stream();
    private final int pageSize;

    private RamStreams(int pageSize) {
        this.pageSize = pageSize;
    }

    /**
     * The file header, then SECTION_START of "ram" (instance 0, version 4) with a MEM_SIZE record
     * listing {@code blocks} as name, used_length pairs.
     */
    static RamStreams start(int pageSize, Object... blocks) {
        RamStreams s = new RamStreams(pageSize);
        long total = 0;
        for (int i = 1; i < blocks.length; i += 2) {
            total += ((Number) blocks[i]).longValue();
        }
        s.b.sectionStart(RAM_ID, "ram", 0, 4).memSize(total);
        for (int i = 0; i < blocks.length; i += 2) {
            s.b.block((String) blocks[i], ((Number) blocks[i + 1]).longValue());
        }
        return s;
    }

    /**
     * SECTION_START of "ram" again, under the same section id, with a MEM_SIZE record listing
     * {@code blocks} (name, used_length pairs): a section started a second time.
     */
    RamStreams restart(Object... blocks) {
        long total = 0;
        for (int i = 1; i < blocks.length; i += 2) {
            total += ((Number) blocks[i]).longValue();
        }
        b.sectionStart(RAM_ID, "ram", 0, 4).memSize(total);
        for (int i = 0; i < blocks.length; i += 2) {
            b.block((String) blocks[i], ((Number) blocks[i + 1]).longValue());
        }
        return this;
    }

    /** RAM_SAVE_FLAG_EOS and the footer: the current record ends. */
    RamStreams endRecord() {
        b.eos().footer(RAM_ID);
        return this;
    }

    /** SECTION_PART of "ram". */
    RamStreams part() {
        b.sectionPart(RAM_ID);
        return this;
    }

    /** SECTION_END of "ram". */
    RamStreams end() {
        b.sectionEnd(RAM_ID);
        return this;
    }

    /** RAM_SAVE_FLAG_PAGE: the page's bytes; a null block writes CONTINUE. */
    RamStreams page(long address, String block, byte[] data) {
        if (data.length != pageSize) {
            throw new IllegalArgumentException("a page has " + pageSize + " bytes");
        }
        b.page(address, block, data);
        return this;
    }

    /** RAM_SAVE_FLAG_ZERO: the fill byte. */
    RamStreams zero(long address, String block, int fill) {
        b.zeroPage(address, block, fill);
        return this;
    }

    /** RAM_SAVE_FLAG_XBZRLE: ENCODING_FLAG_XBZRLE, u16 length, the delta. */
    RamStreams xbzrle(long address, String block, byte[] delta) {
        b.xbzrlePage(address, block, delta);
        return this;
    }

    /** RAM_SAVE_FLAG_COMPRESS_PAGE: u32 length, the page deflated with zlib. */
    RamStreams compressed(long address, String block, byte[] data) {
        b.compressedPage(address, block, StreamBuilder.zlib(data));
        return this;
    }

    /** QEMU_VM_EOF, then the VMDESCRIPTION: {@code {"page_size": N, "devices": []}}. */
    RamStreams finish() {
        b.eof().description("{\"page_size\": " + pageSize + ", \"devices\": []}");
        return this;
    }

    long position() {
        return b.position();
    }

    byte[] toByteArray() {
        return b.toByteArray();
    }

    /** A page of {@code size} bytes of {@code fill}. */
    static byte[] filled(int size, int fill) {
        return StreamBuilder.filled(size, fill);
    }

    /** A page that differs from others made with another seed everywhere. */
    static byte[] pattern(int size, int seed) {
        return StreamBuilder.pattern(size, seed);
    }
}
