package io.qevm.container;

import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteSource;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * libvirt's save image header ({@code virQEMUSaveHeader}, src/qemu/qemu_saveimage.h), as
 * {@code virsh save}, managed save and external snapshots' memory files write it: a 16-byte
 * magic, then u32 version, data_len, was_running, format, cookieOffset and 15 unused u32s (92
 * bytes), in the writing host's byte order (libvirt swaps them when the version reads as more
 * than it knows). data_len bytes of domain XML (a NUL, the cookie's XML at cookieOffset, NUL
 * padding) follow; the QEMU stream, or its compressed data, starts right after them.
 *
 * @param magic        {@code LibvirtQemudSave}, or {@code LibvirtQemudPart} for a save not finished
 * @param version      1 or 2
 * @param dataLength   data_len
 * @param wasRunning   was_running
 * @param format       the format field: 0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd, 6 sparse
 * @param cookieOffset where the cookie starts in the data, or 0
 */
record LibvirtHeader(String magic, int version, long dataLength, boolean wasRunning, long format,
                     long cookieOffset) {

    static final int BYTES = 92;
    static final int MAGIC_BYTES = 16;
    private static final String SAVE_MAGIC = "LibvirtQemudSave";
    private static final String PARTIAL_MAGIC = "LibvirtQemudPart";
    private static final int VERSION_AT = 16;
    private static final int DATA_LENGTH_AT = 20;
    private static final int WAS_RUNNING_AT = 24;
    private static final int FORMAT_AT = 28;
    private static final int COOKIE_AT = 32;
    /** QEMU_SAVE_FORMAT_SPARSE (libvirt 10.x): the stream is mapped-ram, read as a raw one is. */
    static final int FORMAT_SPARSE = 6;
    /** QEMU_SAVE_VERSION: the newest libvirt writes; version 1 images are always raw. */
    private static final int NEWEST_VERSION = 2;
    /**
     * How much of the data (domain XML, cookie, padding) is kept in memory: real domain XML is a
     * few tens of KiB; a data_len of GBs is skipped over, not held.
     */
    static final int MAX_XML_BYTES = 16 << 20;
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Whether {@code head} starts with a libvirt save image's magic. */
    static boolean isMagic(MemorySegment head) {
        if (head.byteSize() < MAGIC_BYTES) {
            return false;
        }
        String magic = magic(head);
        return magic.equals(SAVE_MAGIC) || magic.equals(PARTIAL_MAGIC);
    }

    private static String magic(MemorySegment head) {
        return new String(head.asSlice(0, MAGIC_BYTES).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.ISO_8859_1);
    }

    /**
     * Reads the header at offset 0 of {@code source}, whose magic was seen.
     *
     * @param stream what {@code source}'s offsets count in, for messages (null: the source itself)
     */
    static LibvirtHeader read(ByteSource source, String stream) throws IOException {
        MemorySegment head = source.window(0, BYTES);
        if (head.byteSize() < BYTES) {
            long end = head.byteSize();
            throw new TruncatedInputException(Messages.truncated("libvirt save header", BYTES,
                    Messages.endOfSource(source.kind(), end)), where(0, end, stream));
        }
        long version = u32(head, VERSION_AT, false);
        boolean swapped = false;
        if (version < 1 || version > NEWEST_VERSION) {
            // a header written on a host of the other byte order: libvirt swaps when the version
            // reads as one it does not know, and so do we
            long other = u32(head, VERSION_AT, true);
            if (other < 1 || other > NEWEST_VERSION) {
                throw new MalformedStreamException(Messages.libvirtVersion(version, other),
                        where(VERSION_AT, VERSION_AT, stream));
            }
            version = other;
            swapped = true;
        }
        long dataLength = u32(head, DATA_LENGTH_AT, swapped);
        boolean wasRunning = u32(head, WAS_RUNNING_AT, swapped) != 0;
        long format = u32(head, FORMAT_AT, swapped);
        long cookieOffset = u32(head, COOKIE_AT, swapped);
        if (version == NEWEST_VERSION && format > FORMAT_SPARSE) {
            throw new MalformedStreamException(Messages.libvirtFormat(format), where(FORMAT_AT, FORMAT_AT, stream));
        }
        long size = source.size();
        if (size >= 0 && BYTES + dataLength > size - 8) {
            // the stream's 8-byte header at least must follow the XML
            throw new TruncatedInputException(Messages.libvirtDataBeyondEnd(dataLength, size),
                    where(DATA_LENGTH_AT, size, stream));
        }
        return new LibvirtHeader(magic(head), (int) version, dataLength, wasRunning, format, cookieOffset);
    }

    /** Where the QEMU stream, or its compressed data, starts. */
    long streamOffset() {
        return BYTES + dataLength;
    }

    /**
     * How the payload is compressed, or null when it is raw: formats 0 and 6 (sparse), and
     * everything in a version 1 header (libvirt decompresses only version 2 images).
     */
    Compression compression() {
        return version == NEWEST_VERSION ? Compression.ofLibvirt(format) : null;
    }

    /**
     * The domain XML: the data up to its first NUL (the cookie and the padding after it are
     * dropped), UTF-8, at most {@link #MAX_XML_BYTES}. On a sequential source this reads on to
     * the stream's start: a data_len past the end fails here, naming it.
     */
    String domainXml(ByteSource source, String stream) throws IOException {
        long kept = Math.min(dataLength, MAX_XML_BYTES);
        MemorySegment data = source.window(BYTES, kept);
        if (data.byteSize() < kept) {
            throw dataPastTheEnd(source, BYTES + data.byteSize(), stream);
        }
        byte[] bytes = data.asSlice(0, kept).toArray(ValueLayout.JAVA_BYTE);
        int length = 0;
        while (length < bytes.length && bytes[length] != 0) {
            length++;
        }
        String xml = new String(bytes, 0, length, StandardCharsets.UTF_8);
        if (!source.isRandomAccess()) {
            // move to the stream: what lies between is read and dropped, and must be there
            MemorySegment next = source.window(streamOffset(), 1);
            if (next.byteSize() == 0) {
                throw dataPastTheEnd(source, Math.max(BYTES + kept, source.size()), stream);
            }
        }
        return xml;
    }

    private TruncatedInputException dataPastTheEnd(ByteSource source, long end, String stream) {
        return new TruncatedInputException(Messages.libvirtDataPastTheEnd(dataLength, source.kind(), end),
                where(DATA_LENGTH_AT, end, stream));
    }

    private static long u32(MemorySegment head, int at, boolean swapped) {
        int value = head.get(LE32, at);
        return Integer.toUnsignedLong(swapped ? Integer.reverseBytes(value) : value);
    }

    private static ReadContext where(long eventOffset, long position, String stream) {
        ReadContext at = new ReadContext(eventOffset, position, null, -1, null);
        return stream == null ? at : at.within(stream);
    }
}
