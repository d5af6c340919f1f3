package io.qevm.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What an example prints, as text to compare with. (The samples themselves come from
 * parser-core's test jar: {@link io.qevm.Samples}.)
 */
final class Printed {

    private Printed() {
    }

    /** Something that prints. */
    interface Printer {
        void printTo(PrintStream out) throws IOException;
    }

    /** What {@code printer} prints, as text with {@code \n} line ends whatever the platform's. */
    static String by(Printer printer) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            printer.printTo(out);
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
