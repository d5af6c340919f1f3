package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Options}: the command line as argparse parses analyze-migration.py's, long options
 * shortened to any unambiguous prefix included, and our own options.
 */
final class OptionsTest {

    @TempDir
    Path scratch;

    private static Options parse(String... args) throws Options.UsageException {
        return Options.parse(args);
    }

    private static String usageError(String... args) {
        return assertThrows(Options.UsageException.class, () -> Options.parse(args)).getMessage();
    }

    // ------------------------------------------------------------------ prefixes

    @Test
    void prefixesOfLongOptions() throws Options.UsageException {
        Options o = parse("--fi", "vm.mig", "--mem", "--du", "desc");
        assertEquals("vm.mig", o.file());
        assertTrue(o.memory());
        assertEquals("desc", o.dump());
        assertEquals("vm.mig", parse("--f", "vm.mig").file());
        assertEquals("vm.mig", parse("--fi=vm.mig").file(), "with =VALUE");
        assertEquals("a=b", parse("--file=a=b").file(), "the value is what follows the first =");
        Options x = parse("-f", "vm.mig", "--ext", "--out=dir", "--ram", "--pa", "1024", "--de");
        assertTrue(x.extract());
        assertEquals("dir", x.outputDir());
        assertTrue(x.ramOnly());
        assertEquals(1024, x.pageSize());
        assertTrue(x.debug());
        assertEquals(4096, parse("-f", "vm.mig", "--page=4096").pageSize());
        assertTrue(parse("--h").help());
        assertTrue(parse("--ver").version());
        assertEquals(Options.PROGRESS_ON, parse("-f", "f", "--pr").progress());
        assertEquals(Options.PROGRESS_OFF, parse("-f", "f", "--no-p").progress());
    }

    @Test
    void theWholeNameIsAlwaysThatOption() throws Options.UsageException {
        for (Options.Spec option : Options.OPTIONS) {
            assertEquals(option, Options.longOption(option.name(), option.name()));
        }
    }

    /** argparse's message, and our exit 2 (Main): {@code ambiguous option: --p could match ...}. */
    @Test
    void anAmbiguousPrefixIsBadUsage() {
        assertEquals("ambiguous option: --p could match --page-size, --progress", usageError("-f", "f", "--p"));
        assertEquals("ambiguous option: --p=4096 could match --page-size, --progress",
                usageError("-f", "f", "--p=4096"), "argparse names the argument as given, value and all");
    }

    /**
     * A prefix of one of analyze-migration.py's own options means that option, as it does there:
     * {@code --d desc} is {@code --dump desc} although {@code --debug} starts the same way.
     */
    @Test
    void prefixesTheReferenceAcceptsMeanWhatTheyMeanThere() throws Options.UsageException {
        assertEquals("desc", parse("-f", "f", "--d", "desc").dump());
        assertEquals("desc", parse("-f", "f", "--d=desc").dump());
        assertTrue(parse("-f", "f", "--de").debug(), "--de is ours alone");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--bogus|unrecognized argument: --bogus",
        "--|unrecognized argument: --",
        "---f|unrecognized argument: ---f",
        "--filex|unrecognized argument: --filex",
        "--mem=yes|argument -m/--memory: ignored explicit argument 'yes'",
        "--ram=1|argument --ram-only: ignored explicit argument '1'",
        "--fi|argument -f/--file: expected one argument",
        "--pag|argument --page-size: expected one argument",
        "-q|unrecognized argument: -q",
    })
    void badUsageMessages(String arg, String message) {
        List<String> args = new ArrayList<>(List.of("-f", "vm.mig"));
        args.add(arg);
        assertEquals(message, usageError(args.toArray(String[]::new)));
    }

    @Test
    void shortOptionsAsBefore() throws Options.UsageException {
        Options o = parse("-mfvm.mig", "-ddesc");
        assertTrue(o.memory());
        assertEquals("vm.mig", o.file());
        assertEquals("desc", o.dump());
        Options x = parse("-xo", "out", "-f", "-");
        assertTrue(x.extract());
        assertEquals("out", x.outputDir());
        assertEquals("-", x.file());
        assertEquals("argument -d/--dump: expected one argument", usageError("-f", "f", "-d"));
    }

    // ------------------------------------------------------------------ progress

    @Test
    void progressFlags() throws Options.UsageException {
        assertEquals(Options.PROGRESS_AUTO, parse("-f", "f").progress());
        assertEquals(Options.PROGRESS_ON, parse("-f", "f", "--progress").progress());
        assertEquals(Options.PROGRESS_OFF, parse("-f", "f", "--no-progress").progress());
        assertEquals(Options.PROGRESS_ON, parse("-f", "f", "--no-progress", "--progress").progress(), "the last wins");
        assertEquals(Options.PROGRESS_OFF, parse("-f", "f", "--progress", "--no-progress").progress());
        assertEquals("argument --progress: ignored explicit argument 'yes'", usageError("-f", "f", "--progress=yes"));
    }

    /** Every option of the table is parsed (none falls through to the parser's default) and in --help. */
    @Test
    void everyOptionIsParsedAndDocumented() throws Options.UsageException {
        for (Options.Spec option : Options.OPTIONS) {
            // --list-snapshots goes with no mode (it lists and exits); every other option with -x;
            // --save and --timeout with --incoming, which stands for -f
            boolean live = List.of("--incoming", "--save", "--timeout").contains(option.name());
            List<String> args = new ArrayList<>(live ? List.of() : List.of("-f", "vm.mig"));
            if (live && !option.name().equals("--incoming")) {
                args.addAll(List.of("--incoming", "tcp::4444"));
            }
            if (!option.name().equals("--list-snapshots")) {
                args.add("-x");
            }
            args.add(option.name());
            if (option.takesValue()) {
                args.add(switch (option.name()) {
                    case "--page-size" -> "4096";
                    case "--incoming" -> "unix:qevm.sock";
                    case "--timeout" -> "5";
                    default -> "state";
                });
            }
            parse(args.toArray(String[]::new));
            assertTrue(Options.HELP.contains("  " + (option.letter() != 0 ? "-" + option.letter() + ", " : "")
                    + option.name()), option.name() + " in --help");
        }
    }

    // ------------------------------------------------------------------ against argparse itself

    /**
     * Python's argparse, given our table, resolves every prefix of every option (alone and with
     * {@code =VALUE}) as we do, with the same message where it is ambiguous; except where we
     * deliberately follow analyze-migration.py's own, smaller table, and there argparse given
     * that table resolves it as we do. Skipped where there is no python3.
     */
    @Test
    void everyPrefixAsArgparseResolvesIt() throws Exception {
        List<String> cases = new ArrayList<>();
        for (Options.Spec option : Options.OPTIONS) {
            for (int end = 3; end <= option.name().length(); end++) {
                String prefix = option.name().substring(0, end);
                if (!cases.contains(prefix)) {
                    cases.add(prefix);
                    cases.add(prefix + "=1");
                }
            }
        }
        Map<String, String> ours = new LinkedHashMap<>();
        for (String arg : cases) {
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            try {
                ours.put(arg, Options.longOption(arg, name).name());
            } catch (Options.UsageException e) {
                ours.put(arg, "error: " + e.getMessage());
            }
        }
        Map<String, String> argparse = argparse(Options.OPTIONS, cases);
        Map<String, String> reference = argparse(Options.OPTIONS.stream().filter(Options.Spec::reference).toList(),
                cases);
        for (String arg : cases) {
            String python = argparse.get(arg);
            if (python.startsWith("error: ambiguous") && !ours.get(arg).startsWith("error")) {
                assertEquals(reference.get(arg), ours.get(arg), arg + ": as analyze-migration.py's options resolve it");
            } else {
                assertEquals(python, ours.get(arg), arg);
            }
        }
        assertEquals("--dump", reference.get("--d"), "the reference's own argparse");
    }

    /** What argparse makes of each of {@code cases} given {@code options}: the option's name, or "error: ...". */
    private Map<String, String> argparse(List<Options.Spec> options, List<String> cases) throws IOException,
            InterruptedException {
        StringBuilder script = new StringBuilder("""
                import argparse, sys
                class Parser(argparse.ArgumentParser):
                    def error(self, message):
                        raise ValueError(message)
                p = Parser(prog="qevm", add_help=False)
                """);
        for (Options.Spec option : options) {
            script.append("p.add_argument(").append(option.letter() != 0 ? "'-" + option.letter() + "', " : "")
                    .append("'").append(option.name()).append("', dest='").append(option.name()).append("', ")
                    .append("nargs='?', const='X')\n"); // which option an argument names, value or not
        }
        script.append("""
                for arg in sys.argv[1:]:
                    try:
                        ns = vars(p.parse_args([arg]))
                        print([k for k, v in ns.items() if v is not None][0] if any(v is not None for v in ns.values()) else 'error: nothing')
                    except ValueError as e:
                        msg = str(e)
                        print('error: ' + ('unrecognized argument: ' + arg if msg.startswith('unrecognized') else msg))
                """);
        Path file = Files.writeString(scratch.resolve("argparse_check.py"), script);
        List<String> command = new ArrayList<>(List.of("python3", file.toString()));
        command.addAll(cases);
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "no python3: " + e.getMessage());
            throw e;
        }
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "python3 ran too long");
        assertEquals(0, process.exitValue(), output);
        List<String> lines = output.lines().toList();
        assertEquals(cases.size(), lines.size(), output);
        Map<String, String> results = new LinkedHashMap<>();
        for (int i = 0; i < cases.size(); i++) {
            results.put(cases.get(i), lines.get(i));
        }
        return results;
    }

    /** The prefixes analyze-migration.py accepts, all of them, resolve to its options (a summary for the report). */
    @Test
    void everyPrefixOfTheReferenceOptions() throws Options.UsageException {
        Map<String, String> resolved = new LinkedHashMap<>();
        for (Options.Spec option : Options.OPTIONS.stream().filter(Options.Spec::reference).toList()) {
            for (int end = 3; end <= option.name().length(); end++) {
                String prefix = option.name().substring(0, end);
                resolved.put(prefix, Options.longOption(prefix, prefix).name());
            }
        }
        assertEquals(List.of(), resolved.entrySet().stream().filter(e -> !e.getValue().startsWith(e.getKey()))
                .map(Map.Entry::getKey).collect(Collectors.toList()));
        assertEquals("--dump", resolved.get("--d"));
        assertEquals("--extract", resolved.get("--e"));
        assertEquals("--help", resolved.get("--h"));
    }
}
