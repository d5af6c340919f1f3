package io.qevm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What an extraction left in a folder, for the tests of the extractor and of the CLI's {@code -x}. */
public final class OutputFiles {

    private OutputFiles() {
    }

    /** Relative paths of the regular files under {@code root}, sorted; none when it does not exist. */
    public static List<String> files(Path root) throws IOException {
        if (!Files.exists(root)) {
            return List.of();
        }
        try (Stream<Path> paths = Files.walk(root)) {
            return new ArrayList<>(new TreeSet<>(paths.filter(Files::isRegularFile)
                    .map(p -> root.relativize(p).toString()).toList()));
        }
    }

    /** {@code length} bytes of {@code file} at {@code offset}. */
    public static byte[] read(Path file, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try (FileChannel channel = FileChannel.open(file)) {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw new IOException(file + " ends before " + (offset + length));
                }
            }
        }
        return buffer.array();
    }
}
