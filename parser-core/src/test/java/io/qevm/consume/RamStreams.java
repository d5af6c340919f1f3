package io.qevm.consume;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.Deflater;

/**
 * The few records the consumer tests need, written byte by byte as QEMU writes them
 * (migration/savevm.c, migration/ram.c; shared/docs/FORMAT.md), big-endian: a RAM section with
 * its block list and pages of every encoding, then EOF and a JSON description with no devices.
 * (io.qevm's StreamBuilder does more, but is package-private there.)
 */
final class RamStreams {

    static final int QEMU_VM_FILE_MAGIC = 0x5145564d;
    static final int QEMU_VM_EOF = 0x00;
    static final int QEMU_VM_SECTION_START = 0x01;
    static final int QEMU_VM_SECTION_PART = 0x02;
    static final int QEMU_VM_SECTION_END = 0x03;
    static final int QEMU_VM_VMDESCRIPTION = 0x06;
    static final int QEMU_VM_SECTION_FOOTER = 0x7e;

    static final int RAM_SAVE_FLAG_ZERO = 0x002;
    static final int RAM_SAVE_FLAG_MEM_SIZE = 0x004;
    static final int RAM_SAVE_FLAG_PAGE = 0x008;
    static final int RAM_SAVE_FLAG_EOS = 0x010;
    static final int RAM_SAVE_FLAG_CONTINUE = 0x020;
    static final int RAM_SAVE_FLAG_XBZRLE = 0x040;
    static final int RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;

    /** The section id every stream here gives "ram". */
    static final int RAM_ID = 2;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final int pageSize;

    private RamStreams(int pageSize) {
        this.pageSize = pageSize;
    }

    /**
     * The file header, then SECTION_START of "ram" (id 2, instance 0, version 4) with a MEM_SIZE
     * record listing {@code blocks} as name, used_length pairs.
     */
    static RamStreams start(int pageSize, Object... blocks) {
        RamStreams s = new RamStreams(pageSize);
        s.u32(QEMU_VM_FILE_MAGIC).u32(3);
        s.u8(QEMU_VM_SECTION_START).u32(RAM_ID).str8("ram").u32(0).u32(4);
        long total = 0;
        for (int i = 1; i < blocks.length; i += 2) {
            total += ((Number) blocks[i]).longValue();
        }
        s.u64(total | RAM_SAVE_FLAG_MEM_SIZE);
        for (int i = 0; i < blocks.length; i += 2) {
            s.str8((String) blocks[i]).u64(((Number) blocks[i + 1]).longValue());
        }
        return s;
    }

    /** RAM_SAVE_FLAG_EOS and the footer: the current record ends. */
    RamStreams endRecord() {
        return u64(RAM_SAVE_FLAG_EOS).u8(QEMU_VM_SECTION_FOOTER).u32(RAM_ID);
    }

    /** SECTION_PART of "ram". */
    RamStreams part() {
        return u8(QEMU_VM_SECTION_PART).u32(RAM_ID);
    }

    /** SECTION_END of "ram". */
    RamStreams end() {
        return u8(QEMU_VM_SECTION_END).u32(RAM_ID);
    }

    /** A RAM record's u64 and, unless {@code block} is null (CONTINUE), its u8 len + idstr. */
    private RamStreams header(long address, int flags, String block) {
        return block == null ? u64(address | flags | RAM_SAVE_FLAG_CONTINUE) : u64(address | flags).str8(block);
    }

    /** RAM_SAVE_FLAG_PAGE: the page's bytes. */
    RamStreams page(long address, String block, byte[] data) {
        if (data.length != pageSize) {
            throw new IllegalArgumentException("a page has " + pageSize + " bytes");
        }
        return header(address, RAM_SAVE_FLAG_PAGE, block).bytes(data);
    }

    /** RAM_SAVE_FLAG_ZERO: the fill byte. */
    RamStreams zero(long address, String block, int fill) {
        return header(address, RAM_SAVE_FLAG_ZERO, block).u8(fill);
    }

    /** RAM_SAVE_FLAG_XBZRLE: ENCODING_FLAG_XBZRLE, u16 length, the delta. */
    RamStreams xbzrle(long address, String block, byte[] delta) {
        return header(address, RAM_SAVE_FLAG_XBZRLE, block).u8(1).u16(delta.length).bytes(delta);
    }

    /** RAM_SAVE_FLAG_COMPRESS_PAGE: u32 length, the page deflated with zlib. */
    RamStreams compressed(long address, String block, byte[] data) {
        Deflater deflater = new Deflater();
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream zlib = new ByteArrayOutputStream();
        byte[] buffer = new byte[1024];
        while (!deflater.finished()) {
            zlib.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return header(address, RAM_SAVE_FLAG_COMPRESS_PAGE, block).u32(zlib.size()).bytes(zlib.toByteArray());
    }

    /** QEMU_VM_EOF, then the VMDESCRIPTION: {@code {"page_size": N, "devices": []}}. */
    RamStreams finish() {
        byte[] json = ("{\"page_size\": " + pageSize + ", \"devices\": []}").getBytes(StandardCharsets.UTF_8);
        return u8(QEMU_VM_EOF).u8(QEMU_VM_VMDESCRIPTION).u32(json.length).bytes(json);
    }

    RamStreams u8(int value) {
        out.write(value);
        return this;
    }

    RamStreams u16(int value) {
        return u8(value >>> 8).u8(value);
    }

    RamStreams u32(long value) {
        return u16((int) (value >>> 16) & 0xffff).u16((int) value & 0xffff);
    }

    RamStreams u64(long value) {
        return u32(value >>> 32).u32(value & 0xffffffffL);
    }

    RamStreams str8(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return u8(bytes.length).bytes(bytes);
    }

    RamStreams bytes(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    long position() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    /** A page of {@code size} bytes of {@code fill}. */
    static byte[] filled(int size, int fill) {
        byte[] page = new byte[size];
        Arrays.fill(page, (byte) fill);
        return page;
    }

    /** A page counting up from {@code seed} in steps of 7: pages that differ everywhere. */
    static byte[] pattern(int size, int seed) {
        byte[] page = new byte[size];
        for (int i = 0; i < size; i++) {
            page[i] = (byte) (seed + i * 7);
        }
        return page;
    }
}
