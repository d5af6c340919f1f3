package io.qevm;

import java.util.List;

/** The messages of {@link GuestMemory} and {@link PhysicalMap} (kept apart from internal.Messages while issue 12's parts merge). */
final class MemoryMessages {

    private MemoryMessages() {
    }

    static String tooMuchRam(String block, long length, long max) {
        return "RAM block '" + block + "' declares " + Long.toUnsignedString(length)
                + " bytes, which brings the dump's RAM over the " + (max >> 40) + " TiB that guest memory is indexed for";
    }

    static String indexTooBig(long budget) {
        return "the page index needs more than " + (budget >> 20) + " MiB (pages spread sparsely over large blocks);"
                + " give Java more memory (-Xmx)";
    }

    static String outsideBlock(String block, long offset, long length, long blockLength) {
        return "range 0x" + Long.toHexString(offset) + "+" + length + " is outside RAM block '" + block + "' ("
                + blockLength + " bytes, 0x0-0x" + Long.toHexString(Math.max(blockLength - 1, 0)) + ")";
    }

    static String noBlock(String block, List<GuestMemory.Block> blocks) {
        return "no RAM block named '" + block + "'; the dump has " + names(blocks);
    }

    static String noPage(String block, long page, long pages) {
        return "page " + page + " is outside RAM block '" + block + "' (" + pages + " pages)";
    }

    static String notRam(long gpa, String machine) {
        return "guest-physical address 0x" + Long.toHexString(gpa) + " is not RAM on machine " + machine;
    }

    static String unknownMachine(String machine, List<GuestMemory.Block> blocks) {
        String what = machine == null ? "the stream names no machine type" : "machine type '" + machine
                + "' has no known guest-physical layout";
        return what + ": read by block and offset instead (--block NAME --offset OFF; blocks: " + names(blocks) + ")";
    }

    private static String names(List<GuestMemory.Block> blocks) {
        if (blocks.isEmpty()) {
            return "no RAM blocks";
        }
        StringBuilder b = new StringBuilder();
        for (GuestMemory.Block block : blocks) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(block.name());
            if (b.length() > 300) {
                b.append(", ...");
                break;
            }
        }
        return b.toString();
    }
}
