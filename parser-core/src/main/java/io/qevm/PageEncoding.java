package io.qevm;

/** How the current RAM_PAGE travelled in the stream; the reader hands out the decoded page whatever it was. */
public enum PageEncoding {
    /** RAM_SAVE_FLAG_PAGE: the page's bytes, as they are in the file. */
    RAW,
    /** mapped-ram: the page's bytes at their fixed place in the file's pages region. */
    MAPPED,
    /** RAM_SAVE_FLAG_COMPRESS_PAGE: zlib data, inflated by the reader. */
    COMPRESSED,
    /** RAM_SAVE_FLAG_XBZRLE: a delta against the page's previous content, applied by the reader. */
    XBZRLE
}
