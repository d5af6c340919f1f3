package io.qevm.examples;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadScope;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.ReferenceFormat;
import io.qevm.exc.MigrationReadException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Prints every device field whose name matches a regular expression, with where it lies and its
 * value, one line each, in stream order:
 *
 * <pre>
 * $ $JAVA_HOME/bin/java -cp cli/target/qevm-cli-0.1.0-SNAPSHOT-all.jar \
 *       src-samples/examples/src/main/java/io/qevm/examples/FieldGrep.java vm.mig '^env\.eip$'
 * cpu (5) / env.eip = 0x000000000000fff0
 * </pre>
 *
 * <p>A path is {@code section (id) / struct / subsection / field[index]}: the device section
 * with its section id (as {@code analyze-migration.py -d state} names it), then every struct
 * and subsection the field sits in, then the field. {@code [index]} is there for array entries.
 * The reader keeps that nesting itself: {@link MigrationReader#scope()} is the innermost struct,
 * subsection or section the field is in, and {@link ReadScope#parent()} leads out to the
 * section, so this consumer keeps no stack of its own. ({@link MigrationReader#fieldPath()} gives
 * the same path as one string, {@code cpu/env.segs[1]/selector}; the names here are joined with
 * {@code " / "} instead because names hold {@code /} themselves: {@code 0000:00:01.3/piix4_pm}.)
 *
 * <p>Values are printed as the reference script prints them: integers in hex padded to their
 * size ({@code 0x0000fff0}, with the decimal value after a negative signed one), other fields
 * as their bytes in hex, bools as {@code true}/{@code false}.
 */
public final class FieldGrep implements MigrationConsumer {

    private final Pattern pattern;
    private final PrintStream out;
    private long matches;

    /** Prints to {@code out} the fields whose name contains a match of {@code pattern}. */
    public FieldGrep(Pattern pattern, PrintStream out) {
        this.pattern = pattern;
        this.out = out;
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        // STRUCT_START, SUBSECTION and their ends need nothing from us: the reader's scopes follow them
        if (event == MigrationEvent.FIELD && pattern.matcher(reader.fieldName()).find()) {
            matches++;
            // the reference script's spelling of values: hex integers, hex bytes, true/false
            out.println(path(reader) + " / " + nameOf(reader) + " = " + ReferenceFormat.fieldValue(reader));
        }
    }

    /** How many fields matched so far. */
    public long matches() {
        return matches;
    }

    /**
     * Where the current field is: its scope and the scopes around it, from the section (depth 0)
     * in, each as {@code analyze-migration.py} names it in its output.
     */
    static String path(MigrationReader reader) {
        ReadScope innermost = reader.scope();
        String[] names = new String[innermost.depth() + 1];
        for (ReadScope scope = innermost; scope != null; scope = scope.parent()) {
            names[scope.depth()] = switch (scope.kind()) {
                // section accessors stay valid on every event of the record
                case SECTION -> scope.name() + " (" + reader.sectionId() + ")";
                case STRUCT -> scope.index() < 0 ? scope.name() : scope.name() + "[" + scope.index() + "]";
                case SUBSECTION -> scope.name();
            };
        }
        return String.join(" / ", names);
    }

    /**
     * The field's name, with {@code [index]} when it is an array entry (the reader numbers the
     * elements, also of the arrays QEMU 9.1+ splits over several entries of one name).
     */
    private static String nameOf(MigrationReader reader) {
        long index = reader.fieldIndex();
        return index < 0 ? reader.fieldName() : reader.fieldName() + "[" + index + "]";
    }

    /** Greps {@code file} and returns how many fields matched. */
    public static long grep(Path file, Pattern pattern, PrintStream out) throws IOException {
        FieldGrep grep = new FieldGrep(pattern, out);
        try (MigrationReader reader = MigrationReader.open(file)) {
            MigrationConsumer.drive(reader, grep);
        }
        return grep.matches();
    }

    /** {@code FieldGrep FILE REGEX}: exits 0 when a field matched, 1 when none did (as grep). */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: FieldGrep FILE REGEX");
            System.exit(2);
        }
        try {
            System.exit(grep(Path.of(args[0]), Pattern.compile(args[1]), System.out) > 0 ? 0 : 1);
        } catch (MigrationReadException e) {
            System.err.println("FieldGrep: " + e.getMessage());
            System.exit(2);
        }
    }
}
