package io.qevm.cli;

import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.consume.PythonJson;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;

/**
 * {@code qevm diff A B}: what differs between two dumps, device fields by path and RAM by runs of
 * pages; exits as diff(1) does (0 same, 1 different, 2 trouble).
 */
final class DiffCommand implements Subcommands.Subcommand {

    static final int SAME = 0;
    static final int DIFFERENT = 1;
    static final int TROUBLE = 2;

    static final String HELP = """
            usage: qevm diff A B [--json] [--snapshot-a ID] [--snapshot-b ID] [--debug]

            What differs between two dumps (migration files, libvirt save images, compressed
            dumps, qcow2 snapshots): the device state field by field, and the guest RAM page by
            page, each page as QEMU's destination would hold it (its last copy; pages never sent
            are zero). Both files are read twice: once for the device state, once for RAM.

            options:
              -h, --help         show this help message and exit
              --json             write the differences as JSON (below) instead of text
              --snapshot-a ID    the snapshot of qcow2 image A to read, by ID or name (default:
                                 the most recent with VM state)
              --snapshot-b ID    the same for B (A and B may be one image: two of its snapshots)
              --debug            on a failure, print the stack trace too

            text output (nothing when the dumps are the same), one line each, in this order:
              machine: X -> Y                          the machine types differ
              NAME (ID): only in A|B                   a device section of one dump only
              NAME (ID): version X -> Y                a section's version differs
              NAME (ID)/PATH: X -> Y                   a field differs (PATH as the field's
                                                       path below the section, env.regs[3]; a
                                                       subsection adds its name)
              NAME (ID)/PATH: only in A|B: X           a field of one dump only
              ram BLOCK: only in A|B (N bytes)         a RAM block of one dump only
              ram BLOCK: length X -> Y                 lengths differ (pages compared up to the
                                                       shorter)
              ram BLOCK: pages F-L differ (offsets X-Y)   a run of pages that differ (page F
              ram BLOCK: page F differs (offsets X-Y)     alone), numbers in hex
            Values: integers in hex, bool as true/false, buffers up to 32 bytes in hex, longer
            ones as "N bytes" and, when of one length, "N bytes, K differ from byte X to Y".
            Names from the dumps have control characters as \\xNN.

            JSON output (--json), one object, keys in this order:
              "a", "b"         the two files as given
              "machine"        {"a": X, "b": Y} (null when either has none)
              "sections"       device sections of one dump only: [{"name", "instance_id",
                               "version", "in": "a"|"b"}]
              "versions"       [{"name", "instance_id", "a", "b"}]
              "fields"         fields that differ: [{"name", "instance_id", "path", "type",
                               "a", "b"}], a and b strings ("0x1f" for an integer, "true",
                               bytes in hex, "sha256:HEX" for a value over 64 KiB) or null for a
                               field of the other dump only
              "ram"            every RAM block: [{"block", "length_a", "length_b", "page_size",
                               "ranges": [{"first_page", "last_page", "offset", "length"}],
                               "pages_differ"}], length_a or length_b null for a block of one
                               dump only (then no ranges)
              "device_state_compared"  false when A or B has no JSON description (saved with
                               suppress-vmdesc): their fields cannot be read, RAM alone is compared
              "different"      whether anything differs (as the exit status)

            exit status: 0 the dumps are the same, 1 they differ, 2 trouble: bad usage, or
            A or B cannot be read (a missing file, a broken dump: one line on stderr naming the
            file and, for a broken dump, the byte offset). As for every command, standard
            output that cannot be written is 1 with one line, and 141 (quietly) when its reader
            went away.
            """;

    private static final List<CommandLine.Option> OPTIONS = List.of(
            CommandLine.Option.flag("--json"),
            CommandLine.Option.value("--snapshot-a"),
            CommandLine.Option.value("--snapshot-b"),
            CommandLine.Option.flag("--debug"));

    @Override
    public String help() {
        return HELP;
    }

    @Override
    public List<CommandLine.Option> options() {
        return OPTIONS;
    }

    @Override
    public int run(CommandLine line, Path workDir, PrintStream out, PrintStream err) throws IOException,
            Options.UsageException {
        List<String> files = line.positionals("A", "B");
        String nameA = files.get(0);
        String nameB = files.get(1);
        for (int i = 0; i < 2; i++) {
            if (files.get(i).equals("-")) {
                throw new Options.UsageException("diff: argument " + (i == 0 ? "A" : "B")
                        + ": standard input cannot be read twice: give a file");
            }
        }
        ReadOptions optionsA = readOptions(line.value("--snapshot-a"));
        ReadOptions optionsB = readOptions(line.value("--snapshot-b"));
        Path fileA = workDir.resolve(nameA);
        Path fileB = workDir.resolve(nameB);
        boolean debug = line.has("--debug");
        String[] current = {nameA};
        Dump a = new Dump(nameA, fileA, optionsA, current);
        Dump b = new Dump(nameB, fileB, optionsB, current);
        try (a; b) {
            // the two dumps are read at once, each on a thread (one pass over each file: its RAM
            // index, its device state taken from the same events), and then compared; after the
            // join each dump is used by this thread only (RamDiff's second thread aside, on plain
            // files only)
            Thread other = Thread.ofPlatform().name("qevm-diff-a").start(a::load);
            b.load();
            RamDiff.joinUninterruptibly(other);
            for (Dump dump : List.of(a, b)) {
                if (dump.failure != null) {
                    current[0] = dump.name;
                    throw rethrown(dump.failure);
                }
            }
            boolean compared = a.state.described && b.state.described;
            if (!compared) {
                err.println("qevm: " + (a.state.described ? nameB : nameA) + ": no JSON description: device state "
                        + "not compared, RAM only");
            }
            Report report = line.has("--json") ? new JsonReport(out, nameA, nameB) : new TextReport(out);
            boolean different = compareDevices(a.state, b.state, compared, report);
            report.ramStart();
            different |= new RamDiff(a.ram, b.ram, a.state.plainFile && b.state.plainFile).run(report);
            report.finish(compared, different);
            return different ? DIFFERENT : SAME;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            if (e instanceof Stdout.Failure stdout) {
                throw stdout; // reported as for every command: 141 when its reader went away, else 1
            }
            Throwable failure = e instanceof JacksonException j && j.getCause() instanceof IOException io ? io : e;
            if (failure instanceof DeviceState.DiffLimitException limit) {
                err.println("qevm: " + limit.getMessage());
                return TROUBLE;
            }
            int code = Main.failure(current[0], debug, "", err, failure);
            return code == Stdout.BROKEN_PIPE ? code : TROUBLE;
        }
    }

    /** {@code failure} thrown again as it was (an IOException returned, to be thrown). */
    private static IOException rethrown(Throwable failure) {
        return switch (failure) {
            case IOException io -> io;
            case RuntimeException r -> throw r;
            case Error e -> throw e;
            default -> new IOException(failure); // load() throws nothing else
        };
    }

    /** One dump: its device state and RAM index, loaded by {@link #load()} (on a thread of its own). */
    private static final class Dump implements AutoCloseable {
        final String name;
        final Path file;
        final ReadOptions options;
        final String[] current;
        DeviceState state;
        RamDiff.Ram ram;
        /** What {@link #load()} failed with, thrown again by the thread that compares. */
        Throwable failure;

        Dump(String name, Path file, ReadOptions options, String[] current) {
            this.name = name;
            this.file = file;
            this.options = options;
            this.current = current;
        }

        void load() {
            try {
                DeviceState device = new DeviceState();
                ram = new Named(GuestRam.open(file, options, device), name, current);
                state = device;
            } catch (Throwable t) {
                failure = t;
            }
        }

        @Override
        public void close() {
            if (ram != null) {
                ram.close();
            }
        }
    }

    private static ReadOptions readOptions(String snapshot) {
        // MAP_AHEAD stays on although the two dumps are indexed at once, a core each: measured,
        // 0.92-0.98 s with it, 1.06-1.14 s without (parser-bench/RESULTS.md, issue 13)
        ReadOptions.Builder read = ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION);
        if (snapshot != null) {
            read.snapshot(snapshot);
        }
        return read.build();
    }

    /** Reports every device difference; returns whether there was one. */
    static boolean compareDevices(DeviceState a, DeviceState b, boolean compared, Report report) throws IOException {
        boolean different = false;
        if (a.machine != null && b.machine != null && !a.machine.equals(b.machine)) {
            different = true;
        }
        report.machine(a.machine, b.machine);
        if (!compared) {
            return different;
        }
        report.sectionsStart();
        for (DeviceState.Section section : a.sections.values()) {
            if (!b.sections.containsKey(section.key)) {
                report.onlyIn(section, true);
                different = true;
            }
        }
        for (DeviceState.Section section : b.sections.values()) {
            if (!a.sections.containsKey(section.key)) {
                report.onlyIn(section, false);
                different = true;
            }
        }
        report.versionsStart();
        for (DeviceState.Section sa : a.sections.values()) {
            DeviceState.Section sb = b.sections.get(sa.key);
            if (sb != null && sa.version != sb.version) {
                report.version(sa.key, sa.version, sb.version);
                different = true;
            }
        }
        report.fieldsStart();
        for (DeviceState.Section sa : a.sections.values()) {
            DeviceState.Section sb = b.sections.get(sa.key);
            if (sb == null) {
                continue;
            }
            for (Map.Entry<String, DeviceState.Value> field : sa.fields.entrySet()) {
                DeviceState.Value vb = sb.fields.get(field.getKey());
                if (vb == null || !field.getValue().sameAs(vb)) {
                    report.field(sa.key, field.getKey(), field.getValue(), vb);
                    different = true;
                }
            }
            for (Map.Entry<String, DeviceState.Value> field : sb.fields.entrySet()) {
                if (!sa.fields.containsKey(field.getKey())) {
                    report.field(sa.key, field.getKey(), null, field.getValue());
                    different = true;
                }
            }
        }
        return different;
    }

    /** Where the differences go, in the order of {@link #HELP}. */
    interface Report extends RamDiff.Sink {

        void machine(String a, String b) throws IOException;

        void sectionsStart() throws IOException;

        void onlyIn(DeviceState.Section section, boolean inA) throws IOException;

        void versionsStart() throws IOException;

        void version(DeviceState.SectionKey key, long a, long b) throws IOException;

        void fieldsStart() throws IOException;

        /** A field that differs; {@code a} or {@code b} null when of the other dump only. */
        void field(DeviceState.SectionKey key, String path, DeviceState.Value a, DeviceState.Value b) throws IOException;

        void ramStart() throws IOException;

        void finish(boolean deviceStateCompared, boolean different) throws IOException;
    }

    /** The text of {@link #HELP}: one line per difference. */
    static final class TextReport implements Report {
        private final PrintStream out;
        private String block;
        private int pageSize;

        TextReport(PrintStream out) {
            this.out = out;
        }

        private static String safe(String text) {
            return DeviceState.printable(text);
        }

        @Override
        public void machine(String a, String b) {
            if (a != null && b != null && !a.equals(b)) {
                out.println("machine: " + safe(a) + " -> " + safe(b));
            }
        }

        @Override
        public void sectionsStart() {
        }

        @Override
        public void onlyIn(DeviceState.Section section, boolean inA) {
            out.println(safe(section.key.display()) + ": only in " + (inA ? "A" : "B"));
        }

        @Override
        public void versionsStart() {
        }

        @Override
        public void version(DeviceState.SectionKey key, long a, long b) {
            out.println(safe(key.display()) + ": version " + a + " -> " + b);
        }

        @Override
        public void fieldsStart() {
        }

        @Override
        public void field(DeviceState.SectionKey key, String path, DeviceState.Value a, DeviceState.Value b) {
            String where = safe(key.display() + "/" + path) + ": ";
            if (a == null || b == null) {
                out.println(where + "only in " + (a == null ? "B: " + b.display() : "A: " + a.display()));
            } else if (!a.digest() && !b.digest() && a.size() == b.size() && a.size() > 32
                    && a.kind() == io.qevm.FieldKind.BYTES) {
                byte[] x = a.bytes();
                byte[] y = b.bytes();
                int first = -1;
                int last = -1;
                int count = 0;
                for (int i = 0; i < x.length; i++) {
                    if (x[i] != y[i]) {
                        count++;
                        last = i;
                        if (first < 0) {
                            first = i;
                        }
                    }
                }
                out.println(where + a.size() + " bytes, " + count + " differ from byte 0x" + Long.toHexString(first)
                        + " to 0x" + Long.toHexString(last));
            } else if (a.digest() && b.digest() && a.size() == b.size()) {
                out.println(where + a.size() + " bytes differ");
            } else if (a.kind() == io.qevm.FieldKind.BYTES && (a.size() > 32 || b.size() > 32)) {
                out.println(where + a.size() + " bytes -> " + b.size() + " bytes");
            } else {
                out.println(where + a.display() + " -> " + b.display());
            }
        }

        @Override
        public void ramStart() {
        }

        @Override
        public void onlyIn(RamDiff.Block b, boolean inA) {
            out.println("ram " + safe(b.name()) + ": only in " + (inA ? "A" : "B") + " (" + b.length() + " bytes)");
        }

        @Override
        public void blockStart(RamDiff.Block a, RamDiff.Block b, int pageSize) {
            this.block = safe(a.name());
            this.pageSize = pageSize;
            if (a.length() != b.length()) {
                out.println("ram " + block + ": length 0x" + Long.toHexString(a.length()) + " -> 0x"
                        + Long.toHexString(b.length()));
            }
        }

        @Override
        public void range(long first, long last) {
            long end = (last + 1) * pageSize - 1;
            out.println("ram " + block + ": " + (first == last ? "page 0x" + Long.toHexString(first) + " differs"
                    : "pages 0x" + Long.toHexString(first) + "-0x" + Long.toHexString(last) + " differ")
                    + " (offsets 0x" + Long.toHexString(first * pageSize) + "-0x" + Long.toHexString(end) + ")");
        }

        @Override
        public void blockEnd(long pages, long ranges) {
        }

        @Override
        public void finish(boolean deviceStateCompared, boolean different) {
        }
    }

    /** The JSON of {@link #HELP}, written as the differences are found. */
    static final class JsonReport implements Report {
        private final JsonGenerator json;
        private int pageSize;
        private boolean inRam;

        JsonReport(PrintStream out, String a, String b) {
            this.json = PythonJson.generator(out);
            json.writeStartObject();
            json.writeStringProperty("a", a);
            json.writeStringProperty("b", b);
        }

        private static String value(DeviceState.Value v) {
            if (v == null) {
                return null;
            }
            if (v.digest()) {
                return "sha256:" + HexFormat.of().formatHex(v.bytes());
            }
            return switch (v.kind()) {
                case BYTES -> HexFormat.of().formatHex(v.bytes());
                case CAPABILITY -> new String(v.bytes(), java.nio.charset.StandardCharsets.UTF_8);
                default -> v.display();
            };
        }

        @Override
        public void machine(String a, String b) {
            json.writeName("machine");
            if (a == null || b == null) {
                json.writeNull();
            } else {
                json.writeStartObject();
                json.writeStringProperty("a", a);
                json.writeStringProperty("b", b);
                json.writeEndObject();
            }
        }

        @Override
        public void sectionsStart() {
            json.writeArrayPropertyStart("sections");
        }

        @Override
        public void onlyIn(DeviceState.Section section, boolean inA) {
            json.writeStartObject();
            json.writeStringProperty("name", section.key.name());
            json.writeNumberProperty("instance_id", section.key.instanceId());
            json.writeNumberProperty("version", section.version);
            json.writeStringProperty("in", inA ? "a" : "b");
            json.writeEndObject();
        }

        @Override
        public void versionsStart() {
            json.writeEndArray();
            json.writeArrayPropertyStart("versions");
        }

        @Override
        public void version(DeviceState.SectionKey key, long a, long b) {
            json.writeStartObject();
            json.writeStringProperty("name", key.name());
            json.writeNumberProperty("instance_id", key.instanceId());
            json.writeNumberProperty("a", a);
            json.writeNumberProperty("b", b);
            json.writeEndObject();
        }

        @Override
        public void fieldsStart() {
            json.writeEndArray();
            json.writeArrayPropertyStart("fields");
        }

        @Override
        public void field(DeviceState.SectionKey key, String path, DeviceState.Value a, DeviceState.Value b) {
            json.writeStartObject();
            json.writeStringProperty("name", key.name());
            json.writeNumberProperty("instance_id", key.instanceId());
            json.writeStringProperty("path", path);
            json.writeStringProperty("type", (a != null ? a : b).type());
            json.writeStringProperty("a", value(a));
            json.writeStringProperty("b", value(b));
            json.writeEndObject();
        }

        @Override
        public void ramStart() {
            if (json.streamWriteContext().inArray()) {
                json.writeEndArray(); // the fields
            } else {
                // device state not compared: its keys all the same, empty
                json.writeArrayPropertyStart("sections");
                json.writeEndArray();
                json.writeArrayPropertyStart("versions");
                json.writeEndArray();
                json.writeArrayPropertyStart("fields");
                json.writeEndArray();
            }
            json.writeArrayPropertyStart("ram");
            inRam = true;
        }

        @Override
        public void onlyIn(RamDiff.Block b, boolean inA) {
            json.writeStartObject();
            json.writeStringProperty("block", b.name());
            json.writeName("length_a");
            if (inA) {
                json.writeNumber(b.length());
            } else {
                json.writeNull();
            }
            json.writeName("length_b");
            if (inA) {
                json.writeNull();
            } else {
                json.writeNumber(b.length());
            }
            json.writeNumberProperty("page_size", b.pageSize());
            json.writeArrayPropertyStart("ranges");
            json.writeEndArray();
            json.writeNumberProperty("pages_differ", 0);
            json.writeEndObject();
        }

        @Override
        public void blockStart(RamDiff.Block a, RamDiff.Block b, int pageSize) {
            this.pageSize = pageSize;
            json.writeStartObject();
            json.writeStringProperty("block", a.name());
            json.writeNumberProperty("length_a", a.length());
            json.writeNumberProperty("length_b", b.length());
            json.writeNumberProperty("page_size", pageSize);
            json.writeArrayPropertyStart("ranges");
        }

        @Override
        public void range(long first, long last) {
            json.writeStartObject();
            json.writeNumberProperty("first_page", first);
            json.writeNumberProperty("last_page", last);
            json.writeNumberProperty("offset", first * pageSize);
            json.writeNumberProperty("length", (last - first + 1) * pageSize);
            json.writeEndObject();
        }

        @Override
        public void blockEnd(long pages, long ranges) {
            json.writeEndArray();
            json.writeNumberProperty("pages_differ", pages);
            json.writeEndObject();
        }

        @Override
        public void finish(boolean deviceStateCompared, boolean different) {
            if (inRam) {
                json.writeEndArray();
            }
            json.writeBooleanProperty("device_state_compared", deviceStateCompared);
            json.writeBooleanProperty("different", different);
            json.writeEndObject();
            json.close();
        }
    }

    /** A dump's RAM that names its file as the one being read, for the one line a failure prints. */
    private record Named(RamDiff.Ram ram, String name, String[] current) implements RamDiff.Ram {

        @Override
        public List<RamDiff.Block> blocks() {
            current[0] = name;
            return ram.blocks();
        }

        @Override
        public RamDiff.Kind kind(String block, long page) {
            current[0] = name;
            return ram.kind(block, page);
        }

        @Override
        public void read(String block, long offset, byte[] dst, int dstOffset, int length) throws IOException {
            current[0] = name;
            ram.read(block, offset, dst, dstOffset, length);
        }

        @Override
        public RamDiff.Pages pages(String block) {
            RamDiff.Pages pages = ram.pages(block);
            return page -> {
                current[0] = name;
                return pages.page(page);
            };
        }

        @Override
        public void close() {
            ram.close();
        }
    }
}
