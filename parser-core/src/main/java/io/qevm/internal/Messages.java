package io.qevm.internal;

import io.qevm.MigrationEvent;
import io.qevm.RecordType;
import tools.jackson.core.JsonToken;

/**
 * Every message the reader's exceptions carry, in one place (as Aalto keeps its error strings).
 * Each says what was expected and what was found; the offset and section are added by the
 * exception itself.
 */
public final class Messages {

    private Messages() {
    }

    public static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    // file header, container and trailer

    public static String badMagic(long magic) {
        return "expected the QEMU migration magic 0x5145564d ('QEVM'), found " + hex(magic)
                + " (not a QEMU migration stream, libvirt save image, qcow2 image, or gzip, bzip2, xz, zstd or lzop"
                + " data)";
    }

    public static String badVersion(long version) {
        return "expected stream version 3, found " + version;
    }

    /** {@code swapped}: the same field read in the other byte order. */
    public static String libvirtVersion(long version, long swapped) {
        return "expected libvirt save header version 1 or 2 (in either byte order), found " + version + " ("
                + swapped + " byte-swapped)";
    }

    public static String libvirtFormat(long format) {
        return "expected a libvirt save image format from 0 to 6 (raw, gzip, bzip2, xz, lzop, zstd, sparse), found "
                + format;
    }

    public static String libvirtDataBeyondEnd(long dataLength, long fileSize) {
        return "libvirt header announces " + dataLength + " bytes of XML, past the end of the " + fileSize + "-byte file";
    }

    /** As {@link #libvirtDataBeyondEnd}, on a stream whose end was found at {@code end}. */
    public static String libvirtDataPastTheEnd(long dataLength, String kind, long end) {
        return "libvirt header announces " + dataLength + " bytes of XML, past the end of the " + kind + " (at byte "
                + end + ")";
    }

    /** The payload of a libvirt image whose header names a compression does not start with its magic. */
    public static String libvirtPayload(String format, long formatNumber, String found) {
        return "expected " + format + " data after the libvirt header and XML (its format " + formatNumber
                + "), found " + found;
    }

    /** Compressed data (gzip, ...) that ends early; {@code kind}: what holds it ("file", "input"). */
    public static String compressedTruncated(String format, String kind) {
        return "expected more " + format + " data, found the end of the " + kind + " (truncated?)";
    }

    /** Compressed data that is not valid, found with the bytes up to the offset read. */
    public static String compressedCorrupt(String format, String detail) {
        return "corrupt " + format + " data: " + detail;
    }

    public static String xzMemory(long neededKib, long limitKib) {
        return "the xz data needs " + (neededKib + 1023) / 1024 + " MiB of memory to decompress, over qevm's limit of "
                + limitKib / 1024 + " MiB";
    }

    public static String nestedTooDeep(int max) {
        return "more than " + max + " containers nested (compressed data inside compressed data ...): not a dump";
    }

    /** The hook where io.qevm.qcow2 takes over (issue 10). */
    public static String qcow2NotYet() {
        return "qcow2 images: not supported yet";
    }

    /** {@code where}: "gzip-decompressed stream", "input". */
    public static String qcow2NeedsRandomAccess(String where, boolean decompressed) {
        return "found a qcow2 image in the " + where + ": qcow2 needs random access, "
                + (decompressed ? "decompress it first" : "give it as a file");
    }

    public static String noDescription() {
        return "expected a JSON VM description (QEMU_VM_VMDESCRIPTION record) at the end of the file, found none"
                + " (saved with suppress-vmdesc=on, or the file is truncated): device state cannot be decoded";
    }

    public static String deviceWithoutDescription(String name, long instanceId) {
        return "device section '" + name + "' instance " + instanceId
                + " needs the JSON VM description, and this stream has none";
    }

    public static String bytesAfterEof(long count, boolean beforeDescription) {
        return "expected " + (beforeDescription ? "the JSON VM description" : "the end of the file")
                + " right after QEMU_VM_EOF, found " + count + " more bytes";
    }

    public static String heldTooLong(long max) {
        return "more than " + max + " bytes of device state follow the first device section of the stream, held"
                + " until the JSON VM description at its end arrives (see ReadLimits.maxHeldStreamBytes)";
    }

    public static String pageSizeDisagrees(long described, long read, boolean given) {
        return "the JSON VM description gives page_size " + described + ", but the RAM records were read with pages of "
                + read + " bytes" + (given ? ", the size given (--page-size)" : "");
    }

    /** Added to a RAM record's error when the stream did not state the page size it was read with. */
    public static String pageSizeDoubt(long pageSize, boolean given) {
        return given
                ? "; the stream does not state its page size, and the one given, " + pageSize
                        + " bytes (--page-size), may be wrong"
                : "; the stream does not state its page size, and the one told from its first RAM records, " + pageSize
                        + " bytes, may be wrong (give it with --page-size N)";
    }

    public static String pageBitsDisagree(int bits, long described) {
        return "target-page-bits " + bits + " gives pages of " + (1L << bits)
                + " bytes, but the JSON VM description gives page_size " + described;
    }

    public static String descriptionBeforeEof() {
        return "expected a record type, found QEMU_VM_VMDESCRIPTION (0x06) before QEMU_VM_EOF";
    }

    /** Not a byte to read: {@code kind} is "file" or "input" (a stream). */
    public static String empty(String kind) {
        return "empty " + kind;
    }

    /** {@code theEnd} from {@link #endOfSource} or {@link #endOfRegion}. */
    public static String truncated(String what, long length, String theEnd) {
        // "a byte" says its length itself; everything else is named with its length
        String expected = length == 1 && what.equals("a byte") ? what
                : (length >= 0 ? length + " bytes of " : "") + what;
        return "expected " + expected + ", found " + theEnd + (length < 0 ? " (the length read is negative)" : "");
    }

    /** The end of the data itself: {@code kind} is "file" or "input". */
    public static String endOfSource(String kind, long offset) {
        return "the end of the " + kind + " (at byte " + offset + ")";
    }

    /** The end of a region whose length the stream gave; the device stream ends at the description. */
    public static String endOfRegion(String region, long offset) {
        return region.equals(DESCRIPTION_REGION)
                ? "the end of the stream (the JSON VM description starts at byte " + offset + ")"
                : "the end of the " + region + " (at byte " + offset + ")";
    }

    /** The region the device stream lies in when a JSON description follows it. */
    public static final String DESCRIPTION_REGION = "device stream";

    // the JSON description

    public static String descriptionNotJson(String detail) {
        return "the JSON VM description is not valid JSON: " + detail;
    }

    public static String descriptionTrailingData() {
        return "expected the end of the JSON VM description, found more JSON";
    }

    public static String descriptionMissing(String what) {
        return "the JSON VM description has no " + what;
    }

    public static String descriptionWrongType(String what, String expected, JsonToken found) {
        return "expected " + what + " (" + expected + ") in the JSON VM description, found "
                + (found == null ? "the end" : found.name());
    }

    public static String limit(String what, long value, long max) {
        return "too many " + what + ": " + value + ", over the limit of " + max + " (see ReadLimits)";
    }

    // records

    public static String unknownRecord(int type) {
        return "expected a record type (0x00-0x08 or 0x7e), found " + hex(type);
    }

    public static String footerWithoutSection(long id) {
        return "found a section footer for id " + id + " before any section";
    }

    public static String footerMismatch(long id, long expected) {
        return "expected the footer of section " + expected + ", found one for section " + id;
    }

    public static String unsupportedVersion(String what, long version, long expected) {
        return "expected " + what + " section version " + expected + ", found " + version;
    }

    public static String undescribedSection(String name, long instanceId) {
        return "section '" + name + "' instance " + instanceId + " is not in the JSON VM description";
    }

    public static String unknownSectionId(long id, RecordType type) {
        return "found a " + type + " record for section id " + id + ", which no START record opened";
    }

    public static String noPageSize() {
        return "cannot tell the RAM page size: the stream gives none before its pages (no page_size in a JSON"
                + " description, no target-page-bits), and its RAM records read as pages of none of 1 KiB to 64 KiB;"
                + " give it (qevm --page-size N)";
    }

    public static String badPageSize(long pageSize) {
        return "expected a page size that is a power of two from 512 to 1048576, found " + pageSize;
    }

    public static String badPageBits(int bits) {
        return "expected target-page-bits from 9 to 20, found " + bits;
    }

    public static String unknownConfigurationSubsection(String name) {
        return "expected a configuration subsection (target-page-bits, capabilities, uuid), found '" + name + "'";
    }

    public static String unknownCommand(int command) {
        return "expected a MIG_CMD from 1 to 11, found " + command;
    }

    public static String packagedUnsupported() {
        return "MIG_CMD_PACKAGED (postcopy's nested stream) is not supported";
    }

    public static String badCommandLength(int command, int length, int expected) {
        return "expected MIG_CMD " + command + " with " + expected + " bytes of payload, found " + length;
    }

    // RAM

    public static String unknownRamFlags(int flags) {
        return "expected one RAM_SAVE_FLAG (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH),"
                + " found flags " + hex(flags);
    }

    public static String ramHook() {
        return "found RAM_SAVE_FLAG_HOOK, which only RDMA migration sends";
    }

    public static String continueWithoutBlock() {
        return "found RAM_SAVE_FLAG_CONTINUE before any page named its block";
    }

    public static String unknownBlock(String name) {
        return "expected a RAM block of the MEM_SIZE list, found '" + name + "'";
    }

    public static String pageOutsideBlock(long address, String block, long length) {
        return "page at " + hex(address) + " lies outside block '" + block + "' of " + hex(length) + " bytes";
    }

    public static String blockListShort(long remaining) {
        return "expected another RAM block (" + remaining + " bytes of the MEM_SIZE total left), found an empty name";
    }

    public static String blockListOverrun(String name, long length, long remaining) {
        return "RAM block '" + name + "' has " + Long.toUnsignedString(length) + " bytes, more than the "
                + Long.toUnsignedString(remaining) + " left of the MEM_SIZE total";
    }

    public static String badXbzrleEncoding(int encoding) {
        return "expected XBZRLE encoding flag 0x01, found " + hex(encoding);
    }

    public static String xbzrleTooLong(int length, long pageSize) {
        return "XBZRLE data of " + length + " bytes exceeds the page size " + pageSize;
    }

    public static String negativeLength(String what, long value) {
        return "expected a " + what + " below 2^63, found " + Long.toUnsignedString(value);
    }

    public static String badXbzrle(String problem) {
        return "malformed XBZRLE delta " + problem;
    }

    public static String xbzrleNeedsStore() {
        return "an XBZRLE page read from a stream needs the page's earlier copy, which a stream cannot read again:"
                + " give the reader a PageStore (MigrationReader.setPageStore) that keeps every page";
    }

    public static String resendsNotTracked() {
        return "isResend() needs the reader opened with ReadOptions.Feature.TRACK_RESENDS";
    }

    public static String badZlib(String detail) {
        return "compressed page is not valid zlib data: " + detail;
    }

    public static String badInflatedSize(String produced, long pageSize) {
        return "expected a compressed page to inflate to one page of " + pageSize + " bytes, it inflates to "
                + produced + " " + pageSize + " bytes";
    }

    public static String mappedRamLayout(String block, long headerEnd, long bitmapOffset, long bitmapBytes,
                                  long pagesOffset) {
        return "expected mapped-ram block '" + block + "' to have its bitmap after its header (at or past "
                + hex(headerEnd) + ") and its pages after the " + bitmapBytes + "-byte bitmap, found bitmap at "
                + hex(bitmapOffset) + " and pages at " + hex(pagesOffset);
    }

    public static String mappedRamVersion(long version) {
        return "expected MappedRamHeader version 1, found " + version;
    }

    public static String mappedRamPageSize(long pageSize, long expected) {
        return "expected MappedRamHeader page size " + expected + ", found " + pageSize;
    }

    public static String mappedRamOutsideFile(String block, long bitmapOffset, long pagesOffset, long fileSize) {
        return "mapped-ram block '" + block + "' has its bitmap at " + hex(bitmapOffset) + " and pages at "
                + hex(pagesOffset) + ", outside the " + fileSize + "-byte file";
    }

    // misuse of the reader's API (IllegalStateException)

    /** {@code validOn}: a mask of MigrationEvent ids, or -1 for "inside a section record". */
    public static String notValidOn(String accessor, MigrationEvent event, long validOn) {
        StringBuilder valid = new StringBuilder();
        if (validOn == -1) {
            valid.append("SECTION_START, SECTION_END, FOOTER and the events between them");
        } else {
            for (MigrationEvent each : MigrationEvent.values()) {
                if ((validOn & (1L << each.id())) != 0) {
                    valid.append(valid.isEmpty() ? "" : ", ").append(each);
                }
            }
        }
        return accessor + " is not valid " + (event == null ? "before the first next()" : "on " + event)
                + "; valid on " + valid;
    }

    public static String notAnInteger(String field, String accessor, boolean upTo8Bytes) {
        return accessor + " is not valid on field '" + field + "': it is not an integer"
                + (upTo8Bytes ? " of up to 8 bytes" : "");
    }

    public static String wrongFieldKind(String field, String accessor, String kind) {
        return accessor + " is not valid on field '" + field + "': it is not a " + kind;
    }

    public static String noDescriptionToHand() {
        return "the stream has no JSON description";
    }

    public static String descriptionNotYetRead() {
        return "the JSON description of a stream is read when the reader reaches the device state: call next()"
                + " until isDescriptionKnown()";
    }

    public static String bytesAtNeedsFile() {
        return "bytesAt() needs a random-access source (a file, not a stream)";
    }

    // other sections and fields

    public static String storageAttributesError() {
        return "found STATTR_FLAG_ERROR: the source failed to save storage attributes";
    }

    public static String unknownStorageAttributeFlags(int flags) {
        return "expected storage attribute flags EOS, MORE or DONE, found " + hex(flags);
    }

    public static String subsectionMissing(String name, int marker) {
        return "expected subsection '" + name + "' (QEMU_VM_SUBSECTION 0x05), found " + hex(marker);
    }

    public static String badFieldSize(String name, String type, long size) {
        return "field '" + name + "' of type '" + type + "' has " + (size < 0 ? "no size" : "size " + size)
                + " in the JSON VM description";
    }

    public static String badNullptr(String name, byte found) {
        return "expected the nullptr marker '0' (0x30) for field '" + name + "', found " + hex(found & 0xff);
    }
}
