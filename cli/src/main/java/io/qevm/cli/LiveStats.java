package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.RecordType;
import io.qevm.consume.MigrationConsumer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How a live migration sent its RAM: pages in each pass and in the completion, for the progress
 * line and, with {@code --debug}, a summary that shows why a migration did (not) converge.
 *
 * <p>A pass is QEMU's walk over the dirty pages (migration/ram.c {@code find_dirty_block}):
 * blocks in the order of the RAM section's block list, pages in address order within each, from
 * where the last walk stopped round to it again. The stream does not mark passes (nor the dirty
 * bitmap syncs between them); a page sent at or before the place of the one sent just before it
 * starts a new one. The first pass sends every page; each later one the pages the guest dirtied
 * meanwhile: a migration converges when they shrink. The completion is the RAM section's END
 * record, sent with the VM stopped. Per page: a string compared by identity, two numbers.
 */
final class LiveStats implements MigrationConsumer {

    /**
     * One pass: its pages (zero pages among them), the stream bytes from its first page to the
     * next pass, the RAM parts (PART records) whose first page is in it.
     */
    record Pass(long pages, long zeroPages, long bytes, int parts) {
    }

    /** The summary shows this many passes at its start and at its end, and the others in one line. */
    static final int SHOWN_AT_EACH_END = 3;

    private final Map<String, Integer> blockOrder = new HashMap<>();
    private final List<Pass> passes = new ArrayList<>();
    private String lastBlock;
    private int lastBlockIndex = -1;
    private long lastOffset = -1;
    private long pages;
    private long passPages;
    private long passZeroPages;
    private long passStart = -1;
    private int passParts;
    private boolean partPending;
    private boolean completing;
    private Pass completion;
    private long completionPages;
    private long completionZeroPages;
    private long completionStart = -1;

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        switch (event) {
            case RAM_PAGE -> page(reader, false);
            case ZERO_PAGE -> page(reader, true);
            case RAM_BLOCK -> blockOrder.putIfAbsent(reader.blockName(), blockOrder.size());
            case SECTION_START -> section(reader);
            case EOF -> end(reader.eventOffset());
            default -> {
            }
        }
    }

    private void section(MigrationReader reader) {
        if (!reader.sectionName().equals("ram")) {
            if (completing && completion == null) {
                end(reader.eventOffset()); // the device state follows the END record
            }
            return;
        }
        if (reader.recordType() == RecordType.END) {
            closePass(reader.eventOffset());
            completing = true;
            completionStart = reader.eventOffset();
        } else if (reader.recordType() == RecordType.PART) {
            partPending = true; // counted in the pass its first page is in
        }
    }

    private void page(MigrationReader reader, boolean zero) {
        pages++;
        if (completing) {
            completionPages++;
            if (zero) {
                completionZeroPages++;
            }
            return;
        }
        String block = reader.blockName();
        if (block != lastBlock) {
            lastBlock = block;
            Integer index = blockOrder.get(block);
            if (index == null) {
                index = blockOrder.size();
                blockOrder.put(block, index);
            }
            if (index < lastBlockIndex) {
                newPass(reader.eventOffset());
            }
            lastBlockIndex = index;
            lastOffset = -1;
        }
        long offset = reader.pageOffset();
        if (offset <= lastOffset || passStart < 0) {
            newPass(reader.eventOffset());
        }
        lastOffset = offset;
        if (partPending) {
            partPending = false;
            passParts++;
        }
        passPages++;
        if (zero) {
            passZeroPages++;
        }
    }

    private void newPass(long offset) {
        if (passStart >= 0 && passPages > 0) {
            closePass(offset);
        }
        passStart = offset;
        lastOffset = -1;
    }

    private void closePass(long offset) {
        if (passStart >= 0 && passPages > 0) {
            passes.add(new Pass(passPages, passZeroPages, offset - passStart, passParts));
        }
        passPages = 0;
        passZeroPages = 0;
        passParts = 0;
        passStart = offset;
        lastOffset = -1;
    }

    private void end(long offset) {
        if (completing) {
            if (completion == null) {
                completion = new Pass(completionPages, completionZeroPages, offset - completionStart, 1);
            }
        } else {
            closePass(offset);
        }
    }

    /** Pages (of data and zero) sent so far. */
    long pages() {
        return pages;
    }

    /** The pass being sent (1 for the first), 0 before the first page; -1 once the completion has begun. */
    int currentPass() {
        if (completing) {
            return -1;
        }
        return passes.size() + (passPages > 0 ? 1 : 0);
    }

    List<Pass> passes() {
        return List.copyOf(passes);
    }

    /** The completion (END record), or null when the stream had none. */
    Pass completion() {
        return completion;
    }

    /** For the progress line: {@code 312456 pages, pass 3}. */
    String progressDetail() {
        int pass = currentPass();
        return pages + " pages" + (pass < 0 ? ", completing" : pass > 0 ? ", pass " + pass : "");
    }

    /**
     * The summary {@code --debug} prints: a line per pass and one for the completion, each with
     * its pages (zero pages among them) and its share of the stream.
     */
    void printSummary(PrintStream err, String source) {
        if (passes.isEmpty() && completion == null) {
            return;
        }
        err.println("qevm: " + source + ": RAM sent in " + passes.size() + (passes.size() == 1 ? " pass" : " passes")
                + (completion != null ? " and the completion (VM stopped)" : "") + ":");
        int count = passes.size();
        for (int i = 0; i < count; i++) {
            if (count > SHOWN_AT_EACH_END * 2 + 1 && i == SHOWN_AT_EACH_END) {
                // the passes between, in one line: a migration that does not converge sends as
                // many pages in each; one that does, fewer and fewer
                int last = count - SHOWN_AT_EACH_END;
                List<Pass> between = passes.subList(i, last);
                long min = between.stream().mapToLong(Pass::pages).min().orElse(0);
                long max = between.stream().mapToLong(Pass::pages).max().orElse(0);
                long total = between.stream().mapToLong(Pass::pages).sum();
                long bytes = between.stream().mapToLong(Pass::bytes).sum();
                err.println("qevm:   passes " + (i + 1) + " to " + last + ": " + min + " to " + max + " pages each, "
                        + total + " in all, " + Progress.bytes(bytes) + " of stream");
                i = last - 1;
                continue;
            }
            Pass pass = passes.get(i);
            err.println("qevm:   pass " + (i + 1) + ": " + describe(pass) + ", " + pass.parts()
                    + (pass.parts() == 1 ? " part" : " parts"));
        }
        if (completion != null) {
            err.println("qevm:   completion: " + describe(completion));
        }
    }

    private static String describe(Pass pass) {
        return pass.pages() + (pass.pages() == 1 ? " page" : " pages") + " (" + pass.zeroPages() + " zero), "
                + Progress.bytes(pass.bytes()) + " of stream";
    }
}
