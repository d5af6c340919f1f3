package io.qevm.cli;

import io.qevm.GuestMemory;
import io.qevm.ReadOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A dump's RAM for {@code qevm diff}, as the library's {@link GuestMemory} indexes it. */
final class GuestRam implements RamDiff.Ram {

    private final GuestMemory memory;
    private final List<RamDiff.Block> blocks;

    private GuestRam(GuestMemory memory) {
        this.memory = memory;
        this.blocks = memory.blocks().stream()
                .map(b -> new RamDiff.Block(b.name(), b.length(), b.pageSize()))
                .toList();
    }

    /** Indexes {@code file}, handing every event of the pass to {@code device} as well: one pass for both. */
    static GuestRam open(Path file, ReadOptions options, DeviceState device) throws IOException {
        return new GuestRam(GuestMemory.open(file, options, device::accept));
    }

    @Override
    public List<RamDiff.Block> blocks() {
        return blocks;
    }

    @Override
    public RamDiff.Kind kind(String block, long page) {
        return switch (memory.pageKind(block, page)) {
            case ZERO, NEVER_SENT -> RamDiff.Kind.ZERO;
            case FILL, DATA -> RamDiff.Kind.DATA;
        };
    }

    @Override
    public void read(String block, long offset, byte[] dst, int dstOffset, int length) throws IOException {
        memory.read(block, offset, dst, dstOffset, length);
    }

    @Override
    public RamDiff.Pages pages(String block) {
        return memory.pages(block)::page;
    }

    @Override
    public void close() {
        memory.close();
    }
}
