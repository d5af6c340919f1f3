package io.qevm;

import tools.jackson.core.JsonToken;

/**
 * Every message the reader's exceptions carry, in one place (as Aalto keeps its error strings).
 * Each says what was expected and what was found; the offset and section are added by the
 * exception itself.
 */
final class Messages {

    private Messages() {
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    // file header, container and trailer

    static String badMagic(long magic) {
        return "expected the QEMU migration magic 0x5145564d ('QEVM'), found " + hex(magic)
                + " (not a QEMU migration stream or libvirt save image)";
    }

    static String badVersion(long version) {
        return "expected stream version 3, found " + version;
    }

    static String libvirtCompressed(String format, long streamOffset) {
        return "libvirt save image compressed with " + format + ": not supported yet (decompress the bytes from offset "
                + streamOffset + " on, e.g. tail -c +" + (streamOffset + 1) + " FILE | " + format + " -dc > stream.mig)";
    }

    static String libvirtDataBeyondEnd(long dataLength, long fileSize) {
        return "libvirt header announces " + dataLength + " bytes of XML, past the end of the " + fileSize + "-byte file";
    }

    static String noDescription() {
        return "expected a JSON VM description (QEMU_VM_VMDESCRIPTION record) at the end of the file, found none"
                + " (saved with suppress-vmdesc=on, or the file is truncated): device state cannot be decoded";
    }

    static String deviceWithoutDescription(String name, long instanceId) {
        return "device section '" + name + "' instance " + instanceId
                + " needs the JSON VM description, and this stream has none";
    }

    static String bytesAfterEof(long count, boolean beforeDescription) {
        return "expected " + (beforeDescription ? "the JSON VM description" : "the end of the file")
                + " right after QEMU_VM_EOF, found " + count + " more bytes";
    }

    static String descriptionBeforeEof() {
        return "expected a record type, found QEMU_VM_VMDESCRIPTION (0x06) before QEMU_VM_EOF";
    }

    static String truncated(String what, long length, long end, boolean atDescription) {
        return "expected " + (length >= 0 ? length + " bytes of " : "") + what + ", found the end of the "
                + (atDescription ? "stream (the JSON VM description starts at" : "file (at") + " byte " + end
                + ")" + (length < 0 ? " (the length read is negative)" : "");
    }

    // the JSON description

    static String descriptionNotJson(String detail) {
        return "the JSON VM description is not valid JSON: " + detail;
    }

    static String descriptionTrailingData() {
        return "expected the end of the JSON VM description, found more JSON";
    }

    static String descriptionMissing(String what) {
        return "the JSON VM description has no " + what;
    }

    static String descriptionWrongType(String what, String expected, JsonToken found) {
        return "expected " + what + " (" + expected + ") in the JSON VM description, found "
                + (found == null ? "the end" : found.name());
    }

    static String limit(String what, long value, long max) {
        return "too many " + what + ": " + value + ", over the limit of " + max + " (see ReadLimits)";
    }

    // records

    static String unknownRecord(int type) {
        return "expected a record type (0x00-0x08 or 0x7e), found " + hex(type);
    }

    static String footerWithoutSection(long id) {
        return "found a section footer for id " + id + " before any section";
    }

    static String footerMismatch(long id, long expected) {
        return "expected the footer of section " + expected + ", found one for section " + id;
    }

    static String unsupportedVersion(String what, long version, long expected) {
        return "expected " + what + " section version " + expected + ", found " + version;
    }

    static String undescribedSection(String name, long instanceId) {
        return "section '" + name + "' instance " + instanceId + " is not in the JSON VM description";
    }

    static String unknownSectionId(long id, RecordType type) {
        return "found a " + type + " record for section id " + id + ", which no START record opened";
    }

    static String noPageSize() {
        return "RAM section found but the page size is unknown (no page_size in the description, no"
                + " target-page-bits in the configuration): give it (qevm --page-size N)";
    }

    static String badPageSize(long pageSize) {
        return "expected a page size that is a power of two from 512 to 1048576, found " + pageSize;
    }

    static String badPageBits(int bits) {
        return "expected target-page-bits from 9 to 20, found " + bits;
    }

    static String unknownConfigurationSubsection(String name) {
        return "expected a configuration subsection (target-page-bits, capabilities, uuid), found '" + name + "'";
    }

    static String unknownCommand(int command) {
        return "expected a MIG_CMD from 1 to 11, found " + command;
    }

    static String packagedUnsupported() {
        return "MIG_CMD_PACKAGED (postcopy's nested stream) is not supported";
    }

    static String badCommandLength(int command, int length, int expected) {
        return "expected MIG_CMD " + command + " with " + expected + " bytes of payload, found " + length;
    }

    // RAM

    static String unknownRamFlags(int flags) {
        return "expected one RAM_SAVE_FLAG (ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, COMPRESS_PAGE, MULTIFD_FLUSH),"
                + " found flags " + hex(flags);
    }

    static String ramHook() {
        return "found RAM_SAVE_FLAG_HOOK, which only RDMA migration sends";
    }

    static String continueWithoutBlock() {
        return "found RAM_SAVE_FLAG_CONTINUE before any page named its block";
    }

    static String unknownBlock(String name) {
        return "expected a RAM block of the MEM_SIZE list, found '" + name + "'";
    }

    static String pageOutsideBlock(long address, String block, long length) {
        return "page at " + hex(address) + " lies outside block '" + block + "' of " + hex(length) + " bytes";
    }

    static String blockListShort(long remaining) {
        return "expected another RAM block (" + remaining + " bytes of the MEM_SIZE total left), found an empty name";
    }

    static String blockListOverrun(String name, long length, long remaining) {
        return "RAM block '" + name + "' has " + Long.toUnsignedString(length) + " bytes, more than the "
                + remaining + " left of the MEM_SIZE total";
    }

    static String badXbzrleEncoding(int encoding) {
        return "expected XBZRLE encoding flag 0x01, found " + hex(encoding);
    }

    static String xbzrleTooLong(int length, long pageSize) {
        return "XBZRLE data of " + length + " bytes exceeds the page size " + pageSize;
    }

    static String negativeLength(String what, long value) {
        return "expected a " + what + " below 2^63, found " + Long.toUnsignedString(value);
    }

    static String badXbzrle(String problem) {
        return "malformed XBZRLE delta " + problem;
    }

    static String xbzrleNeedsFile() {
        return "XBZRLE pages need a seekable file (the previous copies of pages are read again)";
    }

    static String badZlib(String detail) {
        return "compressed page is not valid zlib data: " + detail;
    }

    static String badInflatedSize(String produced, long pageSize) {
        return "expected a compressed page to inflate to one page of " + pageSize + " bytes, it inflates to "
                + produced + " " + pageSize + " bytes";
    }

    static String mappedRamLayout(String block, long headerEnd, long bitmapOffset, long bitmapBytes,
                                  long pagesOffset) {
        return "expected mapped-ram block '" + block + "' to have its bitmap after its header (at or past "
                + hex(headerEnd) + ") and its pages after the " + bitmapBytes + "-byte bitmap, found bitmap at "
                + hex(bitmapOffset) + " and pages at " + hex(pagesOffset);
    }

    static String mappedRamVersion(long version) {
        return "expected MappedRamHeader version 1, found " + version;
    }

    static String mappedRamPageSize(long pageSize, long expected) {
        return "expected MappedRamHeader page size " + expected + ", found " + pageSize;
    }

    static String mappedRamNeedsFile() {
        return "mapped-ram streams need a seekable file";
    }

    static String mappedRamOutsideFile(String block, long bitmapOffset, long pagesOffset, long fileSize) {
        return "mapped-ram block '" + block + "' has its bitmap at " + hex(bitmapOffset) + " and pages at "
                + hex(pagesOffset) + ", outside the " + fileSize + "-byte file";
    }

    // other sections and fields

    static String storageAttributesError() {
        return "found STATTR_FLAG_ERROR: the source failed to save storage attributes";
    }

    static String unknownStorageAttributeFlags(int flags) {
        return "expected storage attribute flags EOS, MORE or DONE, found " + hex(flags);
    }

    static String subsectionMissing(String name, int marker) {
        return "expected subsection '" + name + "' (QEMU_VM_SUBSECTION 0x05), found " + hex(marker);
    }

    static String badFieldSize(String name, String type, long size) {
        return "field '" + name + "' of type '" + type + "' has " + (size < 0 ? "no size" : "size " + size)
                + " in the JSON VM description";
    }

    static String badNullptr(String name, byte found) {
        return "expected the nullptr marker '0' (0x30) for field '" + name + "', found " + hex(found & 0xff);
    }
}
