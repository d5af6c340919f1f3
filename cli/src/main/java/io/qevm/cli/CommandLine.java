package io.qevm.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The arguments of a subcommand ({@code qevm read FILE --gpa 0x1000 --length 64}): long options
 * with or without a value ({@code --gpa X}, {@code --gpa=X}), shortened to any unambiguous prefix
 * as the main command's are, short aliases, and positional arguments; {@code --} ends options.
 * What the subcommand does with the values (numbers, ranges, combinations) it checks itself,
 * throwing {@link Options.UsageException} for bad usage.
 */
final class CommandLine {

    /** One option: {@code --name}, a one-letter alias or {@link #NO_LETTER}, and whether it takes a value. */
    record Option(String name, char letter, boolean takesValue) {

        static final char NO_LETTER = 0;

        static Option flag(String name) {
            return new Option(name, NO_LETTER, false);
        }

        static Option value(String name) {
            return new Option(name, NO_LETTER, true);
        }

        String display() {
            return letter == NO_LETTER ? name : "-" + letter + "/" + name;
        }
    }

    private final String command;
    private final Map<String, String> values;
    private final List<String> positionals;

    private CommandLine(String command, Map<String, String> values, List<String> positionals) {
        this.command = command;
        this.values = values;
        this.positionals = positionals;
    }

    /**
     * Parses {@code args} (the subcommand's name not included) against {@code options};
     * {@code --help} and {@code -h} are always known (see {@link #help()}).
     */
    static CommandLine parse(String command, List<Option> options, String... args) throws Options.UsageException {
        List<Option> known = new ArrayList<>(options);
        known.add(new Option("--help", 'h', false));
        Map<String, String> values = new HashMap<>();
        List<String> positionals = new ArrayList<>();
        boolean optionsEnded = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                positionals.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            Option option;
            String inline = null;
            if (arg.startsWith("--")) {
                int equals = arg.indexOf('=');
                String name = equals < 0 ? arg : arg.substring(0, equals);
                inline = equals < 0 ? null : arg.substring(equals + 1);
                option = longOption(command, known, arg, name);
            } else {
                option = shortOption(command, known, arg);
                if (arg.length() > 2) {
                    inline = arg.substring(2);
                }
            }
            String value;
            if (option.takesValue()) {
                if (inline != null) {
                    value = inline;
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new Options.UsageException(command + ": argument " + option.display() + ": expected one argument");
                }
            } else {
                if (inline != null) {
                    throw new Options.UsageException(command + ": argument " + option.display()
                            + ": ignored explicit argument '" + inline + "'");
                }
                value = "";
            }
            if (values.put(option.name(), value) != null && option.takesValue()) {
                throw new Options.UsageException(command + ": argument " + option.display() + ": given twice");
            }
        }
        return new CommandLine(command, values, positionals);
    }

    private static Option longOption(String command, List<Option> known, String arg, String name)
            throws Options.UsageException {
        List<Option> matches = new ArrayList<>();
        for (Option option : known) {
            if (option.name().equals(name)) {
                return option;
            }
            if (name.length() > 2 && option.name().startsWith(name)) {
                matches.add(option);
            }
        }
        if (matches.size() == 1) {
            return matches.getFirst();
        }
        if (matches.isEmpty()) {
            throw new Options.UsageException(command + ": unrecognized argument: " + arg);
        }
        throw new Options.UsageException(command + ": ambiguous option: " + arg + " could match "
                + String.join(", ", matches.stream().map(Option::name).toList()));
    }

    private static Option shortOption(String command, List<Option> known, String arg) throws Options.UsageException {
        char letter = arg.charAt(1);
        for (Option option : known) {
            if (option.letter() == letter) {
                return option;
            }
        }
        throw new Options.UsageException(command + ": unrecognized argument: " + arg);
    }

    boolean help() {
        return values.containsKey("--help");
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    /** The value of option {@code name}, or null when it was not given. */
    String value(String name) {
        return values.get(name);
    }

    List<String> positionals() {
        return positionals;
    }

    /** Exactly {@code names.length} positional arguments, else bad usage naming the missing or extra one. */
    List<String> positionals(String... names) throws Options.UsageException {
        if (positionals.size() < names.length) {
            throw new Options.UsageException(command + ": the following arguments are required: "
                    + String.join(", ", List.of(names).subList(positionals.size(), names.length)));
        }
        if (positionals.size() > names.length) {
            throw new Options.UsageException(command + ": unrecognized argument: " + positionals.get(names.length));
        }
        for (int i = 0; i < names.length; i++) {
            if (positionals.get(i).isEmpty()) {
                throw new Options.UsageException(command + ": argument " + names[i] + ": empty");
            }
        }
        return positionals;
    }

    /**
     * A number as users write addresses and sizes: decimal, {@code 0x} hex, or with a binary
     * suffix {@code K M G T} ({@code 4K}, {@code 0x10M} is not allowed: a suffix goes with decimal).
     */
    long number(String name, long min, long max) throws Options.UsageException {
        String text = values.get(name);
        long value;
        try {
            value = parseNumber(text);
        } catch (NumberFormatException e) {
            throw new Options.UsageException(command + ": argument " + name + ": expected a number (decimal, 0x hex, "
                    + "or with K, M, G, T), found '" + text + "'");
        }
        if (value < min || value > max) {
            throw new Options.UsageException(command + ": argument " + name + ": expected " + min + " to " + max
                    + ", found '" + text + "'");
        }
        return value;
    }

    static long parseNumber(String text) {
        String t = text.trim();
        if (t.startsWith("0x") || t.startsWith("0X")) {
            return Long.parseUnsignedLong(t.substring(2).replace("_", ""), 16);
        }
        int shift = 0;
        if (!t.isEmpty()) {
            switch (Character.toUpperCase(t.charAt(t.length() - 1))) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
        }
        long base = Long.parseLong(shift == 0 ? t : t.substring(0, t.length() - 1));
        if (base < 0 || (shift > 0 && base > Long.MAX_VALUE >> shift)) {
            throw new NumberFormatException(text);
        }
        return base << shift;
    }
}
