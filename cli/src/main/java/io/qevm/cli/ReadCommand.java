package io.qevm.cli;

import io.qevm.GuestMemory;
import io.qevm.PhysicalMap;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** {@code qevm read}: bytes of guest memory, by guest-physical address or by block and offset. */
final class ReadCommand implements Subcommands.Subcommand {

    /** The most bytes one read prints or writes. */
    static final long MAX_LENGTH = 1L << 30;
    private static final int CHUNK = 1 << 20;

    @Override
    public String help() {
        return """
                usage: qevm read FILE (--gpa ADDR | --block NAME --offset OFF) --length N
                                 [--raw | -o OUT] [--snapshot ID] [--debug]

                Prints guest memory from a dump: the last copy of each page, as QEMU's destination
                would hold it (pages never sent read as zero). FILE is anything qevm -f reads
                (a stream, a compressed file, a libvirt image, a qcow2 image; - for standard input).

                options:
                  --gpa ADDR          guest-physical address (pc, q35, virt, pseries, s390x,
                                      versatile machines: see the man page for the layouts)
                  --block NAME        RAM block (pc.ram, mach-virt.ram, ...), with --offset
                  --offset OFF        offset in the block
                  --length N          how many bytes (1 to 1G); numbers: decimal, 0x hex,
                                      or with K, M, G
                  --raw               write the bytes themselves to standard output
                  -o, --output OUT    write the bytes to file OUT (replaced; nothing is left
                                      behind when the read fails)
                  --snapshot ID       the qcow2 snapshot to read (id or name; default: the latest)
                  --debug             stack traces on failure

                Output (default): hexdump -C style: 16 bytes a line, the address (the GPA with
                --gpa, the block offset with --block) in hex, the bytes in hex in two groups of
                8, then the printable ASCII between | |; a run of lines equal to the one before
                is shown as one line '*'; a last line gives the address after the end.

                Exit status: 0 read, 1 bad input (an address that is not RAM, an unknown block,
                a range past the block's end, a machine whose layout is unknown), 2 bad usage.
                """;
    }

    @Override
    public List<CommandLine.Option> options() {
        return List.of(CommandLine.Option.value("--gpa"), CommandLine.Option.value("--block"),
                CommandLine.Option.value("--offset"), CommandLine.Option.value("--length"),
                CommandLine.Option.flag("--raw"), new CommandLine.Option("--output", 'o', true),
                CommandLine.Option.value("--snapshot"), CommandLine.Option.flag("--debug"));
    }

    @Override
    public int run(CommandLine args, Path workDir, PrintStream out, PrintStream err)
            throws IOException, Options.UsageException {
        String file = args.positionals("FILE").getFirst();
        boolean byGpa = args.has("--gpa");
        if (byGpa == args.has("--block")) {
            throw new Options.UsageException("read: give either --gpa ADDR or --block NAME --offset OFF");
        }
        if (byGpa && args.has("--offset")) {
            throw new Options.UsageException("read: --offset goes with --block (--gpa is an address itself)");
        }
        if (!byGpa && !args.has("--offset")) {
            throw new Options.UsageException("read: --block needs --offset OFF");
        }
        if (!args.has("--length")) {
            throw new Options.UsageException("read: the following arguments are required: --length");
        }
        if (args.has("--raw") && args.has("--output")) {
            throw new Options.UsageException("read: --raw and --output are alternatives");
        }
        long address = byGpa ? args.number("--gpa", 0, Long.MAX_VALUE) : args.number("--offset", 0, Long.MAX_VALUE);
        int length = (int) args.number("--length", 1, MAX_LENGTH);
        if (args.has("--output") && args.value("--output").isEmpty()) {
            throw new Options.UsageException("read: argument -o/--output: empty");
        }
        String block = args.value("--block");
        try (GuestMemory memory = MemoryAccess.open(args, file, workDir)) {
            try {
                check(memory, byGpa, block, address, length);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                err.println("qevm read: " + file + ": " + e.getMessage());
                return Main.BAD_INPUT;
            }
            Reader reader = (at, into, n) -> {
                if (byGpa) {
                    memory.readPhysical(at, into, 0, n);
                } else {
                    memory.read(block, at, into, 0, n);
                }
            };
            if (args.has("--output")) {
                writeFile(workDir.resolve(args.value("--output")), reader, address, length);
            } else if (args.has("--raw")) {
                copy(reader, address, length, out);
            } else {
                hexdump(reader, address, length, out);
            }
        }
        return Main.OK;
    }

    /** Reads {@code n} bytes at {@code at} into {@code into}. */
    private interface Reader {
        void read(long at, byte[] into, int n) throws IOException;
    }

    /** Fails before any output when part of the range is not readable. */
    private static void check(GuestMemory memory, boolean byGpa, String block, long address, int length) {
        if (!byGpa) {
            GuestMemory.Block b = memory.block(block);
            if (b == null) {
                memory.pageKind(block, 0); // throws the library's message, which names the blocks
            }
            if (address > b.length() || length > b.length() - address) {
                throw new IllegalArgumentException("range 0x" + Long.toHexString(address) + "+" + length
                        + " is past the end of RAM block '" + MemoryAccess.printable(block) + "' (" + b.length()
                        + " bytes, to 0x" + Long.toHexString(b.length()) + ")");
            }
            return;
        }
        PhysicalMap map = memory.physicalMap();
        long at = address;
        long left = length;
        while (left > 0) {
            PhysicalMap.Range range = map.rangeAt(at);
            if (range == null) {
                throw new IllegalArgumentException("guest-physical address 0x" + Long.toHexString(at)
                        + " is not RAM on machine " + memory.machineType() + " (RAM: " + describe(map) + ")");
            }
            long n = Math.min(left, range.length() - (at - range.gpa()));
            at += n;
            left -= n;
        }
    }

    private static String describe(PhysicalMap map) {
        StringBuilder b = new StringBuilder();
        for (PhysicalMap.Range r : map.ranges()) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append("0x").append(Long.toHexString(r.gpa())).append("-0x").append(Long.toHexString(r.gpa() + r.length() - 1));
        }
        return b.toString();
    }

    private static void copy(Reader reader, long address, int length, OutputStream out) throws IOException {
        byte[] chunk = new byte[Math.min(CHUNK, length)];
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(chunk.length, length - done);
            reader.read(address + done, chunk, n);
            out.write(chunk, 0, n);
            done += n;
        }
    }

    /** Writes OUT.partial beside OUT, renamed into place when whole; removed on failure. */
    private static void writeFile(Path target, Reader reader, long address, int length) throws IOException {
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        boolean done = false;
        try {
            try (OutputStream file = Files.newOutputStream(partial)) {
                copy(reader, address, length, file);
            } catch (IOException e) {
                throw new io.qevm.consume.OutputFileException(partial, e);
            }
            try {
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new io.qevm.consume.OutputFileException(target, e);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(partial);
            }
        }
    }

    /** hexdump -C, with addresses from {@code address} and as many digits as the last needs (at least 8). */
    static void hexdump(Reader reader, long address, int length, PrintStream out) throws IOException {
        long end = address + length;
        int digits = Math.max(8, (64 - Long.numberOfLeadingZeros(end) + 3) / 4);
        String format = "%0" + digits + "x";
        byte[] chunk = new byte[Math.min(CHUNK, length)];
        byte[] previous = null;
        boolean starred = false;
        StringBuilder line = new StringBuilder(80);
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(chunk.length, length - done);
            reader.read(address + done, chunk, n);
            for (int i = 0; i < n; i += 16) {
                int count = Math.min(16, n - i);
                if (count == 16 && previous != null && java.util.Arrays.equals(chunk, i, i + 16, previous, 0, 16)) {
                    if (!starred) {
                        out.print("*\n");
                        starred = true;
                    }
                    continue;
                }
                starred = false;
                if (previous == null) {
                    previous = new byte[16];
                }
                System.arraycopy(chunk, i, previous, 0, count);
                if (count < 16) {
                    previous = null; // the last, short line
                }
                line.setLength(0);
                line.append(String.format(format, address + done + i)).append("  ");
                for (int j = 0; j < 16; j++) {
                    if (j < count) {
                        line.append(Character.forDigit((chunk[i + j] >> 4) & 0xf, 16))
                                .append(Character.forDigit(chunk[i + j] & 0xf, 16)).append(' ');
                    } else {
                        line.append("   ");
                    }
                    if (j == 7) {
                        line.append(' ');
                    }
                }
                line.append(" |");
                for (int j = 0; j < count; j++) {
                    int c = chunk[i + j] & 0xff;
                    line.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
                }
                line.append("|\n");
                out.print(line);
            }
            done += n;
        }
        out.print(String.format(format, end) + "\n");
    }
}
