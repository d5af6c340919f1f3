package io.qevm.container;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The compressed formats read, each with its magic bytes and its number in a libvirt save
 * header's format field (libvirt src/qemu/qemu_saveimage.h {@code QEMU_SAVE_FORMAT_*}: 1 gzip,
 * 2 bzip2, 3 xz, 4 lzop, 5 zstd).
 */
enum Compression {

    GZIP("gzip", 1, new byte[] {0x1f, (byte) 0x8b}),
    BZIP2("bzip2", 2, new byte[] {'B', 'Z', 'h'}),
    XZ("xz", 3, new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0}),
    LZOP("lzop", 4, new byte[] {(byte) 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a}),
    ZSTD("zstd", 5, new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd});

    /** The longest magic: how many bytes {@link #of} needs to tell them all apart. */
    static final int MAGIC_BYTES = 9;

    /** The name users know it by, which is also its command's name. */
    final String label;
    /** Its number in a libvirt save header. */
    final int libvirtFormat;
    private final byte[] magic;

    Compression(String label, int libvirtFormat, byte[] magic) {
        this.label = label;
        this.libvirtFormat = libvirtFormat;
        this.magic = magic;
    }

    /** The format {@code head} (the first bytes of some data, perhaps fewer than asked) starts with, or null. */
    static Compression of(MemorySegment head) {
        for (Compression each : values()) {
            if (each.matches(head)) {
                return each;
            }
        }
        if (head.byteSize() >= 4 && (head.get(ValueLayout.JAVA_BYTE, 0) & 0xf0) == 0x50
                && head.get(ValueLayout.JAVA_BYTE, 1) == 0x2a && head.get(ValueLayout.JAVA_BYTE, 2) == 0x4d
                && head.get(ValueLayout.JAVA_BYTE, 3) == 0x18) {
            return ZSTD; // a skippable frame (magic 0x184D2A5?), as pzstd writes one first
        }
        return null;
    }

    /** The format with this libvirt format number, or null (0 raw, 6 sparse, or unknown). */
    static Compression ofLibvirt(long format) {
        for (Compression each : values()) {
            if (each.libvirtFormat == format) {
                return each;
            }
        }
        return null;
    }

    private boolean matches(MemorySegment head) {
        if (head.byteSize() < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (head.get(ValueLayout.JAVA_BYTE, i) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    /** What the decompressed data is called in messages and by {@link io.qevm.exc.MigrationReadException#stream()}. */
    String decompressedName() {
        return label + "-decompressed stream";
    }

    /** A decoder of this format reading {@code in}. */
    Decoder decoder(CompressedInput in) throws IOException {
        return switch (this) {
            case GZIP -> new GzipDecoder(in);
            case BZIP2 -> new StreamDecoder(in, StreamDecoder.Kind.BZIP2);
            case XZ -> new StreamDecoder(in, StreamDecoder.Kind.XZ);
            case LZOP -> new LzopDecoder(in);
            case ZSTD -> new ZstdDecoder(in);
        };
    }
}
