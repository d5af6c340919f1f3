package io.qevm;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.tukaani.xz.XZInputStream;

/**
 * The real QEMU dumps in {@code src-samples/}, for every test module (parser-core's test jar):
 * where they are ({@code qevm.samples}, set by surefire; else found from the working directory),
 * and each sample's dump as a file, a {@code .mig.xz} unpacked once per test run, sparsely, into
 * a temporary folder.
 */
public final class Samples {

    private static final Map<String, Path> UNPACKED = new ConcurrentHashMap<>();
    private static Path unpackDir;

    private Samples() {
    }

    /** The samples folder. */
    public static Path root() {
        String configured = System.getProperty("qevm.samples");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("src-samples/a-pc-paused"))) {
                return dir.resolve("src-samples");
            }
        }
        throw new IllegalStateException("no src-samples folder above " + Path.of("").toAbsolutePath()
                + " (set the system property qevm.samples)");
    }

    /** The folder of sample {@code name}. */
    public static Path folder(String name) {
        Path folder = root().resolve(name);
        if (!Files.isDirectory(folder)) {
            throw new IllegalStateException("no sample " + folder);
        }
        return folder;
    }

    /**
     * Sample {@code name}'s dump as a file: {@code NAME.EXT} as it is ({@code .mig}, {@code .sav},
     * {@code .mig.gz}, {@code .mig.zst}, {@code .qcow2}...), except that one stored as
     * {@code NAME.mig.xz} or {@code NAME.qcow2.xz} (sparse files kept small) is unpacked, sparsely,
     * under its name without {@code .xz}.
     */
    public static Path dump(String name) {
        Path folder = folder(name);
        List<Path> dumps;
        try (Stream<Path> files = Files.list(folder)) {
            dumps = files.filter(Files::isRegularFile)
                    .filter(f -> f.getFileName().toString().startsWith(name + "."))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (dumps.size() != 1) {
            throw new IllegalStateException("not one dump NAME.* in " + folder + ": " + dumps);
        }
        Path dump = dumps.getFirst();
        String fileName = dump.getFileName().toString();
        if (fileName.endsWith(".mig.xz") || fileName.endsWith(".qcow2.xz")) {
            return UNPACKED.computeIfAbsent(name, n -> unpacked(dump, fileName.substring(0, fileName.length() - 3)));
        }
        return dump;
    }

    /** The bytes of a dump file ({@code .mig.xz}: unpacked). */
    public static byte[] read(Path dump) throws IOException {
        if (dump.toString().endsWith(".xz")) {
            try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(dump), 1 << 16))) {
                return in.readAllBytes();
            }
        }
        return Files.readAllBytes(dump);
    }

    private static synchronized Path unpacked(Path xz, String fileName) {
        try {
            if (unpackDir == null) {
                unpackDir = Files.createTempDirectory("qevm-samples-");
                unpackDir.toFile().deleteOnExit();
            }
            Path out = unpackDir.resolve(fileName);
            unpackSparse(xz, out);
            out.toFile().deleteOnExit();
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** As {@code xz -dc F | cp --sparse=always /dev/stdin OUT}: all-zero 64 KiB chunks become holes. */
    public static void unpackSparse(Path xz, Path out) throws IOException {
        int chunk = 64 * 1024;
        byte[] buffer = new byte[chunk];
        byte[] zeros = new byte[chunk];
        try (InputStream in = new XZInputStream(new BufferedInputStream(Files.newInputStream(xz), 1 << 16));
                RandomAccessFile file = new RandomAccessFile(out.toFile(), "rw")) {
            FileChannel channel = file.getChannel();
            long at = 0;
            int n;
            while ((n = in.readNBytes(buffer, 0, chunk)) > 0) {
                if (Arrays.mismatch(buffer, 0, n, zeros, 0, n) >= 0) {
                    ByteBuffer data = ByteBuffer.wrap(buffer, 0, n);
                    while (data.hasRemaining()) {
                        channel.write(data, at + data.position());
                    }
                }
                at += n;
            }
            file.setLength(at);
        }
    }
}
