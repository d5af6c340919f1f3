package io.qevm.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code qevm NAME ARGS...}: what the reference script does not do. A subcommand only when the
 * first argument is its name, so that {@code qevm -f FILE ...} with the script's flags stays
 * exactly as it is. Adding one: a class with a {@link Subcommand} and a line in {@link #ALL}.
 */
final class Subcommands {

    /** One subcommand. */
    interface Subcommand {

        /** The text of {@code qevm NAME --help}: usage line, what it does, options, its output. */
        String help();

        /**
         * Runs it on {@code args} (its name not included), relative paths against {@code workDir};
         * returns the exit code. Bad usage: {@link Options.UsageException} (exit 2). Failures
         * other than usage are thrown, and reported as the main command reports them.
         */
        int run(CommandLine args, Path workDir, PrintStream out, PrintStream err) throws IOException,
                Options.UsageException;

        /** The options it takes (besides {@code -h/--help}). */
        java.util.List<CommandLine.Option> options();
    }

    /** Every subcommand, by name, in the order {@code qevm --help} lists them. */
    static final Map<String, Subcommand> ALL = new LinkedHashMap<>();

    static {
        ALL.put("read", new ReadCommand());
        ALL.put("grep", new GrepCommand());
        ALL.put("stats", new StatsCommand());
        ALL.put("diff", new DiffCommand());
        ALL.put("events", new EventsCommand());
        ALL.put("report", new ReportCommand());
    }

    private Subcommands() {
    }

    /** Whether {@code args} name a subcommand. */
    static boolean isSubcommand(String... args) {
        return args.length > 0 && ALL.containsKey(args[0]);
    }

    /** Runs {@code qevm NAME ARGS...}. */
    static int run(Path workDir, PrintStream out, PrintStream err, String... args) {
        String name = args[0];
        Subcommand command = ALL.get(name);
        CommandLine line;
        try {
            line = CommandLine.parse(name, command.options(), Arrays.copyOfRange(args, 1, args.length));
            if (line.help()) {
                out.print(command.help());
                return Main.OK;
            }
        } catch (Options.UsageException e) {
            err.println("qevm " + name + ": error: " + e.getMessage().replaceFirst("^" + name + ": ", "")
                    + " (see qevm " + name + " --help)");
            return Main.BAD_USAGE;
        }
        boolean debug = line.has("--debug");
        String source = line.positionals().isEmpty() ? name : line.positionals().getFirst();
        try {
            int code = command.run(line, workDir, out, err);
            out.flush();
            if (out.checkError()) {
                err.println("qevm: <stdout>: cannot write the output");
                return Main.BAD_INPUT;
            }
            return code;
        } catch (Options.UsageException e) {
            err.println("qevm " + name + ": error: " + e.getMessage().replaceFirst("^" + name + ": ", "")
                    + " (see qevm " + name + " --help)");
            return Main.BAD_USAGE;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return Main.failure(source, debug, "", err, e);
        }
    }
}
