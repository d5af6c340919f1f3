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
               boolean help, boolean version, IncomingUri incoming, String save, long timeoutSeconds) {

    /** {@code --timeout}'s default: a minute without a byte from the source ends a live capture. */
    static final long DEFAULT_TIMEOUT_SECONDS = 60;

    /** No {@code --progress} or {@code --no-progress}: a progress line when stderr is a terminal. */
    static final int PROGRESS_AUTO = 0;
    static final int PROGRESS_ON = 1;
    static final int PROGRESS_OFF = 2;

    static final String HELP = """
            usage: qevm [-h] (-f FILE | --incoming URI) [-m] [-d {state,desc}] [-x]
                        [-o DIR] [--ram-only] [--page-size N] [--no-clobber]
                        [--snapshot ID|NAME] [--list-snapshots] [--save FILE]
                        [--timeout SECONDS] [--progress | --no-progress] [--debug]
                        [--version]

            Reads a QEMU migration stream (migrate "exec:cat > f", migrate file:f, virsh save,
            the VM state of a savevm snapshot in a qcow2 image) and prints it as QEMU's
            scripts/analyze-migration.py does. Told by content, never by name: a bare stream
            (bytes after its JSON description, as in a state volume, are ignored), a libvirt
            save image (raw, sparse, or compressed), a qcow2 image, each of the first two
            possibly compressed whole with gzip, bzip2, xz, zstd or lzop. With --incoming it
            is the destination of a live migration, and reads the VM as it arrives.

            options:
              -h, --help            show this help and exit
              -f, --file FILE       migration dump to read from (- for standard input)
              --incoming URI        act as the destination of a migration, as QEMU's
                                    -incoming does: listen on tcp:HOST:PORT (HOST empty or 0
                                    for every address, [IPv6] in brackets, PORT 0 for any)
                                    or unix:PATH, take one connection (migrate -d URI on the
                                    source), and print or extract what -f would of the same
                                    stream; answers the source's return path. Refuses
                                    postcopy-ram, multifd and x-colo, which need a real
                                    destination (the source's migration fails, its VM runs
                                    on)
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
              --no-clobber          with -x or --save: fail, leaving nothing, rather than
                                    replace a file that exists
              --snapshot ID|NAME    of a qcow2 image: the internal snapshot (savevm) whose
                                    VM state to read, by ID, else by name (default: the
                                    most recent one that holds VM state)
              --list-snapshots      list a qcow2 image's internal snapshots as qemu-img
                                    snapshot -l does, and exit
              --save FILE           with --incoming: also write the bytes received to FILE,
                                    as they arrive (FILE.partial until the capture ends;
                                    then FILE, which -f reads to the same output). A
                                    capture that fails on the stream keeps FILE.partial;
                                    one refused or interrupted leaves nothing
              --timeout SECONDS     with --incoming: give up when the source sends nothing
                                    (or reads no answer) for SECONDS (default 60; 0: wait
                                    for ever). The first connection is waited for always
              --progress            show progress on stderr even when it is not a terminal:
                                    a line a second after the first second, and a summary
              --no-progress         no progress line, even on a terminal (by default a run
                                    longer than a second shows one on a terminal)
              --debug               print a stack trace with errors, and what the stream
                                    was found in; with --incoming, the pages sent in each
                                    pass of a live migration
              --version             print the version and exit

            Beyond the script, subcommands (qevm NAME --help for each):
              qevm read FILE ...     bytes of guest memory, by address or by block
              qevm grep FILE ...     where a text or bytes lie in guest memory
              qevm stats FILE        what the stream holds, counted
              qevm diff A B          what differs between two dumps (exit 0 same, 1 not)
              qevm events FILE       every event, one JSON object a line
              qevm report FILE ...   one self-contained HTML page about the dump

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
            new Spec("--incoming", NONE, true, false),
            new Spec("--memory", 'm', false, true),
            new Spec("--dump", 'd', true, true),
            new Spec("--extract", 'x', false, true),
            new Spec("--output-dir", 'o', true, false),
            new Spec("--ram-only", NONE, false, false),
            new Spec("--page-size", NONE, true, false),
            new Spec("--no-clobber", NONE, false, false),
            new Spec("--snapshot", NONE, true, false),
            new Spec("--list-snapshots", NONE, false, false),
            new Spec("--save", NONE, true, false),
            new Spec("--timeout", NONE, true, false),
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
        String incoming;
        String save;
        String timeout;
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
                case "--incoming" -> incoming = value;
                case "--save" -> save = value;
                case "--timeout" -> timeout = value;
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
                    p.listSnapshots, p.progress, p.debug, p.help, p.version, null, p.save, DEFAULT_TIMEOUT_SECONDS);
        }
        IncomingUri incoming = null;
        if (p.incoming != null) {
            // argparse's words for a mutually exclusive group
            if (p.file != null) {
                throw new UsageException("argument --incoming: not allowed with argument -f/--file");
            }
            incoming = IncomingUri.parse(p.incoming);
            // what only a file has: its snapshots
            String other = p.snapshot != null ? "--snapshot" : p.listSnapshots ? "--list-snapshots" : null;
            if (other != null) {
                throw new UsageException("argument --incoming: not allowed with argument " + other);
            }
        } else if (p.file == null) {
            throw new UsageException("one of the arguments -f/--file --incoming is required");
        } else if (p.file.isEmpty()) {
            throw new UsageException("argument -f/--file: empty file name");
        }
        if (p.save != null && incoming == null) {
            throw new UsageException("argument --save: only with --incoming");
        }
        if (p.save != null && p.save.isEmpty()) {
            throw new UsageException("argument --save: empty file name");
        }
        if (p.timeout != null && incoming == null) {
            throw new UsageException("argument --timeout: only with --incoming");
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
        if (p.noClobber && !p.extract && p.save == null) {
            throw new UsageException("argument --no-clobber: only with -x or --save");
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
                p.noClobber, p.snapshot, p.listSnapshots, p.progress, p.debug, false, false, incoming, p.save,
                timeout(p.timeout));
    }

    /** What is read, for messages: the file as given, or the URI of --incoming. */
    String source() {
        return incoming != null ? incoming.uri() : file;
    }

    private static long timeout(String text) throws UsageException {
        if (text == null) {
            return DEFAULT_TIMEOUT_SECONDS;
        }
        try {
            long value = Long.parseLong(text);
            if (value >= 0 && value <= 1_000_000) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("argument --timeout: expected a number of seconds from 0 to 1000000, found '"
                + text + "'");
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
