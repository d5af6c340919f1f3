package io.qevm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a machine puts its RAM blocks in the guest-physical address space: the ranges of
 * guest-physical addresses (GPAs) that are RAM, each a run of one block. Made by
 * {@link GuestMemory#physicalMap()} from the machine type the stream names and the blocks'
 * lengths, as QEMU's board code lays them out:
 * <ul>
 *   <li>x86 {@code pc} (i440FX) and {@code q35}: block {@code pc.ram} from GPA 0 up to the
 *       low-memory limit, the rest from 4 GiB. i440FX: the limit is 0xe0000000, or 0xc0000000 when
 *       RAM does not fit below 0xe0000000 (machine types after 1.7, which align it to a
 *       gigabyte); q35: 0xb0000000, or 0x80000000 when RAM does not fit below 0xb0000000 (after
 *       1.7). A guest started with {@code -machine max-ram-below-4g=} has another limit, which
 *       the stream does not say.</li>
 *   <li>{@code virt} (aarch64 and 32-bit arm: {@code mach-virt.ram} at 0x40000000; riscv:
 *       {@code riscv_virt_board.ram} at 0x80000000), {@code pseries} ({@code ppc_spapr.ram} at 0),
 *       {@code s390-ccw-virtio} ({@code s390.ram} at 0), {@code versatilepb}/{@code versatileab}
 *       ({@code versatile.ram} at 0).</li>
 * </ul>
 * Only main RAM is mapped: ROMs, video memory and other blocks live where the guest's devices
 * put them at run time, which the stream does not record; read them by block and offset.
 */
public final class PhysicalMap {

    /**
     * A run of guest-physical addresses that is RAM: {@code length} bytes from {@code gpa}, held
     * by block {@code block} from {@code blockOffset}.
     *
     * @param gpa         the first guest-physical address
     * @param length      how many bytes
     * @param block       the RAM block's name
     * @param blockOffset where the run starts in the block
     */
    public record Range(long gpa, long length, String block, long blockOffset) {
    }

    private static final long FOUR_GIB = 1L << 32;
    private static final Pattern VERSION = Pattern.compile("-(\\d{1,6})\\.(\\d{1,6})");

    private final List<Range> ranges;

    private PhysicalMap(List<Range> ranges) {
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(Range::gpa));
        this.ranges = List.copyOf(sorted);
    }

    /** {@return the RAM ranges, by guest-physical address} */
    public List<Range> ranges() {
        return ranges;
    }

    /**
     * The range holding {@code gpa}.
     *
     * @param gpa a guest-physical address
     * @return the range, or null when {@code gpa} is not RAM
     */
    public Range rangeAt(long gpa) {
        int low = 0;
        int high = ranges.size() - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            Range range = ranges.get(middle);
            if (Long.compareUnsigned(gpa, range.gpa()) < 0) {
                high = middle - 1;
            } else if (Long.compareUnsigned(gpa - range.gpa(), range.length()) >= 0) {
                low = middle + 1;
            } else {
                return range;
            }
        }
        return null;
    }

    /**
     * The layout of machine {@code machine} with these blocks, or null when the machine (or its
     * main RAM block) is not one this class knows.
     */
    static PhysicalMap of(String machine, List<GuestMemory.Block> blocks) {
        if (machine == null) {
            return null;
        }
        boolean i440fx = machine.equals("pc") || machine.startsWith("pc-i440fx-") || machine.equals("isapc")
                || machine.matches("pc-\\d+\\.\\d+"); // the oldest i440FX types: pc-0.14 ... pc-1.3
        boolean q35 = machine.equals("q35") || machine.startsWith("pc-q35-");
        if (i440fx || q35) {
            GuestMemory.Block ram = find(blocks, "pc.ram");
            if (ram == null) {
                return null;
            }
            boolean gigabyteAlign = !older(machine, 1, 7);
            long size = ram.length();
            long lowmem;
            if (i440fx) {
                lowmem = 0xe0000000L;
                if (size >= lowmem && gigabyteAlign) {
                    lowmem = 0xc0000000L;
                }
            } else {
                lowmem = size >= 0xb0000000L && gigabyteAlign ? 0x80000000L : 0xb0000000L;
            }
            List<Range> ranges = new ArrayList<>();
            ranges.add(new Range(0, Math.min(size, lowmem), ram.name(), 0));
            if (size > lowmem) {
                ranges.add(new Range(FOUR_GIB, size - lowmem, ram.name(), lowmem));
            }
            return new PhysicalMap(ranges);
        }
        if (machine.equals("virt") || machine.startsWith("virt-")) {
            GuestMemory.Block arm = find(blocks, "mach-virt.ram");
            if (arm != null) {
                return at(arm, 0x40000000L);
            }
            GuestMemory.Block riscv = find(blocks, "riscv_virt_board.ram");
            return riscv == null ? null : at(riscv, 0x80000000L);
        }
        if (machine.equals("pseries") || machine.startsWith("pseries-")) {
            return at(find(blocks, "ppc_spapr.ram"), 0);
        }
        if (machine.equals("s390-ccw-virtio") || machine.startsWith("s390-ccw-virtio-")) {
            return at(find(blocks, "s390.ram"), 0);
        }
        if (machine.equals("versatilepb") || machine.equals("versatileab")) {
            return at(find(blocks, "versatile.ram"), 0);
        }
        return null;
    }

    /** Whether the machine type's version (pc-i440fx-1.7, pc-q35-2.0, pc-1.3) is at most major.minor. */
    private static boolean older(String machine, int major, int minor) {
        Matcher m = VERSION.matcher(machine);
        String version = null;
        while (m.find()) {
            version = m.group();
        }
        if (version == null) {
            return false; // an alias (pc, q35) names the newest
        }
        Matcher v = VERSION.matcher(version);
        v.find();
        int ma = Integer.parseInt(v.group(1));
        int mi = Integer.parseInt(v.group(2));
        return ma < major || (ma == major && mi <= minor);
    }

    private static PhysicalMap at(GuestMemory.Block block, long gpa) {
        return block == null ? null : new PhysicalMap(List.of(new Range(gpa, block.length(), block.name(), 0)));
    }

    private static GuestMemory.Block find(List<GuestMemory.Block> blocks, String name) {
        for (GuestMemory.Block block : blocks) {
            if (block.name().equals(name)) {
                return block;
            }
        }
        return null;
    }
}
