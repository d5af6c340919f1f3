package io.qevm.examples;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.tukaani.xz.XZInputStream;

/** The sample dumps beside this module ({@code ../<name>/}), as the tests use them. */
final class Samples {

    /** The samples folder: surefire runs in the module directory, src-samples/examples. */
    static final Path ROOT = Path.of("..");

    private static final int CHUNK = 1 << 16;
    private static final byte[] ZEROS = new byte[CHUNK];

    private Samples() {
    }

    /**
     * The dump of sample {@code name} as a plain file: {@code ../name/name.mig}, or, for a sample
     * stored as {@code name.mig.xz}, a sparse copy unpacked once under {@code target/}.
     */
    static synchronized Path dump(String name) throws IOException {
        Path plain = ROOT.resolve(name).resolve(name + ".mig");
        if (Files.exists(plain)) {
            return plain;
        }
        Path xz = ROOT.resolve(name).resolve(name + ".mig.xz");
        Path copy = Path.of("target", "unpacked-samples", name + ".mig");
        if (!Files.exists(copy)) {
            Files.createDirectories(copy.getParent());
            Path partial = copy.resolveSibling(name + ".mig.partial");
            unpackSparse(xz, partial);
            Files.move(partial, copy);
        }
        return copy;
    }

    /** The bytes of {@code ../name/expected/file}, or of {@code file.xz} unpacked; null if neither. */
    static byte[] expected(String name, String file) throws IOException {
        Path plain = ROOT.resolve(name).resolve("expected").resolve(file);
        if (Files.exists(plain)) {
            return Files.readAllBytes(plain);
        }
        Path xz = plain.resolveSibling(file + ".xz");
        if (!Files.exists(xz)) {
            return null;
        }
        try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(xz)))) {
            return in.readAllBytes();
        }
    }

    /** Something that prints. */
    interface Printer {
        void printTo(PrintStream out) throws IOException;
    }

    /** What {@code printer} prints, as text with {@code \n} line ends whatever the platform's. */
    static String printed(Printer printer) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            printer.printTo(out);
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }

    /** Unpacks an xz file leaving holes for all-zero chunks: n-mapped-ram's 140 MB take 5 MB. */
    private static void unpackSparse(Path xz, Path out) throws IOException {
        byte[] chunk = new byte[CHUNK];
        try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(xz)));
             RandomAccessFile file = new RandomAccessFile(out.toFile(), "rw")) {
            FileChannel channel = file.getChannel();
            int n;
            while ((n = in.readNBytes(chunk, 0, CHUNK)) > 0) {
                if (Arrays.equals(chunk, 0, n, ZEROS, 0, n)) {
                    channel.position(channel.position() + n);
                } else {
                    ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, n);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                }
            }
            file.setLength(channel.position());
        }
    }
}
