package io.qevm.internal;

import io.qevm.GuestMemory;
import io.qevm.MigrationEvent;
import io.qevm.RecordType;
import java.util.List;
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

    /** What the offsets of a stream in a qcow2 snapshot count in: "VM state of snapshot 1 'boot'". */
    public static String vmStateOf(String snapshot) {
        return "VM state of " + snapshot;
    }

    /** {@code where}: "gzip-decompressed stream". */
    public static String qcow2InCompressedData(String where) {
        return "found a qcow2 image in the " + where + ": qcow2 needs random access, decompress it first";
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
                + " until the JSON VM description after them arrives (see ReadLimits.maxHeldStreamBytes)";
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

    // qcow2 images (io.qevm.qcow2)

    public static String qcow2BadMagic(long magic) {
        return "expected the qcow2 magic 'QFI\\xfb' (0x514649fb), found " + hex(magic) + " (not a qcow2 image)";
    }

    public static String qcow2BadVersion(long version) {
        return "expected qcow2 version 2 or 3, found " + version;
    }

    public static String qcow2BadClusterBits(long bits, int min, int max) {
        return "expected cluster_bits from " + min + " to " + max + " (clusters of 512 bytes to 2 MiB, as QEMU opens), found "
                + bits;
    }

    public static String qcow2BadHeaderLength(long length, int min, long clusterSize) {
        return "expected a qcow2 version 3 header_length from " + min + " to the cluster size " + clusterSize
                + ", found " + length;
    }

    public static String qcow2UnknownFeatures(long bits) {
        return "qcow2 image with incompatible features unknown to qevm (bits " + hex(bits)
                + "): it cannot be read safely";
    }

    public static String qcow2ExternalDataFile() {
        return "qcow2 image with an external data file: its guest data, and any VM state, are not in this file"
                + " (QEMU keeps no internal snapshots with one)";
    }

    public static String qcow2Encrypted(long method) {
        return "encrypted qcow2 image (" + (method == 1 ? "AES" : method == 2 ? "LUKS" : "crypt_method " + method)
                + "): its VM state is encrypted as its disk is, and qevm does not decrypt";
    }

    public static String qcow2UnknownCompression(int type) {
        return "expected qcow2 compression_type 0 (zlib) or 1 (zstd), found " + type;
    }

    public static String qcow2CompressionBitMismatch(int type) {
        return type == 0 ? "qcow2 compression type bit set, but the compression_type is zlib (0)"
                : "qcow2 compression_type " + type + " without the compression type incompatible feature bit";
    }

    public static String qcow2ExtendedL2ClusterSize(long clusterSize, long min) {
        return "qcow2 extended L2 entries need clusters of at least " + min + " bytes, found " + clusterSize;
    }

    public static String qcow2TooManySnapshots(long count, long max) {
        return "expected at most " + max + " internal snapshots (QEMU's limit), found nb_snapshots " + count;
    }

    public static String qcow2ExtraDataTooBig(int index, long size, long max) {
        return "snapshot table entry " + index + ": expected at most " + max + " bytes of extra data (QEMU's limit), found "
                + size;
    }

    public static String qcow2SnapshotTableTooBig(int index, long max) {
        return "snapshot table entry " + index + " ends past " + max + " bytes of table (QEMU's limit)";
    }

    public static String qcow2Unaligned(String what, long offset, long clusterSize) {
        return "expected the " + what + " at a cluster boundary (clusters of " + clusterSize + " bytes), found offset "
                + hex(offset);
    }

    public static String qcow2IntoHeader(String what, long offset) {
        return "expected the " + what + " past the image header's cluster, found offset " + hex(offset);
    }

    public static String qcow2PastEnd(String what, long offset, long length, long fileSize) {
        return "expected the " + what + " (" + length + " bytes at offset " + hex(offset) + ") inside the file, found the end"
                + " of the file (at byte " + fileSize + ")";
    }

    public static String qcow2L1TooBig(String snapshot, long entries, long max) {
        return "expected the L1 table of " + snapshot + " to have at most " + max + " entries (QEMU's limit), found "
                + entries;
    }

    public static String qcow2DiskTooBig(String snapshot, long diskSize) {
        return "the disk size of " + snapshot + " (" + Long.toUnsignedString(diskSize)
                + " bytes) is past what qcow2 maps: no VM-state area can follow it";
    }

    public static String qcow2L1BeforeVmState(String snapshot, long l1Size, long index, long diskSize) {
        return "the L1 table of " + snapshot + " has " + l1Size + " entries: none for its VM-state area, which starts at"
                + " entry " + index + " (after the disk's " + Long.toUnsignedString(diskSize) + " bytes)";
    }

    public static String qcow2VmStateBeyondL1(String snapshot, long vmStateSize, long coverage) {
        return "the VM state of " + snapshot + " (" + Long.toUnsignedString(vmStateSize)
                + " bytes) is larger than what its L1 table maps after the disk (" + coverage + " bytes)";
    }

    public static String qcow2NoSnapshots() {
        return "qcow2 image without internal snapshots: no VM state to read (savevm or virsh snapshot-create of a"
                + " running VM makes them)";
    }

    public static String qcow2NoVmState(int count) {
        return "none of the " + count + " internal snapshot" + (count == 1 ? "" : "s")
                + " of this qcow2 image holds VM state (disk-only snapshots, as qemu-img snapshot -c makes)";
    }

    public static String qcow2DiskOnly(String snapshot) {
        return snapshot + " is a disk-only snapshot: it holds no VM state";
    }

    /** {@code snapshots}: "1 'boot'" for each; long lists are cut. */
    public static String qcow2UnknownSnapshot(String wanted, java.util.List<String> snapshots) {
        int shown = Math.min(snapshots.size(), 20);
        return "expected a snapshot whose ID or name is '" + wanted + "', found none; the image has "
                + String.join(", ", snapshots.subList(0, shown))
                + (shown < snapshots.size() ? " and " + (snapshots.size() - shown) + " more (see --list-snapshots)" : "");
    }

    public static String qcow2OnStream() {
        return "a qcow2 image is read by random access (its snapshots' L1 and L2 tables), not as a stream from a pipe"
                + " or standard input: pass the file itself";
    }

    public static String snapshotNotQcow2() {
        return "a snapshot was asked for (--snapshot), but this is not a qcow2 image: a migration stream holds no"
                + " snapshots";
    }

    public static String qcow2BadSubclusters(long bitmap, long cluster) {
        return "expected a subcluster bitmap whose allocated and zero bits do not overlap"
                + (cluster == 0 ? ", and no allocated bit for an unallocated cluster" : "") + ", found " + hex(bitmap);
    }

    public static String qcow2ClusterPastEnd(long cluster, long areaOffset, long bytes, long fileSize) {
        return "expected " + bytes + " bytes of the data cluster at offset " + hex(cluster) + " (VM-state area offset "
                + areaOffset + "), found the end of the file (at byte " + fileSize + ")";
    }

    public static String qcow2CompressedOutside(long offset, long size, long fileSize) {
        return "expected compressed cluster data inside the file past its header cluster, found " + size
                + " bytes at offset " + hex(offset) + " (the file has " + fileSize + ")";
    }

    public static String qcow2BadCompressed(String format, long offset, long size, long clusterSize, String problem) {
        return "expected " + format + " data decompressing to one " + clusterSize + "-byte cluster in the " + size
                + " bytes at offset " + hex(offset) + ", found " + problem;
    }

    public static String qcow2WindowTooBig(long length, long max) {
        return "a read of " + length + " bytes of a qcow2 VM-state area at once is over " + max + " bytes";
    }

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

    // guest memory (GuestMemory, PhysicalMap)

    public static String tooMuchRam(String block, long length, long max) {
        return "RAM block '" + block + "' declares " + Long.toUnsignedString(length)
                + " bytes, which brings the dump's RAM over the " + (max >> 40) + " TiB that guest memory is indexed for";
    }

    public static String indexTooBig(long budget) {
        return "the page index needs more than " + (budget >> 20) + " MiB (pages spread sparsely over large blocks);"
                + " give Java more memory (-Xmx)";
    }

    public static String outsideBlock(String block, long offset, long length, long blockLength) {
        return "range 0x" + Long.toHexString(offset) + "+" + length + " is outside RAM block '" + block + "' ("
                + blockLength + " bytes, 0x0-0x" + Long.toHexString(Math.max(blockLength - 1, 0)) + ")";
    }

    public static String noBlock(String block, List<GuestMemory.Block> blocks) {
        return "no RAM block named '" + block + "'; the dump has " + names(blocks);
    }

    public static String noPage(String block, long page, long pages) {
        return "page " + page + " is outside RAM block '" + block + "' (" + pages + " pages)";
    }

    public static String notRam(long gpa, String machine) {
        return "guest-physical address 0x" + Long.toHexString(gpa) + " is not RAM on machine " + machine;
    }

    public static String unknownMachine(String machine, List<GuestMemory.Block> blocks) {
        String what = machine == null ? "the stream names no machine type" : "machine type '" + machine
                + "' has no known guest-physical layout";
        return what + ": read by block and offset instead (--block NAME --offset OFF; blocks: " + names(blocks) + ")";
    }

    private static String names(List<GuestMemory.Block> blocks) {
        if (blocks.isEmpty()) {
            return "no RAM blocks";
        }
        StringBuilder b = new StringBuilder();
        for (GuestMemory.Block block : blocks) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(block.name());
            if (b.length() > 300) {
                b.append(", ...");
                break;
            }
        }
        return b.toString();
    }
}
