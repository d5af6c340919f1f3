package io.qevm.ram;

import io.qevm.PageEncoding;
import io.qevm.io.ByteCursor;

/**
 * RAM_SAVE_FLAG_PAGE (0x008): the page's bytes, as they are (migration/ram.c
 * {@code save_normal_page}). Handed out as a view of the stream: nothing is copied. Not part of
 * the API.
 */
final class RawPageDecoder {

    static final int FLAG = 0x008;

    void read(ByteCursor in, RamPage page) {
        long at = in.take(page.size, "page");
        page.inStream(in, at, PageEncoding.RAW);
    }
}
