package io.qevm.ram;

import io.qevm.PageEncoding;
import io.qevm.io.ByteCursor;
import java.lang.foreign.MemorySegment;

/** The page record being read: what the decoders fill in and the reader hands out. */
final class RamPage {

    /** The block of the current page, or of the current RAM_BLOCK entry. */
    Block block;
    /** Offset of the page within its block. */
    long address;
    int size;
    /** How the page travelled; null for a zero page (a fill). */
    PageEncoding encoding;
    /** The page's bytes at {@link #dataIndex}; null while an XBZRLE delta waits to be applied. */
    MemorySegment data;
    long dataIndex;
    /** Stream offset of the page's bytes when they lie in the stream as they are, else -1. */
    long sourceOffset;
    int fill;
    /** Where the current record's payload starts (a compressed page's length, an XBZRLE delta's bytes). */
    long payloadOffset;
    int payloadLength;

    /** The page's bytes lie in the stream at {@code at}. */
    void inStream(ByteCursor in, long at, PageEncoding how) {
        data = in.segment();
        dataIndex = in.index(at);
        sourceOffset = at;
        encoding = how;
    }

    /** The page's bytes were decoded into {@code buffer}. */
    void decoded(MemorySegment buffer, PageEncoding how) {
        data = buffer;
        dataIndex = 0;
        sourceOffset = -1;
        encoding = how;
    }

    /** Page number within the block. */
    long number() {
        return address / size;
    }
}
