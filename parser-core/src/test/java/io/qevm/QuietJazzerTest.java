package io.qevm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QuietJazzerTest {

    @Test
    void dropsOnlyTheHookAndInstrumentationLines() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream err = QuietJazzer.filter(out);
        // as Jazzer's Log writes them: the prefix, then the message
        err.print("INFO: ");
        err.println("Loaded 784 hooks from com.code_intelligence.jazzer.runtime.TraceCmpHooks");
        err.print("INFO: ");
        err.flush();
        err.println("Instrumented io.qevm.ReaderScopeTest$1 with custom hooks only (took 29 ms, size +0%)");
        err.println("INFO: Instrumented io.qevm.ReaderScopeTest$2 with custom hooks only (took 1 ms, size +-1%)");
        err.println("WARN: a warning of Jazzer's");
        err.println("INFO: Instrumented io.qevm.X (took 3 ms, size +9%)");
        err.print("a test's own output, ");
        err.flush();
        err.println("and the rest of its line");
        err.print("no newline yet");
        err.flush();
        assertEquals("""
                WARN: a warning of Jazzer's
                INFO: Instrumented io.qevm.X (took 3 ms, size +9%)
                a test's own output, and the rest of its line
                no newline yet""", out.toString(StandardCharsets.UTF_8));
    }
}
