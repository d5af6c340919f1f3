package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.RecordType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How a live migration sent its RAM: pages in each pass and in the completion (the progress line
 * and summary of a live capture, {@link DumpStats}, {@code qevm stats} and the report's chart).
 *
 * <p>A pass is QEMU's walk over the dirty pages (migration/ram.c {@code find_dirty_block}):
 * blocks in the order of the RAM section's block list, pages in address order within each, from
 * where the last walk stopped round to it again. The stream does not mark passes (nor the dirty
 * bitmap syncs between them); a page sent at or before the place of the one sent just before it
 * starts a new one. The first pass sends every page; each later one the pages the guest dirtied
 * meanwhile: a migration converges when they shrink. The completion is the RAM section's END
 * record, sent with the VM stopped. Per page: a string compared by identity, two numbers.
 */
public final class PassCounter implements MigrationConsumer {

    /**
     * One pass: its pages (zero pages among them), the stream bytes from its first page to the
     * next pass, the RAM parts (PART records) whose first page is in it.
     *
     * @param pages     pages sent in it (data and zero)
     * @param zeroPages zero pages among them
     * @param bytes     stream bytes from its first page to the next pass
     * @param parts     RAM parts (PART records) whose first page is in it
     */
    public record Pass(long pages, long zeroPages, long bytes, int parts) {
    }

    /**
     * Passes kept one by one at most: past this many, neighbours are merged in pairs (a stream
     * whose every page goes backwards would otherwise cost an object per page).
     */
    static final int MAX_KEPT = 1 << 16;

    private final Map<String, Integer> blockOrder = new HashMap<>();
    /** The passes, an entry per {@link #perEntry} of them. */
    private List<Pass> passes = new ArrayList<>();
    private int perEntry = 1;
    /** The passes of the entry being filled, and how many. */
    private Pass pending;
    private int pendingCount;
    private long passCount;
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

    /** A counter before the stream's first event. */
    public PassCounter() {
    }

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
            add(new Pass(passPages, passZeroPages, offset - passStart, passParts));
        }
        passPages = 0;
        passZeroPages = 0;
        passParts = 0;
        passStart = offset;
        lastOffset = -1;
    }

    private void add(Pass pass) {
        passCount++;
        pending = pending == null ? pass : merge(pending, pass);
        if (++pendingCount < perEntry) {
            return;
        }
        passes.add(pending);
        pending = null;
        pendingCount = 0;
        if (passes.size() == MAX_KEPT) {
            List<Pass> merged = new ArrayList<>(MAX_KEPT);
            for (int i = 0; i < passes.size(); i += 2) {
                merged.add(merge(passes.get(i), passes.get(i + 1)));
            }
            passes = merged;
            perEntry *= 2;
        }
    }

    private static Pass merge(Pass a, Pass b) {
        return new Pass(a.pages() + b.pages(), a.zeroPages() + b.zeroPages(), a.bytes() + b.bytes(),
                a.parts() + b.parts());
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

    /** {@return pages (of data and zero) sent so far} */
    public long pages() {
        return pages;
    }

    /** {@return the pass being sent (1 for the first), 0 before the first page; -1 once the completion has begun} */
    public int currentPass() {
        if (completing) {
            return -1;
        }
        return (int) Math.min(Integer.MAX_VALUE, passCount + (passPages > 0 ? 1 : 0));
    }

    /** {@return the passes ended so far} */
    public long passCount() {
        return passCount;
    }

    /**
     * {@return how many consecutive passes each entry of {@link #passes()} sums: 1 up to 65536 passes, then
     * 2, 4... (the last entry may sum fewer)}
     */
    public int passesPerEntry() {
        return perEntry;
    }

    /** {@return the passes ended so far, in order: one entry per pass, or per {@link #passesPerEntry()} passes} */
    public List<Pass> passes() {
        List<Pass> all = new ArrayList<>(passes);
        if (pending != null) {
            all.add(pending);
        }
        return List.copyOf(all);
    }

    /** {@return the completion (END record), or null when the stream had none (or not yet)} */
    public Pass completion() {
        return completion;
    }
}
