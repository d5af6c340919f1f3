package io.qevm.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line, parsed as Python's argparse parses analyze-migration.py's: short options
 * may be combined ({@code -mx}) or carry their value ({@code -fFILE}), long ones take
 * {@code --name VALUE} or {@code --name=VALUE}, and may be shortened to any unambiguous prefix
 * ({@code --fi} is {@code --file}; argparse's {@code allow_abbrev}).
 *
 * @param progress {@link #PROGRESS_AUTO} (a terminal decides), {@link #PROGRESS_ON} or {@link #PROGRESS_OFF}
 */
record Options(String file, String dump, boolean memory, boolean extract, String outputDir, boolean ramOnly,
               long pageSize, boolean noClobber, String snapshot, boolean listSnapshots, int progress, boolean debug,
               boolean help, boolean version) {

    /** No {@code --progress} or {@code --no-progress}: a progress line when stderr is a terminal. */
    static final int PROGRESS_AUTO = 0;
    static final int PROGRESS_ON = 1;
    static final int PROGRESS_OFF = 2;

    static final String HELP = """
            usage: qevm [-h] -f FILE [-m] [-d {state,desc}] [-x] [-o DIR] [--ram-only]
                        [--page-size N] [--no-clobber] [--snapshot ID|NAME]
                        [--list-snapshots] [--progress | --no-progress] [--debug]
                        [--version]

            Reads a QEMU migration stream (migrate "exec:cat > f", migrate file:f, virsh save,
            the VM state of a savevm snapshot in a qcow2 image) and prints it as QEMU's
            scripts/analyze-migration.py does. Told by content, never by name: a bare stream
            (bytes after its JSON description, as in a state volume, are ignored), a libvirt
            save image (raw, sparse, or compressed), a qcow2 image, each of the first two
            possibly compressed whole with gzip, bzip2, xz, zstd or lzop.

            options:
              -h, --help            show this help and exit
              -f, --file FILE       migration dump to read from (- for standard input)
              -m, --memory          dump RAM contents as well (with -d state)
              -d, --dump {state,desc}
                                    what to dump: the device state (default) or the JSON
                                    VM description
              -x, --extract         extract desc.json, state.json and one file per RAM block
              -o, --output-dir DIR  where -x writes (default: the working directory)
              --ram-only            with -x: extract RAM even when the dump has no JSON
                                    description (device state is then not decoded)
              --page-size N         the target page size, when the dump does not say it
                                    (no description, no target-page-bits) and qevm cannot
                                    tell it from the RAM records
              --no-clobber          with -x: fail, leaving nothing, rather than replace a
                                    file that exists
              --snapshot ID|NAME    of a qcow2 image: the internal snapshot (savevm) whose
                                    VM state to read, by ID, else by name (default: the
                                    most recent one that holds VM state)
              --list-snapshots      list a qcow2 image's internal snapshots as qemu-img
                                    snapshot -l does, and exit
              --progress            show progress on stderr even when it is not a terminal:
                                    a line a second after the first second, and a summary
              --no-progress         no progress line, even on a terminal (by default a run
                                    longer than a second shows one on a terminal)
              --debug               print a stack trace with errors, and what the stream
                                    was found in
              --version             print the version and exit

            Long options may be shortened to any unambiguous prefix (--fi for --file).
            Exit status: 0 success, 1 bad input or failed output, 2 bad usage,
            130/143 interrupted (SIGINT/SIGTERM) with nothing left behind,
            141 standard output closed early (as when killed by SIGPIPE).
            """;

    /** No short form. */
    private static final char NONE = 0;

    /**
     * An option: its long name, its one-letter form (or {@link #NONE}), whether it takes a value,
     * and whether analyze-migration.py has it too.
     */
    record Spec(String name, char letter, boolean takesValue, boolean reference) {

        /** As argparse names it in errors: {@code -f/--file}, {@code --ram-only}. */
        String display() {
            return letter == NONE ? name : "-" + letter + "/" + name;
        }
    }

    /**
     * Every option, in --help's order (which is also the order an ambiguous prefix lists its
     * matches in, as argparse lists them in the order they were added). Adding an option: a line
     * here and a case in {@link Parsed#set}.
     */
    static final List<Spec> OPTIONS = List.of(
            new Spec("--help", 'h', false, true),
            new Spec("--file", 'f', true, true),
            new Spec("--memory", 'm', false, true),
            new Spec("--dump", 'd', true, true),
            new Spec("--extract", 'x', false, true),
            new Spec("--output-dir", 'o', true, false),
            new Spec("--ram-only", NONE, false, false),
            new Spec("--page-size", NONE, true, false),
            new Spec("--no-clobber", NONE, false, false),
            new Spec("--snapshot", NONE, true, false),
            new Spec("--list-snapshots", NONE, false, false),
            new Spec("--progress", NONE, false, false),
            new Spec("--no-progress", NONE, false, false),
            new Spec("--debug", NONE, false, false),
            new Spec("--version", NONE, false, false));

    /** Bad usage: the CLI prints the message and exits 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** The values as the arguments set them, one by one. */
    private static final class Parsed {
        String file;
        String dump = "state";
        boolean dumpGiven;
        String snapshot;
        boolean listSnapshots;
        String outputDir;
        String pageSize;
        boolean ramOnly;
        boolean memory;
        boolean extract;
        boolean noClobber;
        int progress = PROGRESS_AUTO;
        boolean debug;
        boolean help;
        boolean version;

        /** Sets {@code option}: {@code value} is null for an option that takes none. */
        void set(Spec option, String value) {
            switch (option.name()) {
                case "--help" -> help = true;
                case "--file" -> file = value;
                case "--memory" -> memory = true;
                case "--dump" -> {
                    dump = value;
                    dumpGiven = true;
                }
                case "--extract" -> extract = true;
                case "--output-dir" -> outputDir = value;
                case "--ram-only" -> ramOnly = true;
                case "--page-size" -> pageSize = value;
                case "--no-clobber" -> noClobber = true;
                case "--snapshot" -> snapshot = value;
                case "--list-snapshots" -> listSnapshots = true;
                case "--progress" -> progress = PROGRESS_ON; // the last of the two wins
                case "--no-progress" -> progress = PROGRESS_OFF;
                case "--debug" -> debug = true;
                case "--version" -> version = true;
                default -> throw new IllegalStateException("option " + option.name() + " is in OPTIONS but not here");
            }
        }
    }

    static Options parse(String[] args) throws UsageException {
        Parsed p = new Parsed();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.startsWith("--")) {
                int equals = arg.indexOf('=');
                String name = equals < 0 ? arg : arg.substring(0, equals);
                String inline = equals < 0 ? null : arg.substring(equals + 1);
                Spec option = longOption(arg, name);
                if (option.takesValue()) {
                    if (inline == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException("argument " + option.display() + ": expected one argument");
                        }
                        inline = args[++i];
                    }
                    p.set(option, inline);
                } else if (inline != null) {
                    throw new UsageException("argument " + option.display() + ": ignored explicit argument '"
                            + inline + "'");
                } else {
                    p.set(option, null);
                }
            } else if (arg.startsWith("-") && arg.length() > 1) {
                for (int c = 1; c < arg.length(); c++) {
                    Spec option = shortOption(arg.charAt(c), arg);
                    if (!option.takesValue()) {
                        p.set(option, null);
                        continue;
                    }
                    String value;
                    if (c + 1 < arg.length()) {
                        value = arg.substring(c + 1);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new UsageException("argument " + option.display() + ": expected one argument");
                    }
                    p.set(option, value);
                    break;
                }
            } else {
                throw new UsageException("unrecognized argument: " + arg);
            }
        }
        if (p.help || p.version) {
            return new Options(p.file, p.dump, p.memory, p.extract, p.outputDir, p.ramOnly, -1, p.noClobber, p.snapshot,
                    p.listSnapshots, p.progress, p.debug, p.help, p.version);
        }
        if (p.file == null) {
            throw new UsageException("the following arguments are required: -f/--file");
        }
        if (p.file.isEmpty()) {
            throw new UsageException("argument -f/--file: empty file name");
        }
        if (!p.extract && !p.dump.equals("state") && !p.dump.equals("desc")) {
            throw new UsageException("argument -d/--dump: expected 'state' or 'desc', found '" + p.dump + "'");
        }
        if (p.outputDir != null && !p.extract) {
            throw new UsageException("argument -o/--output-dir: only with -x");
        }
        if (p.ramOnly && !p.extract) {
            throw new UsageException("argument --ram-only: only with -x");
        }
        if (p.noClobber && !p.extract) {
            throw new UsageException("argument --no-clobber: only with -x");
        }
        if (p.snapshot != null && p.snapshot.isEmpty()) {
            throw new UsageException("argument --snapshot: empty snapshot ID or name");
        }
        if (p.listSnapshots) {
            // a listing reads only the snapshot table: options about reading a stream make no sense
            String other = p.extract ? "-x" : p.memory ? "-m" : p.dumpGiven ? "-d" : p.snapshot != null ? "--snapshot"
                    : p.pageSize != null ? "--page-size" : null;
            if (other != null) {
                throw new UsageException("argument --list-snapshots: not allowed with " + other);
            }
        }
        return new Options(p.file, p.dump, p.memory, p.extract, p.outputDir, p.ramOnly, pageSize(p.pageSize),
                p.noClobber, p.snapshot, p.listSnapshots, p.progress, p.debug, false, false);
    }

    /**
     * The option {@code name} (from {@code arg}, which may add {@code =VALUE}) names: itself, or
     * the one option it is a prefix of, as argparse resolves it. A prefix of one of
     * analyze-migration.py's own options means that option, as it does there, even where one of
     * ours starts the same way ({@code --d} is {@code --dump}, not {@code --debug}): scripts
     * written for it run unchanged.
     */
    static Spec longOption(String arg, String name) throws UsageException {
        List<Spec> matches = new ArrayList<>();
        if (name.length() > 2) {
            for (Spec option : OPTIONS) {
                if (option.name().equals(name)) {
                    return option;
                }
                if (option.name().startsWith(name)) {
                    matches.add(option);
                }
            }
        }
        if (matches.size() > 1) {
            List<Spec> reference = matches.stream().filter(Spec::reference).toList();
            if (reference.size() == 1) {
                return reference.getFirst();
            }
            throw new UsageException("ambiguous option: " + arg + " could match "
                    + String.join(", ", matches.stream().map(Spec::name).toList()));
        }
        if (matches.isEmpty()) {
            throw new UsageException("unrecognized argument: " + arg);
        }
        return matches.getFirst();
    }

    private static Spec shortOption(char letter, String arg) throws UsageException {
        for (Spec option : OPTIONS) {
            if (option.letter() == letter && letter != NONE) {
                return option;
            }
        }
        throw new UsageException("unrecognized argument: " + arg);
    }

    private static long pageSize(String text) throws UsageException {
        if (text == null) {
            return -1;
        }
        try {
            long value = Long.decode(text);
            if (Long.bitCount(value) == 1 && value >= 512 && value <= 1 << 20) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("argument --page-size: expected a power of two from 512 to 1048576, found '"
                + text + "'");
    }
}
