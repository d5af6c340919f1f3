package io.qevm;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Builds a migration stream holding RAM only, laid out as QEMU 7.2 writes one
 * (migration/savevm.c, migration/ram.c): {@code QEVM} magic and version 3, a SECTION_START of
 * {@code ram} (section id 2, instance 0, version 4) with the MEM_SIZE list of one block
 * {@code pc.ram}, then one PAGE or ZERO record per page (the first names the block, the rest
 * carry RAM_SAVE_FLAG_CONTINUE), EOS, the section footer, QEMU_VM_EOF and a minimal
 * VMDESCRIPTION trailer {@code {"page_size":4096,"devices":[]}}, so the stream opens like a real
 * dump with {@code requireDescription = true}.
 *
 * <p>Data pages are spread evenly (page i is a data page when {@code floor((i+1) r) > floor(i r)}
 * for the ratio r) and filled with xorshift noise, so nothing downstream can shortcut them.
 */
public final class SyntheticRamStream {

    public static final int PAGE_SIZE = 4096;
    public static final String BLOCK = "pc.ram";
    public static final int SECTION_ID = 2;

    private static final int RAM_SAVE_FLAG_ZERO = 0x002;
    private static final int RAM_SAVE_FLAG_MEM_SIZE = 0x004;
    private static final int RAM_SAVE_FLAG_PAGE = 0x008;
    private static final int RAM_SAVE_FLAG_EOS = 0x010;
    private static final int RAM_SAVE_FLAG_CONTINUE = 0x020;

    private SyntheticRamStream() {
    }

    /**
     * A stream of {@code guestBytes} of RAM (a multiple of {@link #PAGE_SIZE}) of which a
     * fraction {@code dataRatio} (0..1) is sent as PAGE records and the rest as ZERO records.
     */
    public static byte[] build(long guestBytes, double dataRatio) {
        if (guestBytes <= 0 || guestBytes % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("guest RAM must be a positive multiple of " + PAGE_SIZE + ": " + guestBytes);
        }
        if (!(dataRatio >= 0 && dataRatio <= 1)) {
            throw new IllegalArgumentException("data ratio must be in [0, 1]: " + dataRatio);
        }
        long pages = guestBytes / PAGE_SIZE;
        long dataPages = dataPages(pages, dataRatio);
        long size = 8 + 1 + 4 + 1 + 3 + 4 + 4                       // header, SECTION_START ram
                + 8 + 1 + BLOCK.length() + 8                         // MEM_SIZE + one block
                + pages * 9 + dataPages * (PAGE_SIZE - 1)            // 8-byte header + fill byte or page
                + 1 + BLOCK.length()                                 // the first record names the block
                + 8 + 5 + 1                                          // EOS, footer, EOF
                + 5 + description().length;
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("stream of " + size + " bytes does not fit in an array");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) size);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            write(out, pages, dataRatio);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen: the sink is an array
        }
        return bytes.toByteArray();
    }

    /** How many of {@code pages} pages are data pages at {@code dataRatio}. */
    public static long dataPages(long pages, double dataRatio) {
        return (long) Math.floor(pages * dataRatio);
    }

    private static void write(DataOutputStream out, long pages, double dataRatio) throws IOException {
        byte[] name = BLOCK.getBytes(StandardCharsets.US_ASCII);
        out.writeInt(0x5145564d); // QEMU_VM_FILE_MAGIC
        out.writeInt(3);          // QEMU_VM_FILE_VERSION
        out.writeByte(0x01);      // QEMU_VM_SECTION_START
        out.writeInt(SECTION_ID);
        out.writeByte(3);
        out.writeBytes("ram");
        out.writeInt(0);          // instance id
        out.writeInt(4);          // version id
        out.writeLong(pages * PAGE_SIZE | RAM_SAVE_FLAG_MEM_SIZE);
        out.writeByte(name.length);
        out.write(name);
        out.writeLong(pages * PAGE_SIZE);

        byte[] page = new byte[PAGE_SIZE];
        long seed = 0x9E3779B97F4A7C15L;
        for (long i = 0; i < pages; i++) {
            boolean data = dataPages(i + 1, dataRatio) > dataPages(i, dataRatio);
            int flags = (data ? RAM_SAVE_FLAG_PAGE : RAM_SAVE_FLAG_ZERO) | (i == 0 ? 0 : RAM_SAVE_FLAG_CONTINUE);
            out.writeLong(i * PAGE_SIZE | flags);
            if (i == 0) {
                out.writeByte(name.length);
                out.write(name);
            }
            if (data) {
                for (int b = 0; b < PAGE_SIZE; b += 8) {
                    seed ^= seed << 13;
                    seed ^= seed >>> 7;
                    seed ^= seed << 17;
                    for (int k = 0; k < 8; k++) {
                        page[b + k] = (byte) (seed >>> (8 * k));
                    }
                }
                out.write(page);
            } else {
                out.writeByte(0); // fill byte
            }
        }
        out.writeLong(RAM_SAVE_FLAG_EOS);
        out.writeByte(0x7e);      // QEMU_VM_SECTION_FOOTER
        out.writeInt(SECTION_ID);
        out.writeByte(0x00);      // QEMU_VM_EOF
        byte[] json = description();
        out.writeByte(0x06);      // QEMU_VM_VMDESCRIPTION
        out.writeInt(json.length);
        out.write(json);
    }

    private static byte[] description() {
        return ("{\"page_size\":" + PAGE_SIZE + ",\"devices\":[]}").getBytes(StandardCharsets.US_ASCII);
    }
}
