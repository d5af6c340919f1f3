package io.qevm.cli;

import io.qevm.Container;
import io.qevm.MigrationReader;
import io.qevm.consume.DumpStats;
import io.qevm.consume.PassCounter;
import io.qevm.consume.PythonJson;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import tools.jackson.core.JsonGenerator;

/** {@code qevm stats FILE [--json]}: what a dump holds, counted ({@link DumpStats}). */
final class StatsCommand implements Subcommands.Subcommand {

    /** Cells of each block's map in the JSON (the report draws finer ones). */
    static final int JSON_MAP_CELLS = 256;
    /** Device states listed as the largest. */
    static final int LARGEST = 10;

    @Override
    public String help() {
        return """
                usage: qevm stats FILE [--json] [--snapshot ID|NAME] [--debug]

                Counts what a migration dump holds, in one pass: what the stream tells of the
                QEMU that wrote it, its sections (records, bytes), per RAM block the pages by how
                they travelled, the distinct pages, the resends and the pages never sent, the
                passes of a live migration, and the largest device states. FILE is anything
                qevm -f reads (a stream, compressed, a libvirt image, a qcow2 image; - for
                standard input).

                options:
                  --json                one JSON object (below) instead of the text summary
                  --snapshot ID|NAME    of a qcow2 image: the internal snapshot to read
                  --debug               print stack traces on failure
                  -h, --help            show this help message and exit

                JSON (stable: fields may be added, none removed or changed):
                  {"file": FILE, "streamBytes": bytes read,
                   "stream": {"machine": "pc-i440fx-7.2" or null, "capabilities": [...],
                              "targetPageBits": 12 or null, "pageSize": 4096 or null,
                              "description": true if the JSON VM description was there,
                              "containers": ["gzip", "libvirt save image", ...] (outermost first),
                              "qemu": [sentences on the QEMU that wrote it]},
                   "sections": [{"id", "name", "instance", "version", "parts": records,
                                 "bytes": stream bytes of its records}, ...] (first-seen order),
                   "ram": [{"block", "length" (-1 if not listed), "pageSize", "pages" (the block's),
                            "records": page records, "distinct": pages sent at least once,
                            "resends", "neverSent", "zero", "fill" (pages of another fill byte),
                            "data": {"raw", "mapped", "compressed", "xbzrle"},
                            "map": {"pagesPerCell", "runs": [{"first": page number, "pages",
                                    "kind": "data"|"zero"|"resent"|"never-sent"}, ...]}}, ...],
                   "passCount": passes, "passesPerEntry": 1 (2, 4... past 65536 passes),
                   "passes": [{"pages", "zeroPages", "bytes", "parts"}, ...] (an entry sums
                             passesPerEntry passes),
                   "completion": {"pages", "zeroPages", "bytes", "parts"} or null,
                   "largestDevices": [{"id", "name", "instance", "bytes"}, ...] (10, largest first)}
                  A map has at most 256 runs; a run of a coarse map (pagesPerCell > 1) is of
                  cells whose pages are mostly of its kind. Passes: a page sent at or before
                  the place of the one sent before it starts a new pass (QEMU's walk over the
                  dirty pages); the completion is the RAM END record, sent with the VM stopped.

                exit status: 0 done, 1 bad input, 2 bad usage.
                """;
    }

    @Override
    public List<CommandLine.Option> options() {
        return DumpInput.with(CommandLine.Option.flag("--json"));
    }

    @Override
    public int run(CommandLine line, Path workDir, PrintStream out, PrintStream err) throws IOException,
            Options.UsageException {
        String file = line.positionals("FILE").getFirst();
        DumpStats stats;
        try (MigrationReader reader = DumpInput.openForRam(line, file, workDir)) {
            stats = DumpStats.collect(reader);
            DumpInput.noteSkippedDeviceState(reader, file, err);
        }
        if (line.has("--json")) {
            try (JsonGenerator json = PythonJson.generator(out)) {
                writeJson(json, file, stats);
            }
            out.println();
        } else {
            printText(out, file, stats);
        }
        return Main.OK;
    }

    /** What {@code container} is, in a few words. */
    static String describe(Container container) {
        return switch (container) {
            case Container.Compressed c -> c.format() + " data";
            case Container.LibvirtImage l -> "libvirt save image (" + l.magic() + ", format " + l.format() + ")";
            case Container.Qcow2Snapshot q -> "qcow2 image, snapshot " + q.snapshot().id() + " '"
                    + q.snapshot().name() + "'";
        };
    }

    static String kindName(DumpStats.PageKind kind) {
        return switch (kind) {
            case DATA -> "data";
            case ZERO -> "zero";
            case RESENT -> "resent";
            case NEVER_SENT -> "never-sent";
        };
    }

    static void writeJson(JsonGenerator json, String file, DumpStats stats) {
        json.writeStartObject();
        json.writeStringProperty("file", file);
        json.writeNumberProperty("streamBytes", stats.streamBytes());
        json.writeName("stream");
        json.writeStartObject();
        json.writeStringProperty("machine", stats.machineName());
        json.writeName("capabilities");
        json.writeStartArray();
        for (String capability : stats.capabilities()) {
            json.writeString(capability);
        }
        json.writeEndArray();
        json.writeName("targetPageBits");
        if (stats.targetPageBits() < 0) {
            json.writeNull();
        } else {
            json.writeNumber(stats.targetPageBits());
        }
        json.writeName("pageSize");
        if (stats.pageSize() < 0) {
            json.writeNull();
        } else {
            json.writeNumber(stats.pageSize());
        }
        json.writeBooleanProperty("description", stats.hasDescription());
        json.writeName("containers");
        json.writeStartArray();
        for (Container container : stats.containers()) {
            json.writeString(describe(container));
        }
        json.writeEndArray();
        json.writeName("qemu");
        json.writeStartArray();
        for (String hint : stats.qemuHints()) {
            json.writeString(hint);
        }
        json.writeEndArray();
        json.writeEndObject();
        json.writeName("sections");
        json.writeStartArray();
        for (DumpStats.Section section : stats.sections()) {
            json.writeStartObject();
            json.writeNumberProperty("id", section.id());
            json.writeStringProperty("name", section.name());
            json.writeNumberProperty("instance", section.instance());
            json.writeNumberProperty("version", section.version());
            json.writeNumberProperty("parts", section.parts());
            json.writeNumberProperty("bytes", section.bytes());
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeName("ram");
        json.writeStartArray();
        for (DumpStats.Block block : stats.blocks()) {
            json.writeStartObject();
            json.writeStringProperty("block", block.name());
            json.writeNumberProperty("length", block.length());
            json.writeNumberProperty("pageSize", block.pageSize());
            json.writeNumberProperty("pages", block.pages());
            json.writeNumberProperty("records", block.sentPages());
            json.writeNumberProperty("distinct", block.distinctPages());
            json.writeNumberProperty("resends", block.resends());
            json.writeNumberProperty("neverSent", block.neverSentPages());
            json.writeNumberProperty("zero", block.zeroPages());
            json.writeNumberProperty("fill", block.fillPages());
            json.writeName("data");
            json.writeStartObject();
            json.writeNumberProperty("raw", block.rawPages());
            json.writeNumberProperty("mapped", block.mappedPages());
            json.writeNumberProperty("compressed", block.compressedPages());
            json.writeNumberProperty("xbzrle", block.xbzrlePages());
            json.writeEndObject();
            json.writeName("map");
            json.writeStartObject();
            json.writeNumberProperty("pagesPerCell", block.pagesPerCell(JSON_MAP_CELLS));
            json.writeName("runs");
            json.writeStartArray();
            for (DumpStats.Run run : block.map(JSON_MAP_CELLS)) {
                json.writeStartObject();
                json.writeNumberProperty("first", run.firstPage());
                json.writeNumberProperty("pages", run.pages());
                json.writeStringProperty("kind", kindName(run.kind()));
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeNumberProperty("passCount", stats.passCount());
        json.writeNumberProperty("passesPerEntry", stats.passesPerEntry());
        json.writeName("passes");
        json.writeStartArray();
        for (PassCounter.Pass pass : stats.passes()) {
            writePass(json, pass);
        }
        json.writeEndArray();
        json.writeName("completion");
        if (stats.completion() == null) {
            json.writeNull();
        } else {
            writePass(json, stats.completion());
        }
        json.writeName("largestDevices");
        json.writeStartArray();
        for (DumpStats.Section section : stats.largestDevices(LARGEST)) {
            json.writeStartObject();
            json.writeNumberProperty("id", section.id());
            json.writeStringProperty("name", section.name());
            json.writeNumberProperty("instance", section.instance());
            json.writeNumberProperty("bytes", section.bytes());
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeEndObject();
    }

    /** "pass 3", or "passes 5 to 8" for entry {@code entry} of passes summed {@code perEntry} at a time. */
    static String passLabel(int entry, int perEntry, long passCount) {
        long first = (long) entry * perEntry + 1;
        long last = Math.min(passCount, first + perEntry - 1);
        return first >= last ? "pass " + first : "passes " + first + " to " + last;
    }

    private static void writePass(JsonGenerator json, PassCounter.Pass pass) {
        json.writeStartObject();
        json.writeNumberProperty("pages", pass.pages());
        json.writeNumberProperty("zeroPages", pass.zeroPages());
        json.writeNumberProperty("bytes", pass.bytes());
        json.writeNumberProperty("parts", pass.parts());
        json.writeEndObject();
    }

    private static void printText(PrintStream out, String file, DumpStats stats) {
        out.println(file + ": " + stats.streamBytes() + " bytes of stream ("
                + Progress.bytes(stats.streamBytes()) + ")");
        out.println("  machine:      " + (stats.machineName() == null ? "(not given)" : stats.machineName()));
        out.println("  capabilities: " + (stats.capabilities().isEmpty() ? "(none)"
                : String.join(", ", stats.capabilities())));
        out.println("  page size:    " + (stats.pageSize() < 0 ? "(no pages)" : stats.pageSize())
                + (stats.targetPageBits() >= 0 ? " (target-page-bits " + stats.targetPageBits() + ")" : ""));
        out.println("  description:  " + (stats.hasDescription() ? "yes" : "no"));
        for (Container container : stats.containers()) {
            out.println("  read from:    " + describe(container));
        }
        for (String hint : stats.qemuHints()) {
            out.println("  hint:         " + hint);
        }
        out.println();
        out.println("sections: " + stats.sections().size());
        out.println(String.format(Locale.ROOT, "  %5s  %-32s %8s %8s %6s %12s", "id", "name", "instance", "version",
                "parts", "bytes"));
        for (DumpStats.Section s : stats.sections()) {
            out.println(String.format(Locale.ROOT, "  %5d  %-32s %8d %8d %6d %12d", s.id(), s.name(), s.instance(),
                    s.version(), s.parts(), s.bytes()));
        }
        for (DumpStats.Block block : stats.blocks()) {
            out.println();
            out.println("RAM block " + block.name() + ": " + block.pages() + " pages of " + block.pageSize()
                    + " bytes" + (block.length() >= 0 ? " (" + Progress.bytes(block.length()) + ")" : ""));
            out.println("  page records: " + block.sentPages() + " (data: " + block.rawPages() + " raw, "
                    + block.mappedPages() + " mapped, " + block.compressedPages() + " compressed, "
                    + block.xbzrlePages() + " XBZRLE; zero: " + block.zeroPages() + "; other fill: "
                    + block.fillPages() + ")");
            out.println("  distinct pages: " + block.distinctPages() + ", resends: " + block.resends()
                    + ", never sent: " + block.neverSentPages());
        }
        List<PassCounter.Pass> passes = stats.passes();
        if (passes.size() > 1 || stats.completion() != null) {
            out.println();
            out.println("passes: " + stats.passCount() + (stats.completion() != null ? " and the completion" : ""));
            for (int i = 0; i < passes.size(); i++) {
                PassCounter.Pass pass = passes.get(i);
                out.println("  " + passLabel(i, stats.passesPerEntry(), stats.passCount()) + ": " + pass.pages() + " pages (" + pass.zeroPages() + " zero), "
                        + pass.bytes() + " bytes, " + pass.parts() + " parts");
            }
            if (stats.completion() != null) {
                PassCounter.Pass pass = stats.completion();
                out.println("  completion: " + pass.pages() + " pages (" + pass.zeroPages() + " zero), "
                        + pass.bytes() + " bytes");
            }
        }
        List<DumpStats.Section> largest = stats.largestDevices(LARGEST);
        if (!largest.isEmpty()) {
            out.println();
            out.println("largest device states:");
            for (DumpStats.Section s : largest) {
                out.println(String.format(Locale.ROOT, "  %12d  %s (%d), instance %d", s.bytes(), s.name(), s.id(),
                        s.instance()));
            }
        }
    }
}
