package io.qevm.ram;

import io.qevm.io.ByteCursor;

/**
 * RAM_SAVE_FLAG_ZERO (0x002, once RAM_SAVE_FLAG_COMPRESS): a page filled with one byte, the
 * u8 that follows. QEMU only ever sends 0 (migration/ram.c {@code save_zero_page}); any other
 * fill is read as given. Not part of the API.
 */
final class ZeroPageDecoder {

    static final int FLAG = 0x002;

    void read(ByteCursor in, RamPage page) {
        page.fill = in.u8();
        page.encoding = null; // no bytes: a fill
    }
}
