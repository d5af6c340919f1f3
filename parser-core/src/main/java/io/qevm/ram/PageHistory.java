package io.qevm.ram;

/**
 * Where an XBZRLE delta finds the page it applies to: the latest copy of that page sent before
 * it. A {@link PageIndex} on a seekable source; a consumer's {@link io.qevm.PageStore} on any.
 */
interface PageHistory {

    /** Copies the latest copy of page {@code address} of {@code block} into {@code into} (zeros if never sent). */
    void copyLastCopy(Block block, long address, byte[] into);

    /** Told of every page record read after it was made: a history that records pages itself keeps up. */
    default void record(RamPage page) {
    }

    /**
     * Whether the history needs each XBZRLE page decoded as it passes (it keeps decoded pages
     * itself), or can wait until a consumer asks for the page's bytes.
     */
    default boolean decodesEagerly() {
        return false;
    }
}
