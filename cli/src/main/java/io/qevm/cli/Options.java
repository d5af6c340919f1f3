package io.qevm.cli;

/**
 * The command line, parsed as Python's argparse parses analyze-migration.py's: short options
 * may be combined ({@code -mx}) or carry their value ({@code -fFILE}), long ones take
 * {@code --name VALUE} or {@code --name=VALUE}.
 */
record Options(String file, String dump, boolean memory, boolean extract, String outputDir, boolean ramOnly,
               long pageSize, boolean noClobber, boolean debug, boolean help, boolean version) {

    static final String HELP = """
            usage: qevm [-h] -f FILE [-m] [-d {state,desc}] [-x] [-o DIR] [--ram-only]
                        [--page-size N] [--no-clobber] [--debug] [--version]

            Reads a QEMU migration stream (migrate "exec:cat > f", migrate file:f, virsh save)
            and prints it as QEMU's scripts/analyze-migration.py does.

            options:
              -h, --help            show this help and exit
              -f, --file FILE       migration dump to read from
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
              --debug               print a stack trace with errors
              --version             print the version and exit

            Exit status: 0 success, 1 bad input or failed output, 2 bad usage.
            """;

    /** Bad usage: the CLI prints the message and exits 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static Options parse(String[] args) throws UsageException {
        String file = null;
        String dump = "state";
        String outputDir = null;
        String pageSize = null;
        boolean ramOnly = false;
        boolean memory = false;
        boolean extract = false;
        boolean noClobber = false;
        boolean debug = false;
        boolean help = false;
        boolean version = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.startsWith("--")) {
                int equals = arg.indexOf('=');
                String name = equals < 0 ? arg : arg.substring(0, equals);
                String inline = equals < 0 ? null : arg.substring(equals + 1);
                switch (name) {
                    case "--file", "--dump", "--output-dir", "--page-size" -> {
                        String value = inline;
                        if (value == null) {
                            if (i + 1 >= args.length) {
                                throw new UsageException("argument " + name + ": expected one argument");
                            }
                            value = args[++i];
                        }
                        switch (name) {
                            case "--file" -> file = value;
                            case "--dump" -> dump = value;
                            case "--page-size" -> pageSize = value;
                            default -> outputDir = value;
                        }
                    }
                    case "--memory" -> memory = noValue(name, inline);
                    case "--ram-only" -> ramOnly = noValue(name, inline);
                    case "--extract" -> extract = noValue(name, inline);
                    case "--no-clobber" -> noClobber = noValue(name, inline);
                    case "--debug" -> debug = noValue(name, inline);
                    case "--help" -> help = noValue(name, inline);
                    case "--version" -> version = noValue(name, inline);
                    default -> throw new UsageException("unrecognized argument: " + arg);
                }
            } else if (arg.startsWith("-") && arg.length() > 1) {
                for (int c = 1; c < arg.length(); c++) {
                    char option = arg.charAt(c);
                    switch (option) {
                        case 'm' -> memory = true;
                        case 'x' -> extract = true;
                        case 'h' -> help = true;
                        case 'f', 'd', 'o' -> {
                            String value;
                            if (c + 1 < arg.length()) {
                                value = arg.substring(c + 1);
                            } else if (i + 1 < args.length) {
                                value = args[++i];
                            } else {
                                throw new UsageException("argument -" + option + ": expected one argument");
                            }
                            switch (option) {
                                case 'f' -> file = value;
                                case 'd' -> dump = value;
                                default -> outputDir = value;
                            }
                            c = arg.length();
                        }
                        default -> throw new UsageException("unrecognized argument: " + arg);
                    }
                }
            } else {
                throw new UsageException("unrecognized argument: " + arg);
            }
        }
        if (help || version) {
            return new Options(file, dump, memory, extract, outputDir, ramOnly, -1, noClobber, debug, help, version);
        }
        if (file == null) {
            throw new UsageException("the following arguments are required: -f/--file");
        }
        if (file.isEmpty()) {
            throw new UsageException("argument -f/--file: empty file name");
        }
        if (!extract && !dump.equals("state") && !dump.equals("desc")) {
            throw new UsageException("argument -d/--dump: expected 'state' or 'desc', found '" + dump + "'");
        }
        if (outputDir != null && !extract) {
            throw new UsageException("argument -o/--output-dir: only with -x");
        }
        if (ramOnly && !extract) {
            throw new UsageException("argument --ram-only: only with -x");
        }
        if (noClobber && !extract) {
            throw new UsageException("argument --no-clobber: only with -x");
        }
        return new Options(file, dump, memory, extract, outputDir, ramOnly, pageSize(pageSize), noClobber, debug,
                false, false);
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

    private static boolean noValue(String name, String inline) throws UsageException {
        if (inline != null) {
            throw new UsageException("argument " + name + ": ignored explicit argument '" + inline + "'");
        }
        return true;
    }
}
