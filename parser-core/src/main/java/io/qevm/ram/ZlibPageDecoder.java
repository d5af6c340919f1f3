package io.qevm.ram;

import io.qevm.PageEncoding;
import io.qevm.ReadLimits;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import java.lang.foreign.MemorySegment;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * RAM_SAVE_FLAG_COMPRESS_PAGE (0x100, the {@code compress} capability of QEMU up to 9.0): a
 * u32 length and that many bytes of zlib data that must inflate to exactly one page
 * (migration/ram.c {@code decompress_data_with_multi_threads}). Inflated when read, so that a
 * corrupt page fails whoever reads the stream; the page is handed out from a buffer reused by
 * the next page. Not part of the API.
 */
final class ZlibPageDecoder {

    static final int FLAG = 0x100;

    private final ReadLimits limits;
    private final ReadLocation at;
    private final Inflater inflater = new Inflater();
    private byte[] buffer = new byte[0];
    private MemorySegment bufferSegment;

    ZlibPageDecoder(ReadLimits limits, ReadLocation at) {
        this.limits = limits;
        this.at = at;
    }

    void read(ByteCursor in, RamPage page) {
        long length = in.be32();
        limits.validateCompressedPageBytes(length, at);
        long data = in.take(length, "compressed page");
        if (buffer.length != page.size) {
            buffer = new byte[page.size];
            bufferSegment = MemorySegment.ofArray(buffer);
        }
        inflate(in.segment(), in.index(data), (int) length, buffer);
        page.payloadOffset = data - 4;
        page.decoded(bufferSegment, PageEncoding.COMPRESSED);
    }

    /** Inflates {@code length} bytes at {@code index} of {@code compressed} into all of {@code page}. */
    void inflate(MemorySegment compressed, long index, int length, byte[] page) {
        inflater.reset();
        inflater.setInput(compressed.asSlice(index, length).asByteBuffer());
        try {
            int produced = 0;
            while (produced < page.length && !inflater.finished() && !inflater.needsInput()) {
                if (inflater.needsDictionary()) {
                    // FDICT in the header: QEMU's uncompress() fails, and inflate() would return 0 for ever
                    throw at.malformed(Messages.badZlib("it needs a preset dictionary"));
                }
                produced += inflater.inflate(page, produced, page.length - produced);
            }
            if (produced < page.length || !inflater.finished()) {
                boolean more = !inflater.finished() && !inflater.needsInput() && inflater.inflate(new byte[1]) > 0;
                if (!more && produced == page.length) {
                    if (inflater.finished()) {
                        return; // the stream's end was read only after the page's last byte
                    }
                    // the whole page, but not the end of the zlib stream (its Adler-32)
                    throw at.malformed(Messages.badZlib("the data ends before the end of the zlib stream"));
                }
                throw at.malformed(Messages.badInflatedSize(more ? "more than" : "only " + produced + " of",
                        page.length));
            }
        } catch (DataFormatException e) {
            throw at.malformed(Messages.badZlib(e.getMessage()));
        }
    }
}
