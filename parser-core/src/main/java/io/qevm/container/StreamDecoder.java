package io.qevm.container;

import io.qevm.exc.LimitExceededException;
import io.qevm.exc.ReadContext;
import io.qevm.internal.Messages;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.tukaani.xz.MemoryLimitException;
import org.tukaani.xz.XZInputStream;

/**
 * The formats whose library reads an {@link InputStream}: xz (org.tukaani:xz, concatenated
 * streams and padding as {@code xz -dc} reads them, integrity checks verified, memory bounded)
 * and bzip2 (commons-compress, concatenated streams as {@code bzip2 -dc} reads them, as
 * {@code pbzip2} writes them). Both are pure Java and slow next to the reader: they are the
 * bottleneck, as the commands are.
 */
final class StreamDecoder implements Decoder {

    /** The formats. */
    enum Kind { XZ, BZIP2 }

    /**
     * The most an xz stream may need to decompress, in KiB: what {@code xz -9} needs (a 64 MiB
     * dictionary) with room to spare; more is refused rather than allocated on an untrusted size.
     */
    static final int XZ_MEMORY_LIMIT_KIB = 128 << 10;
    private static final int BUFFER = 64 << 10;

    private final CompressedInput in;
    private final InputStream decoder;
    private final byte[] buffer = new byte[BUFFER];
    private boolean ended;

    StreamDecoder(CompressedInput in, Kind kind) throws IOException {
        this.in = in;
        InputStream compressed = in.stream();
        try {
            // both read their stream's header here
            this.decoder = kind == Kind.XZ ? new XZInputStream(compressed, XZ_MEMORY_LIMIT_KIB)
                    : new BZip2CompressorInputStream(compressed, true);
        } catch (IOException e) {
            throw failure(e);
        }
    }

    @Override
    public boolean fill(ByteBuffer out) throws IOException {
        int start = out.position();
        while (!ended && out.position() == start) {
            int read;
            try {
                read = decoder.read(buffer, 0, Math.min(buffer.length, out.remaining()));
            } catch (IOException e) {
                throw failure(e);
            }
            if (read < 0) {
                ended = true;
            } else {
                out.put(buffer, 0, read);
            }
        }
        return !ended;
    }

    /** What the library threw, as the reader reports it: the layer's own failures as they are. */
    private IOException failure(IOException e) {
        if (e instanceof CompressedInput.LayerFailure layer) {
            return layer.getCause();
        }
        if (e instanceof MemoryLimitException limit) {
            throw new LimitExceededException(Messages.xzMemory(limit.getMemoryNeeded(), limit.getMemoryLimit()),
                    ReadContext.at(in.position()).within(in.layerKind()));
        }
        throw in.failed(e);
    }

    @Override
    public void close() {
        try {
            decoder.close(); // frees nothing native; closes the adapter, which leaves the layer open
        } catch (IOException e) {
            // nothing more is read
        }
    }
}
