package io.qevm.qcow2;

import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import java.lang.foreign.MemorySegment;

/**
 * The fields of a qcow2 header (QEMU block/qcow2.h {@code QCowHeader}) that reading a snapshot's
 * VM state needs, checked as {@code qcow2_do_open} checks them.
 *
 * @param version              2 or 3
 * @param clusterBits          log2 of the cluster size, 9 to 21
 * @param size                 the virtual disk size (unsigned)
 * @param cryptMethod          0 none, 1 AES, 2 LUKS
 * @param nbSnapshots          entries in the snapshot table
 * @param snapshotsOffset      where the snapshot table starts
 * @param incompatibleFeatures the v3 incompatible feature bits (0 for v2)
 * @param compressionType      0 deflate ("zlib"), 1 zstd
 */
record Qcow2Header(int version, int clusterBits, long size, long cryptMethod, long nbSnapshots,
                   long snapshotsOffset, long incompatibleFeatures, int compressionType) {

    /** "QFI\xfb". */
    static final int MAGIC = 0x514649fb;
    /** A version 2 header; version 3 ones are at least {@link #V3_LENGTH}. */
    static final int V2_LENGTH = 72;
    static final int V3_LENGTH = 104;

    // qcow2.h
    static final int MIN_CLUSTER_BITS = 9;
    static final int MAX_CLUSTER_BITS = 21;
    static final long INCOMPAT_DIRTY = 1L;
    static final long INCOMPAT_CORRUPT = 1L << 1;
    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final long INCOMPAT_COMPRESSION = 1L << 3;
    static final long INCOMPAT_EXTL2 = 1L << 4;
    static final long INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE
            | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
    static final int COMPRESSION_ZLIB = 0;
    static final int COMPRESSION_ZSTD = 1;
    /** Extended L2 entries need 32 subclusters of at least 512 bytes. */
    static final int MIN_EXTL2_CLUSTER_BITS = 14;

    // header field offsets
    private static final int AT_VERSION = 4;
    private static final int AT_CLUSTER_BITS = 20;
    private static final int AT_SIZE = 24;
    private static final int AT_CRYPT_METHOD = 32;
    private static final int AT_NB_SNAPSHOTS = 60;
    private static final int AT_SNAPSHOTS_OFFSET = 64;
    private static final int AT_INCOMPATIBLE = 72;
    private static final int AT_HEADER_LENGTH = 100;
    private static final int AT_COMPRESSION_TYPE = 104;

    long clusterSize() {
        return 1L << clusterBits;
    }

    boolean extendedL2() {
        return (incompatibleFeatures & INCOMPAT_EXTL2) != 0;
    }

    /** Bytes per L2 entry: 8, or 16 with extended L2 entries (the entry and its subcluster bitmap). */
    int l2EntryBytes() {
        return extendedL2() ? 16 : 8;
    }

    /** log2 of the L2 entries in one table (one cluster). */
    int l2Bits() {
        return clusterBits - (extendedL2() ? 4 : 3);
    }

    /** log2 of the guest bytes one L1 entry maps. */
    int l1Shift() {
        return clusterBits + l2Bits();
    }

    /**
     * The header at the start of {@code file} (the whole mapped file, {@code fileSize} bytes),
     * checked.
     */
    static Qcow2Header read(MemorySegment file) {
        long fileSize = file.byteSize();
        requireBytes(fileSize, 0, V2_LENGTH, "qcow2 header");
        long magic = Qcow2Image.be32(file, 0);
        if (magic != MAGIC) {
            throw malformed(Messages.qcow2BadMagic(magic), 0);
        }
        long version = Qcow2Image.be32(file, AT_VERSION);
        if (version != 2 && version != 3) {
            throw malformed(Messages.qcow2BadVersion(version), AT_VERSION);
        }
        long clusterBits = Qcow2Image.be32(file, AT_CLUSTER_BITS);
        if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
            throw malformed(Messages.qcow2BadClusterBits(clusterBits, MIN_CLUSTER_BITS, MAX_CLUSTER_BITS),
                    AT_CLUSTER_BITS);
        }
        long clusterSize = 1L << clusterBits;
        long incompatible = 0;
        int compressionType = COMPRESSION_ZLIB;
        if (version == 3) {
            requireBytes(fileSize, 0, V3_LENGTH, "qcow2 version 3 header");
            incompatible = file.get(Qcow2Image.BE64, AT_INCOMPATIBLE);
            long headerLength = Qcow2Image.be32(file, AT_HEADER_LENGTH);
            if (headerLength < V3_LENGTH || headerLength > clusterSize) {
                throw malformed(Messages.qcow2BadHeaderLength(headerLength, V3_LENGTH, clusterSize), AT_HEADER_LENGTH);
            }
            if (headerLength > AT_COMPRESSION_TYPE) {
                requireBytes(fileSize, 0, AT_COMPRESSION_TYPE + 1, "qcow2 header");
                compressionType = Byte.toUnsignedInt(file.get(java.lang.foreign.ValueLayout.JAVA_BYTE,
                        AT_COMPRESSION_TYPE));
            }
        }
        long unknown = incompatible & ~INCOMPAT_KNOWN;
        if (unknown != 0) {
            throw malformed(Messages.qcow2UnknownFeatures(unknown), AT_INCOMPATIBLE);
        }
        // qcow2.c validate_compression_type: a type other than zlib goes with the feature bit
        if (compressionType != COMPRESSION_ZLIB && compressionType != COMPRESSION_ZSTD) {
            throw malformed(Messages.qcow2UnknownCompression(compressionType), AT_COMPRESSION_TYPE);
        }
        if ((compressionType != COMPRESSION_ZLIB) != ((incompatible & INCOMPAT_COMPRESSION) != 0)) {
            throw malformed(Messages.qcow2CompressionBitMismatch(compressionType), AT_INCOMPATIBLE);
        }
        if ((incompatible & INCOMPAT_EXTL2) != 0 && clusterBits < MIN_EXTL2_CLUSTER_BITS) {
            throw malformed(Messages.qcow2ExtendedL2ClusterSize(clusterSize, 1L << MIN_EXTL2_CLUSTER_BITS),
                    AT_CLUSTER_BITS);
        }
        long cryptMethod = Qcow2Image.be32(file, AT_CRYPT_METHOD);
        return new Qcow2Header((int) version, (int) clusterBits, file.get(Qcow2Image.BE64, AT_SIZE), cryptMethod,
                Qcow2Image.be32(file, AT_NB_SNAPSHOTS), file.get(Qcow2Image.BE64, AT_SNAPSHOTS_OFFSET), incompatible,
                compressionType);
    }

    /**
     * Throws unless the guest data can be read: not encrypted (the VM state is encrypted as the
     * disk is), no external data file (QEMU keeps no internal snapshots with one). The snapshot
     * table can be listed all the same, as {@code qemu-img snapshot -l} does.
     */
    void requireReadableData() {
        if (cryptMethod != 0) {
            throw malformed(Messages.qcow2Encrypted(cryptMethod), AT_CRYPT_METHOD);
        }
        if ((incompatibleFeatures & INCOMPAT_DATA_FILE) != 0) {
            throw malformed(Messages.qcow2ExternalDataFile(), AT_INCOMPATIBLE);
        }
    }

    /** Where the snapshot count is, for messages about it. */
    static long nbSnapshotsOffset() {
        return AT_NB_SNAPSHOTS;
    }

    static long snapshotsOffsetOffset() {
        return AT_SNAPSHOTS_OFFSET;
    }

    private static void requireBytes(long fileSize, long at, long length, String what) {
        if (at + length > fileSize) {
            throw new TruncatedInputException(Messages.truncated(what, length, Messages.endOfSource("file", fileSize)),
                    Qcow2Image.at(at, fileSize));
        }
    }

    private static MalformedStreamException malformed(String problem, long at) {
        return new MalformedStreamException(problem, Qcow2Image.at(at));
    }
}
