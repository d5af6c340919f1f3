package io.qevm.cli;

import io.qevm.GuestMemory;
import io.qevm.MigrationReader;
import io.qevm.PhysicalMap;
import io.qevm.ReadOptions;
import java.io.IOException;
import java.nio.file.Path;

/** What {@code qevm read} and {@code qevm grep} share: opening a dump's guest memory, naming places in it. */
final class MemoryAccess {

    private MemoryAccess() {
    }

    /** Indexes FILE ({@code -} for standard input, spooled), at the snapshot {@code --snapshot} names. */
    static GuestMemory open(CommandLine line, String file, Path workDir) throws IOException, Options.UsageException {
        // guest memory needs no description: a dump saved with suppress-vmdesc reads too
        ReadOptions options = DumpInput.options(line,
                ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION));
        if (file.equals("-")) {
            return GuestMemory.index(MigrationReader.open(DumpInput.standardInput(), options));
        }
        return GuestMemory.open(workDir.resolve(file), options);
    }

    /** The layout, or null when the machine has none known. */
    static PhysicalMap mapOrNull(GuestMemory memory) {
        try {
            return memory.physicalMap();
        } catch (UnsupportedOperationException e) {
            return null;
        }
    }

    /** The guest-physical address of {@code offset} in {@code block}, or -1 when it has none in {@code map}. */
    static long gpaOf(PhysicalMap map, String block, long offset) {
        if (map != null) {
            for (PhysicalMap.Range range : map.ranges()) {
                if (range.block().equals(block) && offset >= range.blockOffset()
                        && offset - range.blockOffset() < range.length()) {
                    return range.gpa() + (offset - range.blockOffset());
                }
            }
        }
        return -1;
    }

    /** A name from the file made safe for one line of text: control characters and spaces as \xNN. */
    static String printable(String name) {
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c == 0x7f || c == '\\') {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
