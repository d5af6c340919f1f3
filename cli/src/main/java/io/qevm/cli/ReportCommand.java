package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.qevm.Container;
import io.qevm.MigrationReader;
import io.qevm.consume.DumpStats;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.OutputFileException;
import io.qevm.consume.PassCounter;
import io.qevm.consume.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code qevm report FILE -o report.html}: one self-contained HTML page (inline CSS, JS and SVG;
 * nothing fetched): the summary, a RAM map per block, the passes of a live migration, the
 * sections by size and the device states as a searchable tree. Written to a temporary file
 * beside the output and renamed over it: never a partial report.
 */
final class ReportCommand implements Subcommands.Subcommand {

    /** Cells of a block's map at most (a finer map is an unreadable one); 128 per row. */
    static final int MAP_CELLS = 16384;
    static final int CELLS_PER_ROW = 128;
    /** A cell's side in CSS pixels. */
    static final int CELL = 4;
    /** Bars of the pass chart at most (more passes are grouped). */
    static final int MAX_BARS = 400;

    /** The map colours, by {@link DumpStats.PageKind} ordinal: never sent, zero, data, resent. */
    static final int[] COLOURS = {0xf3e3c3, 0xc8c8c8, 0x1f6fb4, 0xf07c0e};

    @Override
    public String help() {
        return """
                usage: qevm report FILE -o OUT.html [--snapshot ID|NAME] [--debug]

                Writes one self-contained HTML page about FILE (inline CSS, JS and SVG; it
                fetches nothing): a summary of the stream, a RAM map per block (a cell per
                page, or per run of pages in big blocks: data, zero, sent more than once,
                never sent), the pages sent in each pass of a live migration, the sections
                by size, and the device states (as qevm -d state prints them) as a tree with
                a search box. OUT is written whole or not at all (a temporary file beside it,
                renamed over it).

                options:
                  -o, --output OUT      the HTML file to write (required)
                  --snapshot ID|NAME    of a qcow2 image: the internal snapshot to read
                  --debug               print stack traces on failure
                  -h, --help            show this help message and exit

                exit status: 0 done, 1 bad input or output, 2 bad usage.
                """;
    }

    @Override
    public List<CommandLine.Option> options() {
        return DumpInput.with(new CommandLine.Option("--output", 'o', true));
    }

    @Override
    public int run(CommandLine line, Path workDir, PrintStream out, PrintStream err) throws IOException,
            Options.UsageException {
        String file = line.positionals("FILE").getFirst();
        String output = line.value("--output");
        if (output == null || output.isEmpty()) {
            throw new Options.UsageException("report: the following arguments are required: -o/--output");
        }
        Path target = workDir.resolve(output);
        DumpStats stats = new DumpStats();
        byte[] state;
        try (MigrationReader reader = DumpInput.openForRam(line, file, workDir);
             StateWriter writer = new StateWriter()) {
            MigrationConsumer.drive(reader, stats, writer);
            DumpInput.noteSkippedDeviceState(reader, file, err);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            if (reader.hasDescription()) {
                writer.writeTo(bytes, false);
            } else {
                bytes.writeBytes("{}".getBytes(UTF_8));
            }
            state = bytes.toByteArray();
        }
        String html = html(file, stats, new String(state, UTF_8));
        writeAtomically(target, html.getBytes(UTF_8));
        return Main.OK;
    }

    /** Writes {@code bytes} to a temporary file in {@code target}'s directory, then renames it over {@code target}. */
    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        // a name of our own, made with CREATE_NEW: the report gets the permissions the umask
        // gives (Files.createTempFile would make it 0600)
        Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(System.nanoTime())
                + Integer.toHexString(new java.util.Random().nextInt()) + ".tmp");
        boolean done = false;
        try {
            try (java.io.OutputStream out = Files.newOutputStream(temp, java.nio.file.StandardOpenOption.CREATE_NEW,
                    java.nio.file.StandardOpenOption.WRITE)) {
                out.write(bytes);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } catch (IOException e) {
            throw new OutputFileException(target, "cannot write: " + reason(e));
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private static String reason(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    // ------------------------------------------------------------------ the page

    static String html(String file, DumpStats stats, String stateJson) {
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>qevm report: ")
                .append(esc(file)).append("</title>\n<style>").append(CSS).append("</style>\n<script>")
                .append(ERRORS_JS).append("</script>\n</head><body>\n");
        h.append("<h1>qevm report: ").append(esc(file)).append("</h1>\n");
        summary(h, stats);
        ram(h, stats);
        passes(h, stats);
        sections(h, stats);
        devices(h, stats, stateJson);
        h.append("<script>").append(MAIN_JS).append("</script>\n</body></html>\n");
        return h.toString();
    }

    private static void summary(StringBuilder h, DumpStats stats) {
        h.append("<section id=\"summary\"><h2>Summary</h2><table class=\"kv\">\n");
        row(h, "stream bytes", stats.streamBytes() + " (" + Progress.bytes(stats.streamBytes()) + ")");
        row(h, "machine", stats.machineName() == null ? "(not given)" : stats.machineName());
        row(h, "capabilities", stats.capabilities().isEmpty() ? "(none)" : String.join(", ", stats.capabilities()));
        row(h, "page size", stats.pageSize() < 0 ? "(no pages)" : Long.toString(stats.pageSize()));
        row(h, "JSON description", stats.hasDescription() ? "yes" : "no");
        for (Container container : stats.containers()) {
            row(h, "read from", StatsCommand.describe(container));
        }
        for (String hint : stats.qemuHints()) {
            row(h, "hint", hint);
        }
        long pages = 0;
        long records = 0;
        for (DumpStats.Block block : stats.blocks()) {
            pages += block.pages();
            records += block.sentPages();
        }
        row(h, "RAM", stats.blocks().size() + " blocks, " + pages + " pages, " + records + " page records");
        row(h, "sections", Integer.toString(stats.sections().size()));
        h.append("</table></section>\n");
    }

    private static void row(StringBuilder h, String key, String value) {
        h.append("<tr><th>").append(esc(key)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
    }

    private static void ram(StringBuilder h, DumpStats stats) {
        h.append("<section id=\"ram\"><h2>RAM</h2>\n<p class=\"legend\">");
        String[] names = {"never sent", "zero", "data", "sent more than once"};
        for (int i = 0; i < names.length; i++) {
            h.append("<span class=\"swatch\" style=\"background:").append(colour(COLOURS[i])).append("\"></span>")
                    .append(names[i]).append(" &nbsp; ");
        }
        h.append("</p>\n");
        int index = 0;
        for (DumpStats.Block block : stats.blocks()) {
            long perCell = block.pagesPerCell(MAP_CELLS);
            long pages = block.pages();
            long cells = (pages + perCell - 1) / perCell;
            long rows = Math.max(1, (cells + CELLS_PER_ROW - 1) / CELLS_PER_ROW);
            h.append("<div class=\"block\"><h3>").append(esc(block.name())).append("</h3><p>")
                    .append(pages).append(" pages of ").append(block.pageSize()).append(" bytes; ")
                    .append(block.sentPages()).append(" page records (data: ").append(block.rawPages())
                    .append(" raw, ").append(block.mappedPages()).append(" mapped, ").append(block.compressedPages())
                    .append(" compressed, ").append(block.xbzrlePages()).append(" XBZRLE; zero: ")
                    .append(block.zeroPages()).append("; other fill: ").append(block.fillPages())
                    .append("); distinct ").append(block.distinctPages()).append(", resends ")
                    .append(block.resends()).append(", never sent ").append(block.neverSentPages()).append("; ")
                    .append(perCell == 1 ? "a cell per page" : "a cell per " + perCell
                            + " pages, coloured as most of them are")
                    .append("</p>\n<canvas class=\"ram-map\" id=\"map-").append(index).append("\" width=\"")
                    .append(Math.max(1, Math.min(cells, CELLS_PER_ROW)) * CELL).append("\" height=\"").append(rows * CELL)
                    .append("\" data-cells=\"").append(cells).append("\" data-pages-per-cell=\"").append(perCell)
                    .append("\" data-page-size=\"").append(block.pageSize()).append("\" data-runs=\"");
            boolean first = true;
            for (DumpStats.Run run : block.map(MAP_CELLS)) {
                // in cells: a run of a coarse map is of whole cells
                long firstCell = run.firstPage() / perCell;
                long count = (run.pages() + perCell - 1) / perCell;
                h.append(first ? "" : ",").append(firstCell).append(',').append(count).append(',')
                        .append(run.kind().ordinal());
                first = false;
            }
            h.append("\"></canvas><div class=\"where\" id=\"where-").append(index).append("\">&nbsp;</div></div>\n");
            index++;
        }
        if (stats.blocks().isEmpty()) {
            h.append("<p>No RAM pages.</p>\n");
        }
        h.append("</section>\n");
    }

    private static void passes(StringBuilder h, DumpStats stats) {
        List<PassCounter.Pass> passes = stats.passes();
        PassCounter.Pass completion = stats.completion();
        h.append("<section id=\"passes\"><h2>Passes</h2>\n");
        int perEntry = stats.passesPerEntry();
        if (passes.size() <= 1 && completion == null) {
            h.append("<p>").append(passes.size() == 1 ? "One pass over RAM (not a live migration, or one that"
                    + " needed no second pass)." : "No RAM pages.").append("</p></section>\n");
            return;
        }
        // bars: passes (grouped when many), then the completion
        List<long[]> bars = new ArrayList<>(); // pages, zero pages, first pass, last pass (0: completion)
        int group = (passes.size() + MAX_BARS - 1) / MAX_BARS; // entries a bar
        for (int i = 0; i < passes.size(); i += group) {
            long p = 0;
            long z = 0;
            int end = Math.min(passes.size(), i + group);
            for (int j = i; j < end; j++) {
                p += passes.get(j).pages();
                z += passes.get(j).zeroPages();
            }
            bars.add(new long[] {p, z, (long) i * perEntry + 1, Math.min(stats.passCount(), (long) end * perEntry)});
        }
        if (completion != null) {
            bars.add(new long[] {completion.pages(), completion.zeroPages(), 0, 0});
        }
        long max = 1;
        for (long[] bar : bars) {
            max = Math.max(max, bar[0]);
        }
        int width = 800;
        int height = 240;
        int left = 60;
        int bottom = 20;
        double barWidth = (width - left - 10) / (double) bars.size();
        h.append("<p>").append(stats.passCount()).append(" passes").append(completion != null
                ? " and the completion (VM stopped)" : "").append(group * perEntry > 1 ? "; a bar per "
                        + (long) group * perEntry + " passes" : "")
                .append(". Pages sent in each, on a log scale (zero pages in grey; hover for the counts); a migration"
                        + " converges when they shrink.</p>\n");
        h.append("<svg id=\"pass-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width)
                .append("\" height=\"").append(height).append("\" role=\"img\">\n");
        h.append("<line x1=\"").append(left).append("\" y1=\"").append(height - bottom).append("\" x2=\"")
                .append(width).append("\" y2=\"").append(height - bottom).append("\" stroke=\"#444\"/>\n");
        h.append("<text x=\"2\" y=\"14\" class=\"axis\">").append(max).append("</text>\n");
        h.append("<text x=\"2\" y=\"").append(height - bottom).append("\" class=\"axis\">0</text>\n");
        double plot = height - bottom - 10;
        for (int i = 0; i < bars.size(); i++) {
            long[] bar = bars.get(i);
            double x = left + i * barWidth;
            // log scale: the first pass sends every page, the later ones a few hundred
            double all = bar[0] == 0 ? 0 : plot * Math.log1p(bar[0]) / Math.log1p(max);
            double zero = bar[0] == 0 ? 0 : all * bar[1] / bar[0];
            String label = bar[2] == 0 ? "completion" : bar[2] == bar[3] ? "pass " + bar[2]
                    : "passes " + bar[2] + " to " + bar[3];
            h.append("<g><title>").append(label).append(": ").append(bar[0]).append(" pages (").append(bar[1])
                    .append(" zero)</title>");
            h.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                    x, height - bottom - all, Math.max(0.5, barWidth * 0.8), all - zero,
                    bar[2] == 0 ? "#b03030" : colour(COLOURS[2])));
            h.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                    x, height - bottom - zero, Math.max(0.5, barWidth * 0.8), zero, colour(COLOURS[1])));
            h.append("</g>\n");
        }
        h.append("<text x=\"").append(left).append("\" y=\"").append(height - 4)
                .append("\" class=\"axis\">pass 1</text>\n");
        h.append("<text x=\"").append(width - 80).append("\" y=\"").append(height - 4).append("\" class=\"axis\">")
                .append(completion != null ? "completion" : "last pass").append("</text>\n");
        h.append("</svg>\n</section>\n");
    }

    private static void sections(StringBuilder h, DumpStats stats) {
        h.append("<section id=\"sections\"><h2>Sections</h2>\n<table class=\"grid\"><tr><th>id</th><th>name</th>"
                + "<th>instance</th><th>version</th><th>records</th><th>bytes</th><th></th></tr>\n");
        long max = 1;
        for (DumpStats.Section s : stats.sections()) {
            max = Math.max(max, s.bytes());
        }
        for (DumpStats.Section s : stats.sections()) {
            h.append("<tr><td>").append(s.id()).append("</td><td>").append(esc(s.name())).append("</td><td>")
                    .append(s.instance()).append("</td><td>").append(s.version()).append("</td><td>")
                    .append(s.parts()).append("</td><td class=\"num\">").append(s.bytes())
                    .append("</td><td><div class=\"bar\" style=\"width:")
                    .append(String.format(Locale.ROOT, "%.1f", 300.0 * s.bytes() / max)).append("px\"></div></td></tr>\n");
        }
        h.append("</table></section>\n");
    }

    private static void devices(StringBuilder h, DumpStats stats, String stateJson) {
        h.append("<section id=\"devices\"><h2>Devices</h2>\n<p>The device states as <code>qevm -d state</code>"
                + " prints them, largest first. <input id=\"search\" type=\"search\" placeholder=\"search fields"
                + " and values\" size=\"40\"> <span id=\"matches\"></span></p>\n<div id=\"tree\"></div>\n");
        // sizes by the key the state JSON uses: "name (id)"
        h.append("<script type=\"application/json\" id=\"sizes\">{");
        boolean first = true;
        for (DumpStats.Section s : stats.sections()) {
            h.append(first ? "" : ",").append(jsonString(s.name() + " (" + s.id() + ")")).append(':').append(s.bytes());
            first = false;
        }
        h.append("}</script>\n<script type=\"application/json\" id=\"state\">")
                .append(stateJson.replace("<", "\\u003c")).append("</script>\n</section>\n");
    }

    /** A JSON string literal safe inside a script element. */
    private static String jsonString(String text) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c > 0x7e) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    static String colour(int rgb) {
        return String.format(Locale.ROOT, "#%06x", rgb);
    }

    static String esc(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c < 0x20 && c != '\n' && c != '\t' ? '?' : c);
            }
        }
        return b.toString();
    }

    private static final String CSS = """
            body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fff}
            h1{font-size:20px;margin:0 0 8px}h2{font-size:17px;border-bottom:1px solid #ccc;margin-top:24px}
            h3{font-size:15px;margin:12px 0 2px}
            table.kv th{text-align:left;padding-right:12px;font-weight:600;vertical-align:top}
            table.grid{border-collapse:collapse}table.grid td,table.grid th{padding:1px 8px;border-bottom:1px solid #eee}
            td.num{text-align:right;font-variant-numeric:tabular-nums}
            .bar{height:10px;background:#1f6fb4}
            .swatch{display:inline-block;width:12px;height:12px;border:1px solid #888;margin-right:4px;vertical-align:middle}
            canvas.ram-map{display:block;border:1px solid #888;image-rendering:pixelated}
            .where{font-family:monospace;font-size:12px;color:#555;min-height:1.4em}
            .axis{font-size:11px;fill:#444}
            #tree details{margin-left:14px}#tree summary{cursor:pointer}
            #tree .leaf{margin-left:28px;font-family:monospace;font-size:12px;white-space:pre-wrap;word-break:break-all}
            #tree .k{color:#555}#tree .size{color:#888;font-size:12px}
            #tree .hit{background:#ffe680}.hidden{display:none}
            """;

    /** First in the page: errors of the page's script are kept in the DOM (the browser test reads them). */
    private static final String ERRORS_JS = """
            window.qevmErrors=[];
            window.addEventListener('error',function(e){window.qevmErrors.push(String(e.message));});
            (function(){var original=console.error;console.error=function(){
            window.qevmErrors.push(Array.prototype.join.call(arguments,' '));original.apply(console,arguments);};})();
            """;

    private static final String MAIN_JS = """
            (function(){
            'use strict';
            var COLOURS=['#f3e3c3','#c8c8c8','#1f6fb4','#f07c0e'];
            var KINDS=['never sent','zero','data','sent more than once'];
            var CELL=4,PER_ROW=128;
            function drawMap(canvas){
              var ctx=canvas.getContext('2d');
              var runs=canvas.dataset.runs?canvas.dataset.runs.split(',').map(Number):[];
              var cells=Number(canvas.dataset.cells);
              for(var i=0;i+2<runs.length;i+=3){
                ctx.fillStyle=COLOURS[runs[i+2]];
                for(var c=runs[i],end=Math.min(cells,runs[i]+runs[i+1]);c<end;){
                  var row=Math.floor(c/PER_ROW),col=c%PER_ROW,n=Math.min(end-c,PER_ROW-col);
                  ctx.fillRect(col*CELL,row*CELL,n*CELL,CELL);
                  c+=n;
                }
              }
              var where=document.getElementById('where-'+canvas.id.substring(4));
              canvas.addEventListener('mousemove',function(e){
                var r=canvas.getBoundingClientRect();
                var cell=Math.floor((e.clientY-r.top)/CELL)*PER_ROW+Math.floor((e.clientX-r.left)/CELL);
                if(cell<0||cell>=cells){return;}
                var per=Number(canvas.dataset.pagesPerCell),size=Number(canvas.dataset.pageSize);
                var kind='';
                for(var i=0;i+2<runs.length;i+=3){if(cell>=runs[i]&&cell<runs[i]+runs[i+1]){kind=KINDS[runs[i+2]];}}
                where.textContent='page '+(cell*per)+(per>1?' to '+(cell*per+per-1):'')+' (offset 0x'
                  +(cell*per*size).toString(16)+'): '+kind;
              });
              var box=canvas.getBoundingClientRect();
              canvas.dataset.rect=[Math.round(box.left+window.scrollX),Math.round(box.top+window.scrollY),
                Math.round(box.width),Math.round(box.height)].join(',');
            }
            Array.prototype.forEach.call(document.querySelectorAll('canvas.ram-map'),drawMap);

            var state=JSON.parse(document.getElementById('state').textContent);
            var sizes=JSON.parse(document.getElementById('sizes').textContent);
            var tree=document.getElementById('tree');
            var leaves=[],nodes=[];
            function node(parent,key,value,path){
              if(value!==null&&typeof value==='object'){
                var d=document.createElement('details');
                var s=document.createElement('summary');
                s.textContent=key;
                d.appendChild(s);
                d.dataset.path=path;
                Object.keys(value).forEach(function(k){
                  node(d,Array.isArray(value)?'['+k+']':k,value[k],path+'/'+k);
                });
                parent.appendChild(d);
                nodes.push(d);
                return d;
              }
              var leaf=document.createElement('div');
              leaf.className='leaf';
              var k=document.createElement('span');
              k.className='k';
              k.textContent=key+': ';
              leaf.appendChild(k);
              leaf.appendChild(document.createTextNode(String(value)));
              leaf.dataset.text=(path+' '+value).toLowerCase();
              parent.appendChild(leaf);
              leaves.push(leaf);
              return leaf;
            }
            Object.keys(state).sort(function(a,b){return (sizes[b]||0)-(sizes[a]||0);}).forEach(function(device){
              var d=node(tree,device,state[device],device);
              if(d.tagName==='DETAILS'){
                var size=document.createElement('span');
                size.className='size';
                size.textContent=' '+(sizes[device]||0)+' bytes';
                d.firstChild.appendChild(size);
              }
            });
            var search=document.getElementById('search'),matches=document.getElementById('matches');
            search.addEventListener('input',function(){
              var q=search.value.trim().toLowerCase();
              nodes.forEach(function(d){d.classList.remove('hidden');d.open=false;});
              var count=0;
              leaves.forEach(function(leaf){
                var hit=q!==''&&leaf.dataset.text.indexOf(q)>=0;
                leaf.classList.toggle('hit',hit);
                leaf.classList.toggle('hidden',q!==''&&!hit);
                if(hit){count++;for(var p=leaf.parentElement;p&&p!==tree;p=p.parentElement){if(p.tagName==='DETAILS'){p.open=true;}}}
              });
              if(q!==''){
                nodes.forEach(function(d){
                  var named=(d.dataset.path||'').toLowerCase().indexOf(q)>=0;
                  if(!named&&!d.querySelector('.hit')){d.classList.add('hidden');}
                });
              }
              matches.textContent=q===''?'':count+(count===1?' match':' matches');
            });
            // report.html#search=TEXT opens with that search done (a link to a field)
            if(location.hash.indexOf('#search=')===0){
              search.value=decodeURIComponent(location.hash.substring(8));
              search.dispatchEvent(new Event('input'));
            }
            document.body.dataset.errors=JSON.stringify(window.qevmErrors);
            window.addEventListener('load',function(){document.body.dataset.errors=JSON.stringify(window.qevmErrors);});
            })();
            """;
}
