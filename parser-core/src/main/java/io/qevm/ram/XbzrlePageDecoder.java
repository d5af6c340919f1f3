package io.qevm.ram;

import io.qevm.PageEncoding;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ReadLocation;
import java.lang.foreign.MemorySegment;

/**
 * RAM_SAVE_FLAG_XBZRLE (0x040, the {@code xbzrle} capability): u8 ENCODING_FLAG_XBZRLE, u16
 * length, and a delta of that many bytes against the page's previous content
 * (migration/ram.c {@code save_xbzrle_page}, {@link Xbzrle}). The delta is checked when read;
 * it is applied only when the page's bytes are asked for, because that needs the previous copy,
 * which only a {@link PageHistory} has. Not part of the API.
 */
final class XbzrlePageDecoder {

    static final int FLAG = 0x040;
    private static final int ENCODING_FLAG_XBZRLE = 0x1;

    private final ReadLocation at;
    private byte[] buffer = new byte[0];
    private MemorySegment bufferSegment;

    XbzrlePageDecoder(ReadLocation at) {
        this.at = at;
    }

    void read(ByteCursor in, RamPage page) {
        int encoding = in.u8();
        int length = in.be16();
        if (encoding != ENCODING_FLAG_XBZRLE) {
            throw at.malformed(Messages.badXbzrleEncoding(encoding));
        }
        if (length > page.size) {
            throw at.malformed(Messages.xbzrleTooLong(length, page.size));
        }
        long data = in.take(length, "XBZRLE data");
        String problem = Xbzrle.decode(in.segment(), in.index(data), length, null, page.size);
        if (problem != null) {
            throw at.malformed(Messages.badXbzrle(problem));
        }
        page.payloadOffset = data;
        page.payloadLength = length;
        page.data = null;
        page.sourceOffset = -1;
        page.encoding = PageEncoding.XBZRLE;
    }

    /** Applies the current page's delta (still in the window) to its previous copy from {@code history}. */
    void decode(ByteCursor in, RamPage page, PageHistory history) {
        if (buffer.length != page.size) {
            buffer = new byte[page.size];
            bufferSegment = MemorySegment.ofArray(buffer);
        }
        history.copyLastCopy(page.block, page.address, buffer);
        Xbzrle.decode(in.segment(), in.index(page.payloadOffset), page.payloadLength, buffer, buffer.length);
        page.decoded(bufferSegment, PageEncoding.XBZRLE);
    }
}
