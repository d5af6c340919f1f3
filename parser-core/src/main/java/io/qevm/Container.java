package io.qevm;

/**
 * What a migration stream was found inside: a compressed file, a libvirt save image, a qcow2
 * snapshot's VM-state area. {@link MigrationReader#containers()} lists them outermost first; a
 * bare stream has none. Found by content (magic bytes), never by file name.
 */
public sealed interface Container permits Container.Compressed, Container.LibvirtImage, Container.Qcow2Snapshot {

    /**
     * Compressed data: from byte {@link #offset()} of the layer around it (the file, or a libvirt
     * image's payload), the bytes decompress to what is inside.
     *
     * @param format "gzip", "bzip2", "xz", "zstd" or "lzop"
     * @param offset where the compressed data starts, in the coordinates of the layer around it
     */
    record Compressed(String format, long offset) implements Container {
    }

    /**
     * A libvirt save image ({@code virsh save}, managed save, an external snapshot's memory
     * file): its 92-byte header (libvirt's {@code virQEMUSaveHeader}) and the domain XML after it.
     *
     * @param magic       {@code LibvirtQemudSave}, or {@code LibvirtQemudPart} for an unfinished save
     * @param version     the header version, 1 or 2
     * @param format      the header's format field: 0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop, 5 zstd, 6 sparse
     * @param wasRunning  whether the domain was running when it was saved
     * @param dataLength  bytes of XML (and cookie, NUL padded) after the header
     * @param domainXml   the domain XML, without its NUL padding
     * @param streamOffset the file byte where the QEMU stream (or its compressed data) starts
     */
    record LibvirtImage(String magic, int version, int format, boolean wasRunning, long dataLength,
                        String domainXml, long streamOffset) implements Container {
    }

    /**
     * An internal snapshot of a qcow2 image ({@code savevm}), whose VM-state area holds the
     * stream: offsets of the reader count from the start of that area.
     *
     * @param snapshot the snapshot read
     */
    record Qcow2Snapshot(Snapshot snapshot) implements Container {
    }
}
