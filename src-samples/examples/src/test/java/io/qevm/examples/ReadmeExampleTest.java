package io.qevm.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.Samples;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library example of the repository's README.md, as it stands there, compiled against this
 * module's class path (parser-core and its one dependency, jackson-core: what a user's build gets
 * from {@code io.qevm:parser-core}) and run in a JVM of its own, as a user would run it.
 */
class ReadmeExampleTest {

    @Test
    void theReadmeLibraryExampleCompilesAndCountsTheDataPagesOfPcRam(@TempDir Path work) throws Exception {
        String readme = Files.readString(Path.of("../../README.md"));
        int section = readme.indexOf("\n## The library\n");
        assertTrue(section >= 0, "README.md has no '## The library' section");
        int start = readme.indexOf("```java\n", section);
        assertTrue(start >= 0, "README.md's library section has no ```java block");
        start += "```java\n".length();
        String example = readme.substring(start, readme.indexOf("```", start));
        assertTrue(example.contains("\"vm.mig\""), "the example reads vm.mig:\n" + example);

        // the README's file is vm.mig: here, a real dump of a guest whose pc.ram holds data
        Path dump = Samples.dump("c-pc-loader-data");
        Files.copy(dump, work.resolve("vm.mig"));
        Path source = work.resolve("ReadmeExample.java");
        Files.writeString(source, """
                import io.qevm.*;
                import java.nio.file.Path;

                public class ReadmeExample {
                    public static void main(String[] args) throws Exception {
                %s
                    }
                }
                """.formatted(example));

        String classPath = System.getProperty("java.class.path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int compiled = javac.run(null, diagnostics, diagnostics, "--release", "25", "-Xlint:all", "-Werror",
                "-cp", classPath, "-d", work.resolve("classes").toString(), source.toString());
        assertEquals(0, compiled, "README's example does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8)
                + "\n" + Files.readString(source));

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process run = new ProcessBuilder(List.of(java.toString(), "-cp",
                work.resolve("classes") + File.pathSeparator + classPath, "ReadmeExample"))
                .directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        byte[] out = run.getInputStream().readAllBytes();
        byte[] err = run.getErrorStream().readAllBytes();
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "README's example did not end");
        String stderr = new String(err, StandardCharsets.UTF_8);
        assertEquals(0, run.exitValue(), stderr);
        // nothing on stderr: no JVM warning a user would see either
        assertEquals("", stderr);
        // NOTES.txt: pc.ram holds a 4 MiB and a 1 MiB blob (1280 pages of 4 KiB, none of them
        // zero), of 1329 PAGE records; the other 49 are a-pc-paused's, none in pc.ram
        assertEquals("1280 pages of data in pc.ram\n", new String(out, StandardCharsets.UTF_8));
    }

    @Test
    void theReadmeGivesTheCoordinatesThisBuildInstalls() throws IOException {
        String readme = Files.readString(Path.of("../../README.md"));
        String version = System.getProperty("qevm.version");
        assertTrue(readme.contains("io.qevm:parser-core:" + version), "README.md does not name io.qevm:parser-core:" + version);
        assertTrue(readme.contains("mvn -B install"), "README.md does not say how to install the library");
    }
}
