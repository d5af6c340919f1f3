package io.qevm.container;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * zstd through zstd-jni's streaming decompression (libzstd's {@code ZSTD_decompressStream}):
 * frames one after the other as {@code zstd -dc} reads them, content checksums checked, the
 * window bounded by libzstd's default limit (128 MiB, {@code ZSTD_WINDOWLOG_LIMIT_DEFAULT}) as the
 * zstd command bounds it. Input and output are direct buffers: a mapped file's pages and the
 * stream's window go to libzstd as they are.
 */
final class ZstdDecoder implements Decoder {

    private static final ByteBuffer NO_INPUT = ByteBuffer.allocateDirect(0);

    private final CompressedInput in;
    private final ZstdDecompressCtx context;
    /**
     * A direct copy of input that lies on the heap (a reader over a byte array); shared: made
     * here, used by the decompressor's thread.
     */
    private final Arena scratchArena = Arena.ofShared();
    private MemorySegment scratch;
    /** Whether the last frame begun has ended: the data may end here. */
    private boolean frameDone;
    private boolean ended;

    ZstdDecoder(CompressedInput in) throws IOException {
        this.in = in;
        try {
            this.context = new ZstdDecompressCtx();
        } catch (LinkageError e) {
            scratchArena.close();
            throw new IOException("cannot load the zstd decompressor (zstd-jni's native library): " + e.getMessage(), e);
        }
    }

    @Override
    public boolean fill(ByteBuffer out) throws IOException {
        int start = out.position();
        while (!ended && out.position() == start) {
            MemorySegment window = in.peek(1); // what is there: a pipe is not waited on for more
            long available = Math.min(window.byteSize(), CompressedInput.CHUNK);
            int before = out.position();
            if (available == 0) {
                if (frameDone) {
                    ended = true;
                    break;
                }
                // the input has ended inside a frame: what libzstd still holds comes out, then
                // nothing more can
                frameDone = decompress(out, NO_INPUT);
                if (!frameDone && out.position() == before) {
                    throw in.truncated();
                }
                continue;
            }
            ByteBuffer src = direct(window, available);
            frameDone = decompress(out, src);
            in.advance(src.position());
        }
        return !ended;
    }

    private boolean decompress(ByteBuffer out, ByteBuffer src) {
        try {
            return context.decompressDirectByteBufferStream(out, src);
        } catch (ZstdException e) {
            throw in.corrupt(e.getMessage());
        }
    }

    /** The window's first {@code bytes} as a direct buffer: itself when it is native memory. */
    private ByteBuffer direct(MemorySegment window, long bytes) {
        MemorySegment input = window.asSlice(0, bytes);
        if (input.isNative()) {
            return input.asByteBuffer();
        }
        if (scratch == null) {
            scratch = scratchArena.allocate(CompressedInput.CHUNK);
        }
        MemorySegment.copy(input, 0, scratch, 0, bytes);
        return scratch.asSlice(0, bytes).asByteBuffer();
    }

    @Override
    public void close() {
        context.close();
        scratchArena.close();
    }
}
