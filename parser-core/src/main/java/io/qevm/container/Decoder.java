package io.qevm.container;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One compressed format's decoder, run on the decompressor's thread ({@link DecompressingChannel}):
 * it reads a {@link CompressedInput} and writes the decompressed bytes into the buffers it is
 * handed. Bad data is reported as the reader's exceptions, located by the input
 * ({@link CompressedInput#truncated()}, {@link CompressedInput#corrupt}).
 */
interface Decoder extends AutoCloseable {

    /**
     * Decompresses into {@code out}, from its position up to its limit, and returns as soon as it
     * wrote something (or the data ended): a live stream's bytes reach the reader as they arrive,
     * never held back until a buffer is full.
     *
     * @return false once the compressed data has ended (the last bytes may be in {@code out})
     * @throws IOException if the layer under it cannot be read
     */
    boolean fill(ByteBuffer out) throws IOException;

    /** Frees what the decoder holds (native memory). Called once, after its last {@link #fill}. */
    @Override
    void close();
}
