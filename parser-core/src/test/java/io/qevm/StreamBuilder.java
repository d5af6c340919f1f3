package io.qevm;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.StringJoiner;

/**
 * Builds a QEMU migration stream in a byte array, byte by byte, as QEMU writes it
 * (migration/savevm.c, migration/ram.c; shared/docs/FORMAT.md). One method per record kind, each
 * naming the QEMU constant it writes; every multi-byte value is big-endian unless the method says
 * otherwise. {@link #position()} tells the offset the next byte will have, so a test can note
 * where a record starts and assert the reader's offsets against it.
 *
 * <pre>{@code
 * byte[] bytes = StreamBuilder.stream()
 *         .sectionFull(2, "timer", 0, 2).u64(7).footer(2)
 *         .eof()
 *         .description(Json.description(4096, Json.device("timer", 0, 2, Json.field("t", "int64", 8))))
 *         .toByteArray();
 * }</pre>
 */
public final class StreamBuilder {

    // migration/savevm.c
    public static final int QEMU_VM_FILE_MAGIC = 0x5145564d;
    public static final int QEMU_VM_FILE_VERSION = 3;
    public static final int QEMU_VM_EOF = 0x00;
    public static final int QEMU_VM_SECTION_START = 0x01;
    public static final int QEMU_VM_SECTION_PART = 0x02;
    public static final int QEMU_VM_SECTION_END = 0x03;
    public static final int QEMU_VM_SECTION_FULL = 0x04;
    public static final int QEMU_VM_SUBSECTION = 0x05;
    public static final int QEMU_VM_VMDESCRIPTION = 0x06;
    public static final int QEMU_VM_CONFIGURATION = 0x07;
    public static final int QEMU_VM_COMMAND = 0x08;
    public static final int QEMU_VM_SECTION_FOOTER = 0x7e;

    // migration/savevm.c enum qemu_vm_cmd
    public static final int MIG_CMD_OPEN_RETURN_PATH = 1;
    public static final int MIG_CMD_PING = 2;
    public static final int MIG_CMD_POSTCOPY_ADVISE = 3;
    public static final int MIG_CMD_PACKAGED = 7;
    public static final int MIG_CMD_SWITCHOVER_START = 11;

    // migration/ram.c
    public static final int RAM_SAVE_FLAG_ZERO = 0x002;
    public static final int RAM_SAVE_FLAG_MEM_SIZE = 0x004;
    public static final int RAM_SAVE_FLAG_PAGE = 0x008;
    public static final int RAM_SAVE_FLAG_EOS = 0x010;
    public static final int RAM_SAVE_FLAG_CONTINUE = 0x020;
    public static final int RAM_SAVE_FLAG_XBZRLE = 0x040;
    public static final int RAM_SAVE_FLAG_HOOK = 0x080;
    public static final int RAM_SAVE_FLAG_COMPRESS_PAGE = 0x100;
    public static final int RAM_SAVE_FLAG_MULTIFD_FLUSH = 0x200;
    public static final int ENCODING_FLAG_XBZRLE = 0x1;

    // hw/s390x/s390-stattrib.c
    public static final int STATTR_FLAG_EOS = 0x01;
    public static final int STATTR_FLAG_MORE = 0x02;
    public static final int STATTR_FLAG_DONE = 0x08;

    // libvirt src/qemu/qemu_saveimage.h: QEMU_SAVE_MAGIC, QEMU_SAVE_VERSION
    public static final String LIBVIRT_MAGIC = "LibvirtQemudSave";
    public static final int LIBVIRT_HEADER_BYTES = 92;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private StreamBuilder() {
    }

    /** Nothing written yet: for a bad file header, or a libvirt header first. */
    public static StreamBuilder empty() {
        return new StreamBuilder();
    }

    /** The file header written: QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION. */
    public static StreamBuilder stream() {
        return empty().header();
    }

    /** A libvirt save header (little-endian, raw format) with {@code xml}, then the file header. */
    public static StreamBuilder libvirt(String xml) {
        return empty().libvirtHeader(xml.getBytes(StandardCharsets.UTF_8), ByteOrder.LITTLE_ENDIAN, 0).header();
    }

    // ------------------------------------------------------------------ container

    /** QEMU_VM_FILE_MAGIC (0x5145564d, 'QEVM') and QEMU_VM_FILE_VERSION (3). */
    public StreamBuilder header() {
        return header(QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION);
    }

    /** A file header with the given magic and version (for bad headers). */
    public StreamBuilder header(int magic, int version) {
        return u32(magic).u32(version);
    }

    /**
     * libvirt's virQEMUSaveHeader (92 bytes): magic {@code LibvirtQemudSave}, u32 version 2, u32
     * data_len, u32 was_running 1, u32 format, u32 cookieOffset 0, 14 unused u32, all in
     * {@code order}; then {@code xml} (data_len bytes).
     */
    public StreamBuilder libvirtHeader(byte[] xml, ByteOrder order, int format) {
        ByteBuffer header = ByteBuffer.allocate(LIBVIRT_HEADER_BYTES).order(order);
        header.put(LIBVIRT_MAGIC.getBytes(StandardCharsets.US_ASCII));
        header.putInt(2).putInt(xml.length).putInt(1).putInt(format).putInt(0);
        return bytes(header.array()).bytes(xml);
    }

    /** QEMU_VM_EOF: the device state ends. */
    public StreamBuilder eof() {
        return u8(QEMU_VM_EOF);
    }

    /** QEMU_VM_VMDESCRIPTION: u32 length + the JSON text (UTF-8). */
    public StreamBuilder description(String json) {
        byte[] text = json.getBytes(StandardCharsets.UTF_8);
        return u8(QEMU_VM_VMDESCRIPTION).u32(text.length).bytes(text);
    }

    // ------------------------------------------------------------------ CONFIGURATION

    /** QEMU_VM_CONFIGURATION: u32 length + machine name (vmstate_configuration's len and name). */
    public StreamBuilder configuration(String machine) {
        byte[] name = machine.getBytes(StandardCharsets.UTF_8);
        return u8(QEMU_VM_CONFIGURATION).u32(name.length).bytes(name);
    }

    /** Subsection configuration/target-page-bits (version 1): u32 bits. */
    public StreamBuilder targetPageBits(int bits) {
        return subsection("configuration/target-page-bits", 1).u32(bits);
    }

    /** Subsection configuration/capabilities (version 1): u32 count, then count x (u8 len + name). */
    public StreamBuilder capabilities(String... names) {
        subsection("configuration/capabilities", 1).u32(names.length);
        for (String name : names) {
            str8(name);
        }
        return this;
    }

    /** Subsection configuration/uuid (version 1): 16 bytes. */
    public StreamBuilder uuid(byte[] uuid) {
        if (uuid.length != 16) {
            throw new IllegalArgumentException("a uuid has 16 bytes");
        }
        return subsection("configuration/uuid", 1).bytes(uuid);
    }

    // ------------------------------------------------------------------ sections

    /** QEMU_VM_SECTION_START: u32 section_id, u8 len + idstr, u32 instance_id, u32 version_id. */
    public StreamBuilder sectionStart(long id, String idstr, long instanceId, long version) {
        return u8(QEMU_VM_SECTION_START).sectionHeader(id, idstr, instanceId, version);
    }

    /** QEMU_VM_SECTION_FULL: as START, for a whole device state. */
    public StreamBuilder sectionFull(long id, String idstr, long instanceId, long version) {
        return u8(QEMU_VM_SECTION_FULL).sectionHeader(id, idstr, instanceId, version);
    }

    /** QEMU_VM_SECTION_PART: u32 section_id. */
    public StreamBuilder sectionPart(long id) {
        return u8(QEMU_VM_SECTION_PART).u32(id);
    }

    /** QEMU_VM_SECTION_END: u32 section_id. */
    public StreamBuilder sectionEnd(long id) {
        return u8(QEMU_VM_SECTION_END).u32(id);
    }

    /** QEMU_VM_SECTION_FOOTER: u32 section_id. */
    public StreamBuilder footer(long id) {
        return u8(QEMU_VM_SECTION_FOOTER).u32(id);
    }

    /** QEMU_VM_SUBSECTION inside a device: u8 len + name, u32 version_id. */
    public StreamBuilder subsection(String name, long version) {
        return u8(QEMU_VM_SUBSECTION).str8(name).u32(version);
    }

    private StreamBuilder sectionHeader(long id, String idstr, long instanceId, long version) {
        return u32(id).str8(idstr).u32(instanceId).u32(version);
    }

    // ------------------------------------------------------------------ COMMAND

    /** QEMU_VM_COMMAND: u16 command, u16 length, payload. */
    public StreamBuilder command(int command, byte[] payload) {
        return u8(QEMU_VM_COMMAND).u16(command).u16(payload.length).bytes(payload);
    }

    /** MIG_CMD_SWITCHOVER_START (11), no payload. */
    public StreamBuilder switchoverStart() {
        return command(MIG_CMD_SWITCHOVER_START, new byte[0]);
    }

    /** MIG_CMD_OPEN_RETURN_PATH (1), no payload. */
    public StreamBuilder openReturnPath() {
        return command(MIG_CMD_OPEN_RETURN_PATH, new byte[0]);
    }

    /** MIG_CMD_PING (2): u32 value. */
    public StreamBuilder ping(int value) {
        return command(MIG_CMD_PING, ByteBuffer.allocate(4).putInt(value).array());
    }

    /** MIG_CMD_POSTCOPY_ADVISE (3): u64 OR of all RAM block page sizes, u64 target page size. */
    public StreamBuilder postcopyAdvise(long blockPageSizes, long targetPageSize) {
        return command(MIG_CMD_POSTCOPY_ADVISE,
                ByteBuffer.allocate(16).putLong(blockPageSizes).putLong(targetPageSize).array());
    }

    // ------------------------------------------------------------------ RAM (section "ram", version 4)

    /**
     * A RAM record's u64 (page-aligned {@code address} | {@code flags}) and, unless {@code block}
     * is null, u8 len + idstr; a null block sets RAM_SAVE_FLAG_CONTINUE instead.
     */
    public StreamBuilder ramHeader(long address, int flags, String block) {
        if (block == null) {
            return u64(address | flags | RAM_SAVE_FLAG_CONTINUE);
        }
        return u64(address | flags).str8(block);
    }

    /** RAM_SAVE_FLAG_ZERO: [idstr] u8 fill byte. A null block writes CONTINUE. */
    public StreamBuilder zeroPage(long address, String block, int fill) {
        return ramHeader(address, RAM_SAVE_FLAG_ZERO, block).u8(fill);
    }

    /** RAM_SAVE_FLAG_PAGE: [idstr] the page's bytes. A null block writes CONTINUE. */
    public StreamBuilder page(long address, String block, byte[] data) {
        return ramHeader(address, RAM_SAVE_FLAG_PAGE, block).bytes(data);
    }

    /** RAM_SAVE_FLAG_XBZRLE: [idstr] u8 ENCODING_FLAG_XBZRLE, u16 len, the encoded delta. */
    public StreamBuilder xbzrlePage(long address, String block, byte[] encoded) {
        return ramHeader(address, RAM_SAVE_FLAG_XBZRLE, block).u8(ENCODING_FLAG_XBZRLE).u16(encoded.length)
                .bytes(encoded);
    }

    /** RAM_SAVE_FLAG_COMPRESS_PAGE: [idstr] u32 len, len bytes of zlib data. */
    public StreamBuilder compressedPage(long address, String block, byte[] zlib) {
        return ramHeader(address, RAM_SAVE_FLAG_COMPRESS_PAGE, block).u32(zlib.length).bytes(zlib);
    }

    /** RAM_SAVE_FLAG_MEM_SIZE: u64 total bytes of all blocks | flag; the block entries follow. */
    public StreamBuilder memSize(long total) {
        return u64(total | RAM_SAVE_FLAG_MEM_SIZE);
    }

    /** One entry of the MEM_SIZE block list: u8 len + idstr, u64 used_length. */
    public StreamBuilder block(String name, long usedLength) {
        return str8(name).u64(usedLength);
    }

    /**
     * After a block's used_length, with postcopy-ram, for a block whose page size differs from
     * the target's (migration/ram.c ram_save_setup): u64 page size.
     */
    public StreamBuilder blockPageSize(long pageSize) {
        return u64(pageSize);
    }

    /** After a block's used_length (and page size), with x-ignore-shared: u64 mr_addr. */
    public StreamBuilder mrAddr(long mrAddr) {
        return u64(mrAddr);
    }

    /**
     * MappedRamHeader (migration/ram.c, mapped-ram): u32 version 1, u64 page_size, u64
     * bitmap_offset, u64 pages_offset (offsets absolute in the file).
     */
    public StreamBuilder mappedRamHeader(long pageSize, long bitmapOffset, long pagesOffset) {
        return u32(1).u64(pageSize).u64(bitmapOffset).u64(pagesOffset);
    }

    /** RAM_SAVE_FLAG_EOS: this part of the RAM section ends. */
    public StreamBuilder eos() {
        return u64(RAM_SAVE_FLAG_EOS);
    }

    /** RAM_SAVE_FLAG_MULTIFD_FLUSH: a multifd synchronisation point, no payload. */
    public StreamBuilder multifdFlush() {
        return u64(RAM_SAVE_FLAG_MULTIFD_FLUSH);
    }

    // ------------------------------------------------------------------ raw values

    public StreamBuilder u8(int value) {
        out.write(value);
        return this;
    }

    public StreamBuilder u16(int value) {
        return u8(value >>> 8).u8(value);
    }

    public StreamBuilder u32(long value) {
        return u16((int) (value >>> 16) & 0xffff).u16((int) value & 0xffff);
    }

    public StreamBuilder u64(long value) {
        return u32(value >>> 32).u32(value & 0xffffffffL);
    }

    /** A little-endian u64 (a mapped-ram bitmap word on x86-64). */
    public StreamBuilder u64le(long value) {
        return bytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    /** u8 length + the UTF-8 bytes of {@code text} (idstrs, block and subsection names). */
    public StreamBuilder str8(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 255) {
            throw new IllegalArgumentException("longer than 255 bytes: " + text);
        }
        return u8(bytes.length).bytes(bytes);
    }

    public StreamBuilder bytes(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    public StreamBuilder bytes(int... values) {
        for (int value : values) {
            u8(value);
        }
        return this;
    }

    /** {@code count} zero bytes. */
    public StreamBuilder zeros(int count) {
        return bytes(new byte[count]);
    }

    /** Offset of the next byte written. */
    public long position() {
        return out.size();
    }

    public byte[] toByteArray() {
        return out.toByteArray();
    }

    /** The first {@code length} bytes: the stream cut short. */
    public byte[] cut(long length) {
        return Arrays.copyOf(out.toByteArray(), (int) length);
    }

    /** A page of {@code size} bytes filled with {@code fill}. */
    public static byte[] filled(int size, int fill) {
        byte[] page = new byte[size];
        Arrays.fill(page, (byte) fill);
        return page;
    }

    /** A page of {@code size} bytes counting up from {@code seed}, so that pages differ. */
    public static byte[] pattern(int size, int seed) {
        byte[] page = new byte[size];
        for (int i = 0; i < size; i++) {
            page[i] = (byte) (seed + i * 7);
        }
        return page;
    }

    /** {@code data} compressed as QEMU's compress threads do: one zlib stream, default level. */
    public static byte[] zlib(byte[] data) {
        return zlib(data, java.util.zip.Deflater.DEFAULT_COMPRESSION);
    }

    /** {@code data} as one zlib stream of the given {@link java.util.zip.Deflater} level. */
    public static byte[] zlib(byte[] data, int level) {
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(level);
        try {
            deflater.setInput(data);
            deflater.finish();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[1024];
            while (!deflater.finished()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
            return out.toByteArray();
        } finally {
            deflater.end();
        }
    }

    /**
     * Builds the JSON VM description as QEMU's vmstate.c writes it: {@code {"page_size": N,
     * "devices": [...]}}, devices with {@code fields} and {@code subsections}. Each method returns
     * JSON text; lists are passed as the texts of their items.
     */
    public static final class Json {

        private Json() {
        }

        /** The top object, without a {@code configuration} entry (QEMU before 8.2). */
        public static String description(int pageSize, String... devices) {
            return "{\"page_size\": " + pageSize + ", \"devices\": " + list(devices) + "}";
        }

        /** The top object with a {@code configuration} entry (QEMU 8.2+). */
        public static String descriptionWithConfiguration(int pageSize, String configuration, String... devices) {
            return "{\"configuration\": " + configuration + ", \"page_size\": " + pageSize + ", \"devices\": "
                    + list(devices) + "}";
        }

        /**
         * The {@code configuration} entry: fields {@code len} (uint32) and {@code name} (buffer of
         * the machine name's length), then the given subsections.
         */
        public static String configuration(String machine, String... subsections) {
            return struct("configuration", 1, new String[] {field("len", "uint32", 4),
                    field("name", "buffer", machine.getBytes(StandardCharsets.UTF_8).length)}, subsections);
        }

        /** A device: name, instance_id, vmsd_name (= name), version, fields, no subsections. */
        public static String device(String name, long instanceId, int version, String... fields) {
            return deviceWithSubsections(name, instanceId, version, fields);
        }

        /** A device with subsections. */
        public static String deviceWithSubsections(String name, long instanceId, int version, String[] fields,
                                            String... subsections) {
            return "{\"name\": " + quote(name) + ", \"instance_id\": " + instanceId + ", "
                    + struct(name, version, fields, subsections).substring(1);
        }

        /** A subsection (or struct body): vmsd_name, version, fields, subsections. */
        public static String struct(String vmsdName, int version, String[] fields, String... subsections) {
            StringBuilder json = new StringBuilder("{\"vmsd_name\": ").append(quote(vmsdName))
                    .append(", \"version\": ").append(version)
                    .append(", \"fields\": ").append(list(fields));
            if (subsections.length > 0) {
                json.append(", \"subsections\": ").append(list(subsections));
            }
            return json.append('}').toString();
        }

        /** A field: name, type, size. */
        public static String field(String name, String type, int size) {
            return "{\"name\": " + quote(name) + ", \"type\": " + quote(type) + ", \"size\": " + size + "}";
        }

        /** A field standing for {@code arrayLen} copies. */
        public static String arrayField(String name, String type, int size, int arrayLen) {
            return "{\"name\": " + quote(name) + ", \"array_len\": " + arrayLen + ", \"type\": " + quote(type)
                    + ", \"size\": " + size + "}";
        }

        /** An array element given with {@code index}. */
        public static String indexField(String name, String type, int size, int index) {
            return "{\"name\": " + quote(name) + ", \"index\": " + index + ", \"type\": " + quote(type)
                    + ", \"size\": " + size + "}";
        }

        /** A struct field: its {@code struct} body is {@link #struct}'s text; {@code index} &lt; 0 for none. */
        public static String structField(String name, int index, int size, String body) {
            return "{\"name\": " + quote(name) + (index >= 0 ? ", \"index\": " + index : "")
                    + ", \"type\": \"struct\", \"struct\": " + body + ", \"size\": " + size + "}";
        }

        /** JSON list of the given item texts. */
        public static String list(String... items) {
            StringJoiner joined = new StringJoiner(", ", "[", "]");
            for (String item : items) {
                joined.add(item);
            }
            return joined.toString();
        }

        public static String quote(String text) {
            return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
    }
}
