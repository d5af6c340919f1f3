package io.qevm.container;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Compressed data made by the real commands (gzip, bzip2, xz, zstd, lzop), as users and libvirt
 * make it: .ci/run installs them. Results are kept per JVM, as the same inputs are compressed by
 * several tests.
 */
final class Tools {

    private static final Map<String, byte[]> MADE = new ConcurrentHashMap<>();

    private Tools() {
    }

    /** The command line that compresses standard input to standard output with {@code format}'s tool. */
    static List<String> command(String format, String... options) {
        List<String> command = new ArrayList<>();
        command.add(format);
        command.add("-c");
        if (format.equals("zstd")) {
            command.add("-q");
        }
        command.addAll(List.of(options));
        return command;
    }

    /** {@code data} compressed by {@code format}'s command with {@code options}. */
    static byte[] compress(byte[] data, String format, String... options) {
        List<String> command = command(format, options);
        String key = String.join(" ", command) + "#" + System.identityHashCode(data) + "#" + data.length;
        return MADE.computeIfAbsent(key, k -> run(command, data));
    }

    private static byte[] run(List<String> command, byte[] input) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new AssertionError(command.get(0) + " is needed to make the test's input (apt-get install "
                    + (command.get(0).equals("xz") ? "xz-utils" : command.get(0)) + "; .ci/run installs it)", e);
        }
        Thread writer = Thread.ofPlatform().start(() -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(input);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try (InputStream out = process.getInputStream()) {
            byte[] compressed = out.readAllBytes();
            writer.join();
            if (process.waitFor() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited " + process.exitValue());
            }
            return compressed;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
