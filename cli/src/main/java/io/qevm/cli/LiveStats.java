package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.PassCounter;
import io.qevm.consume.PassCounter.Pass;
import java.io.PrintStream;
import java.util.List;

/**
 * How a live migration sent its RAM, for the progress line and, with {@code --debug}, a summary
 * that shows why a migration did (not) converge: the passes as {@link PassCounter} tells them.
 */
final class LiveStats implements MigrationConsumer {

    /** The summary shows this many passes at its start and at its end, and the others in one line. */
    static final int SHOWN_AT_EACH_END = 3;

    /** The counting itself, shared with {@code qevm stats} and the report. */
    private final PassCounter counter = new PassCounter();

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        counter.accept(event, reader);
    }

    /** Pages (of data and zero) sent so far. */
    long pages() {
        return counter.pages();
    }

    /** The pass being sent (1 for the first), 0 before the first page; -1 once the completion has begun. */
    int currentPass() {
        return counter.currentPass();
    }

    List<Pass> passes() {
        return counter.passes();
    }

    /** The completion (END record), or null when the stream had none. */
    Pass completion() {
        return counter.completion();
    }

    /** For the progress line: {@code 312456 pages, pass 3}. */
    String progressDetail() {
        int pass = currentPass();
        return counter.pages() + " pages" + (pass < 0 ? ", completing" : pass > 0 ? ", pass " + pass : "");
    }

    /**
     * The summary {@code --debug} prints: a line per pass and one for the completion, each with
     * its pages (zero pages among them) and its share of the stream.
     */
    void printSummary(PrintStream err, String source) {
        List<Pass> passes = counter.passes();
        Pass completion = counter.completion();
        if (passes.isEmpty() && completion == null) {
            return;
        }
        long passCount = counter.passCount();
        int perEntry = counter.passesPerEntry();
        err.println("qevm: " + source + ": RAM sent in " + passCount + (passCount == 1 ? " pass" : " passes")
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
                err.println("qevm:   passes " + ((long) i * perEntry + 1) + " to " + Math.min(passCount,
                        (long) last * perEntry) + ": " + min + " to " + max + " pages" + (perEntry == 1 ? " each, "
                        : " every " + perEntry + " passes, ")
                        + total + " in all, " + Progress.bytes(bytes) + " of stream");
                i = last - 1;
                continue;
            }
            Pass pass = passes.get(i);
            err.println("qevm:   " + StatsCommand.passLabel(i, perEntry, passCount) + ": " + describe(pass) + ", "
                    + pass.parts() + (pass.parts() == 1 ? " part" : " parts"));
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
