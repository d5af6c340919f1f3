package io.qevm.qcow2;

import io.qevm.exc.MalformedStreamException;
import io.qevm.internal.Messages;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Compressed clusters (QEMU block/qcow2-threads.c): each decompresses into exactly one cluster,
 * raw deflate or zstd frames as the header's compression type says. The output is a buffer of one
 * cluster, never more, whatever the compressed data claims: a decompression bomb stops there.
 * The last few clusters are kept, as a stream reads one cluster in many windows.
 */
final class CompressedClusters implements AutoCloseable {

    /** Clusters kept decompressed: a window may span a few, and the next one reads on from there. */
    private static final int KEPT = 8;
    private static final int SECTOR = 512;

    private final MemorySegment file;
    private final Qcow2Header header;
    private final int clusterSize;
    private final int sizeShift;
    private final long sizeMask;
    private final long offsetMask;
    private final Map<Long, byte[]> kept = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > KEPT;
        }
    };
    private Inflater inflater;

    CompressedClusters(MemorySegment file, Qcow2Header header) {
        this.file = file;
        this.header = header;
        this.clusterSize = (int) header.clusterSize();
        // qcow2.c: csize_shift, csize_mask, cluster_offset_mask
        this.sizeShift = 62 - (header.clusterBits() - 8);
        this.sizeMask = (1L << (header.clusterBits() - 8)) - 1;
        this.offsetMask = (1L << sizeShift) - 1;
    }

    /**
     * The cluster that the compressed cluster descriptor {@code entry} (an L2 entry, read at file
     * offset {@code entryAt}) describes: a buffer of one cluster that the caller must not change
     * (it is kept for the next reads).
     */
    byte[] cluster(long entry, long entryAt) {
        long descriptor = entry & ((1L << 62) - 1);
        byte[] cluster = kept.get(descriptor);
        if (cluster == null) {
            cluster = decompress(descriptor, entryAt);
            kept.put(descriptor, cluster);
        }
        return cluster;
    }

    /** qcow2_parse_compressed_l2_entry, then qcow2_co_decompress. */
    private byte[] decompress(long descriptor, long entryAt) {
        long hostOffset = descriptor & offsetMask;
        long sectors = ((descriptor >>> sizeShift) & sizeMask) + 1;
        long compressedSize = sectors * SECTOR - (hostOffset & (SECTOR - 1));
        long fileSize = file.byteSize();
        if (hostOffset < header.clusterSize() || hostOffset >= fileSize) {
            throw new MalformedStreamException(Messages.qcow2CompressedOutside(hostOffset, compressedSize, fileSize),
                    Qcow2Image.at(entryAt));
        }
        // the sectors may reach past the end of the file: the last cluster's data ends where it ends
        int length = (int) Math.min(compressedSize, fileSize - hostOffset);
        MemorySegment input = file.asSlice(hostOffset, length);
        byte[] out = new byte[clusterSize];
        String format = header.compressionType() == Qcow2Header.COMPRESSION_ZSTD ? "zstd" : "deflate";
        String problem = header.compressionType() == Qcow2Header.COMPRESSION_ZSTD ? zstd(input, out) : deflate(input, out);
        if (problem != null) {
            throw new MalformedStreamException(Messages.qcow2BadCompressed(format, hostOffset, length, clusterSize,
                    problem), Qcow2Image.at(entryAt));
        }
        return out;
    }

    /** Raw deflate (no zlib header), as QEMU's qcow2_zlib_decompress: exactly one cluster out. */
    private String deflate(MemorySegment input, byte[] out) {
        if (inflater == null) {
            inflater = new Inflater(true);
        }
        inflater.reset();
        inflater.setInput(input.asByteBuffer());
        int produced = 0;
        try {
            while (produced < out.length) {
                int n = inflater.inflate(out, produced, out.length - produced);
                if (n == 0) {
                    break; // finished, or out of input, or a dictionary asked for: short either way
                }
                produced += n;
            }
        } catch (DataFormatException e) {
            return "invalid deflate data (" + e.getMessage() + ") after " + produced + " bytes";
        }
        return produced == out.length ? null : "the data ends after " + produced + " bytes";
    }

    /** zstd frames, as QEMU's qcow2_zstd_decompress: frames until one cluster is out (see {@link ZstdFrames}). */
    private static String zstd(MemorySegment input, byte[] out) {
        return ZstdFrames.decompress(input.toArray(ValueLayout.JAVA_BYTE), out);
    }

    @Override
    public void close() {
        if (inflater != null) {
            inflater.end();
        }
        kept.clear();
    }
}
