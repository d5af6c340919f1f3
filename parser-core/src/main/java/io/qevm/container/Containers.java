package io.qevm.container;

import io.qevm.Container;
import io.qevm.ReadOptions;
import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteSource;
import io.qevm.qcow2.Qcow2Image;
import io.qevm.qcow2.SnapshotEntry;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What a file or stream holds, told by content and never by name, and the source the QEMU stream
 * is read from: the dispatch of every {@code MigrationReader.open}. Peels, outermost first,
 * <ul>
 *   <li>compressed data (gzip, bzip2, xz, zstd, lzop): decompressed on a thread of its own, read
 *       through a sequential source whose offsets count in the decompressed stream;</li>
 *   <li>a libvirt save image: its header and domain XML; a raw or sparse payload is read in place
 *       (offsets stay those of the file), a compressed one (header version 2, formats 1 to 5)
 *       decompressed;</li>
 *   <li>a qcow2 image: handed to the qcow2 reader ({@link #qcow2}).</li>
 * </ul>
 * as they nest in practice: a compressed file holding a libvirt image or a bare stream, a
 * libvirt image whose payload is compressed, at most {@link #MAX_DEPTH} deep. Whatever else the
 * bytes are is left to the record scanner's check of the QEMU magic, which names what it found.
 * Not part of the API.
 */
public final class Containers {

    /** The most containers nested: a compressed file of a libvirt image with a compressed payload is 3. */
    static final int MAX_DEPTH = 4;
    /** Enough bytes to tell every format apart (libvirt's magic is the longest, 16). */
    private static final int PROBE_BYTES = LibvirtHeader.MAGIC_BYTES;
    // qcow2's header magic: 'Q' 'F' 'I' 0xfb (block/qcow2.h QCOW_MAGIC)
    private static final int QCOW2_MAGIC = 0x514649fb;
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Containers() {
    }

    /**
     * Where the QEMU stream is.
     *
     * @param source      what to read it from: {@code file} itself, or the decompressed stream
     * @param streamStart the offset in {@code source} of the stream's magic
     * @param containers  what was peeled, outermost first
     * @param stream      what {@code source}'s offsets count in when it is not the file or input
     *                    (e.g. {@code gzip-decompressed stream}), for messages; null otherwise
     */
    public record Layers(ByteSource source, long streamStart, List<Container> containers, String stream) {

        public Layers {
            containers = List.copyOf(containers);
        }
    }

    /**
     * Peels what {@code file} holds. Takes {@code file} over: on success the source returned
     * closes it when closed, on failure it is closed here.
     *
     * @param file    the file, standard input, a stream or an array, from its first byte
     * @param options the reader's options (the qcow2 reader takes its snapshot choice from them)
     * @throws IOException            if a layer cannot be read
     * @throws MigrationReadException if a container is broken, or cannot be read as it is
     */
    public static Layers open(ByteSource file, ReadOptions options) throws IOException {
        List<Container> found = new ArrayList<>();
        ByteSource current = file;
        String stream = null;
        try {
            for (int depth = 0; ; depth++) {
                MemorySegment head = current.window(0, PROBE_BYTES);
                head = head.asSlice(0, Math.min(head.byteSize(), PROBE_BYTES));
                if (LibvirtHeader.isMagic(head)) {
                    return libvirt(current, stream, found, depth, options);
                }
                if (head.byteSize() >= 4 && head.get(BE32, 0) == QCOW2_MAGIC) {
                    return qcow2(current, stream, found, options);
                }
                Compression compression = Compression.of(head);
                if (compression == null) {
                    if (options.snapshot() != null) {
                        throw new MalformedStreamException(Messages.snapshotNotQcow2(), where(0, stream));
                    }
                    return new Layers(current, 0, found, stream); // a QEMU stream, or what its magic check names
                }
                if (depth == MAX_DEPTH) {
                    throw new MalformedStreamException(Messages.nestedTooDeep(MAX_DEPTH), where(0, stream));
                }
                current = decompress(current, 0, compression);
                found.add(new Container.Compressed(compression.label, 0));
                stream = compression.decompressedName();
            }
        } catch (IOException | RuntimeException | Error e) {
            current.close(); // and every layer under it
            throw e;
        }
    }

    private static Layers libvirt(ByteSource source, String stream, List<Container> found, int depth,
                                 ReadOptions options)
            throws IOException {
        LibvirtHeader header = LibvirtHeader.read(source, stream);
        String xml = header.domainXml(source, stream);
        long payloadAt = header.streamOffset();
        found.add(new Container.LibvirtImage(header.magic(), header.version(), (int) header.format(),
                header.wasRunning(), header.dataLength(), xml, payloadAt));
        if (options.snapshot() != null) {
            throw new MalformedStreamException(Messages.snapshotNotQcow2(), where(0, stream));
        }
        Compression compression = header.compression();
        if (compression == null) {
            return new Layers(source, payloadAt, found, stream); // raw or sparse: read in place
        }
        MemorySegment payload = source.window(payloadAt, Compression.MAGIC_BYTES);
        payload = payload.asSlice(0, Math.min(payload.byteSize(), Compression.MAGIC_BYTES));
        if (Compression.of(payload) != compression) {
            throw new MalformedStreamException(Messages.libvirtPayload(compression.label, header.format(),
                    describe(payload)), where(payloadAt, stream));
        }
        if (depth == MAX_DEPTH) {
            throw new MalformedStreamException(Messages.nestedTooDeep(MAX_DEPTH), where(payloadAt, stream));
        }
        ByteSource decompressed = decompress(source, payloadAt, compression);
        found.add(new Container.Compressed(compression.label, payloadAt));
        // libvirt compresses the QEMU stream alone: it starts the decompressed data
        return new Layers(decompressed, 0, found, compression.decompressedName());
    }

    /**
     * A qcow2 image ({@code QFI\xfb}): the VM state of the snapshot {@code options} choose, read
     * by the qcow2 reader (io.qevm.qcow2) through the snapshot's L1/L2 tables. That needs random
     * access: inside compressed data or on a stream it cannot. Offsets of the stream count in the
     * snapshot's VM-state area, and errors say so; the image's own failures name file offsets.
     */
    private static Layers qcow2(ByteSource source, String stream, List<Container> found, ReadOptions options)
            throws IOException {
        if (stream != null) {
            throw new MalformedStreamException(Messages.qcow2InCompressedData(stream), where(0, stream));
        }
        if (!source.isRandomAccess()) {
            throw new MalformedStreamException(Messages.qcow2OnStream(), ReadContext.at(0));
        }
        Qcow2Image image = Qcow2Image.open(source);
        SnapshotEntry snapshot = image.choose(options.snapshot());
        ByteSource vmState = image.vmState(snapshot); // closes the file when it is closed
        found.add(new Container.Qcow2Snapshot(snapshot.snapshot()));
        return new Layers(vmState, 0, found, Messages.vmStateOf(snapshot.label()));
    }

    /** A sequential source of {@code layer}'s bytes from {@code start} on, decompressed. */
    private static ByteSource decompress(ByteSource layer, long start, Compression format) throws IOException {
        CompressedInput input = new CompressedInput(layer, start, format);
        Decoder decoder = format.decoder(input);
        DecompressingChannel channel = new DecompressingChannel(decoder, layer, format.label);
        return ByteSource.of(channel, layer.name(), format.decompressedName());
    }

    /** A few bytes as found, for a message: hex. */
    private static String describe(MemorySegment bytes) {
        if (bytes.byteSize() == 0) {
            return "the end of the data";
        }
        return "bytes " + HexFormat.ofDelimiter(" ").formatHex(bytes.toArray(ValueLayout.JAVA_BYTE));
    }

    private static ReadContext where(long offset, String stream) {
        return stream == null ? ReadContext.at(offset) : ReadContext.at(offset).within(stream);
    }

    /**
     * {@code e} with its offsets said to count in {@code stream} (the decompressed stream the
     * reader reads), unless it already says where they count (an error in the compressed data
     * names the offset in the file).
     */
    public static MigrationReadException within(MigrationReadException e, String stream) {
        if (stream == null || e.stream() != null) {
            return e;
        }
        ReadContext where = e.context().within(stream);
        MigrationReadException located = switch (e) {
            case MissingDescriptionException missing -> new MissingDescriptionException(e.problem(), where);
            case MalformedStreamException malformed -> new MalformedStreamException(e.problem(), where);
            case TruncatedInputException truncated -> new TruncatedInputException(e.problem(), where);
            case LimitExceededException limit -> new LimitExceededException(e.problem(), where);
        };
        located.setStackTrace(e.getStackTrace());
        return located;
    }
}
