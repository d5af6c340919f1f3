package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The distribution's man page and bash completion (src/dist, written by hand) name every option
 * that {@code qevm --help} lists: an option added to {@link Options} without them fails here.
 * (They may name more: options documented ahead of the code.)
 */
final class DistDocsTest {

    /** Surefire runs in the module's folder. */
    private static final Path DIST = Path.of("src/dist");

    private static final Pattern LONG = Pattern.compile("(?<![\\w-])--[a-z][a-z-]*[a-z]");
    private static final Pattern SHORT = Pattern.compile("(?<![\\w-])-[a-z](?![\\w-])");

    private static Set<String> options(Pattern pattern, String text) {
        Set<String> found = new TreeSet<>();
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) {
            found.add(matcher.group());
        }
        return found;
    }

    /** The long options of {@link Options#OPTIONS}, the table the parser reads; --help lists each. */
    private static Set<String> longOptions() {
        Set<String> names = new TreeSet<>();
        Options.OPTIONS.forEach(option -> names.add(option.name()));
        assertEquals(Set.of(), missing(names, options(LONG, Options.HELP)), "options of the table missing from --help");
        return names;
    }

    /** The one-letter options of {@link Options#OPTIONS}, as {@code -f}. */
    private static Set<String> shortOptions() {
        Set<String> letters = new TreeSet<>();
        Options.OPTIONS.stream().filter(option -> option.letter() != 0).forEach(option -> letters.add("-" + option.letter()));
        assertEquals(Set.of(), missing(letters, options(SHORT, Options.HELP)), "short options missing from --help");
        return letters;
    }

    private static Set<String> missing(Set<String> wanted, Set<String> found) {
        Set<String> missing = new TreeSet<>(wanted);
        missing.removeAll(found);
        return missing;
    }

    @Test
    void manPageNamesEveryOption() throws IOException {
        // roff writes a hyphen as \-: the page reads as text with them undone
        String page = Files.readString(DIST.resolve("man/qevm.1")).replace("\\-", "-");
        Set<String> longOptions = longOptions();
        Set<String> shortOptions = shortOptions();
        assertEquals(Set.of(), missing(longOptions, options(LONG, page)), "long options missing from qevm.1");
        assertEquals(Set.of(), missing(shortOptions, options(SHORT, page)), "short options missing from qevm.1");
        assertTrue(page.contains("\"qevm @VERSION@\""), "qevm.1's .TH line lost the @VERSION@ the build fills in");
    }

    @Test
    void completionOffersEveryOption() throws IOException {
        String script = Files.readString(DIST.resolve("completion/qevm.bash"));
        Matcher lists = Pattern.compile("local long='([^']*)'\\s+local short='([^']*)'").matcher(script);
        assertTrue(lists.find(), "qevm.bash no longer has its long='...' and short='...' lists");
        assertEquals(Set.of(), missing(longOptions(), options(LONG, lists.group(1))),
                "long options missing from qevm.bash");
        assertEquals(Set.of(), missing(shortOptions(), options(SHORT, lists.group(2))),
                "short options missing from qevm.bash");
        assertTrue(script.contains("compgen -W 'state desc'"), "qevm.bash no longer completes -d with state and desc");
    }

    /**
     * The launchers, the completion and the man page know every subcommand: the repository's
     * ./qevm keeps an AOT cache per subcommand (a name missing there shares the main
     * command's cache and loads its classes from the jar on every run).
     */
    @Test
    void everySubcommandIsKnownToTheLauncherTheCompletionAndTheManPage() throws IOException {
        String launcher = Files.readString(Path.of("../qevm"));
        Matcher names = Pattern.compile("\\n\\s*([a-z |]+)\\) cache=").matcher(launcher);
        assertTrue(names.find(), "./qevm chooses no AOT cache per subcommand");
        assertEquals(new TreeSet<>(Subcommands.ALL.keySet()), new TreeSet<>(List.of(names.group(1).trim().split("\\s*\\|\\s*"))));
        String completion = Files.readString(DIST.resolve("completion/qevm.bash"));
        String man = Files.readString(DIST.resolve("man/qevm.1"));
        for (String name : Subcommands.ALL.keySet()) {
            assertTrue(completion.contains("local subcommands='") && completion.matches("(?s).*local subcommands='[^']*\\b"
                    + name + "\\b.*"), "completion lacks " + name);
            assertTrue(man.contains(".SS qevm " + name + " "), "man page lacks qevm " + name);
        }
    }
}
