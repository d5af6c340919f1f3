package io.qevm.examples;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.ReferenceFormat;
import io.qevm.exc.MigrationReadException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Prints every device field whose name matches a regular expression, with where it lies and its
 * value, one line each, in stream order:
 *
 * <pre>
 * $ java -cp parser-core/target/parser-core-0.1.0-SNAPSHOT-cli.jar \
 *       src-samples/examples/src/main/java/io/qevm/examples/FieldGrep.java vm.mig '^env\.eip$'
 * cpu (5) / env.eip = 0x000000000000fff0
 * </pre>
 *
 * <p>A path is {@code section (id) / struct / subsection / field[index]}: the device section
 * with its section id (as {@code analyze-migration.py -d state} names it), then every struct
 * and subsection the field sits in, then the field. {@code [index]} is there for array entries.
 * The reader gives the nesting as events that pair up ({@code STRUCT_START}/{@code STRUCT_END},
 * {@code SUBSECTION}/{@code SUBSECTION_END}), so a stack of names is all the bookkeeping needed.
 *
 * <p>Values are printed as the reference script prints them: integers in hex padded to their
 * size ({@code 0x0000fff0}, with the decimal value after a negative signed one), other fields
 * as their bytes in hex, bools as {@code true}/{@code false}.
 */
public final class FieldGrep implements MigrationConsumer {

    private final Pattern pattern;
    private final PrintStream out;
    /** The path to where the reader is: section, then open structs and subsections. */
    private final List<String> path = new ArrayList<>();
    private long matches;

    /** Prints to {@code out} the fields whose name contains a match of {@code pattern}. */
    public FieldGrep(Pattern pattern, PrintStream out) {
        this.pattern = pattern;
        this.out = out;
    }

    @Override
    public void accept(MigrationEvent event, MigrationReader reader) {
        switch (event) {
            // A section record begins: the path restarts at the section. (Section accessors
            // stay valid on every event up to the record's end, but we keep our own copy.)
            case SECTION_START -> {
                path.clear();
                path.add(reader.sectionName() + " (" + reader.sectionId() + ")");
            }
            // STRUCT_START is a field too: fieldName() and fieldIndex() say which one.
            case STRUCT_START -> path.add(nameOf(reader));
            case SUBSECTION -> path.add(reader.subsectionName());
            case STRUCT_END, SUBSECTION_END -> path.removeLast();
            case FIELD -> {
                if (pattern.matcher(reader.fieldName()).find()) {
                    matches++;
                    // the reference script's spelling of values: hex integers, hex bytes, true/false
                    out.println(String.join(" / ", path) + " / " + nameOf(reader) + " = "
                            + ReferenceFormat.fieldValue(reader));
                }
            }
            case SECTION_END -> path.clear();
            default -> {
            }
        }
    }

    /** How many fields matched so far. */
    public long matches() {
        return matches;
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
