import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How the size of each write changes copying a dump into a new file, as -x writes a block: the
 * file mapped, then either written straight from the mapping ("direct") or copied into a
 * reused direct buffer first ("staged", what PageExtractor does), CHUNK bytes a write.
 *
 * <pre>
 * javac -d /tmp/ws parser-bench/scripts/WriteSize.java
 * for m in "direct 262144" "staged 262144" "staged 1048576" "direct 1048576"; do
 *     rm -f OUT; sync; sleep 8; /usr/bin/time -f "user %U sys %S" java -cp /tmp/ws WriteSize $m DUMP OUT
 * done
 * </pre>
 * Results: parser-bench/results/issue8/write-size.log.
 */
public class WriteSize {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int chunk = Integer.parseInt(args[1]);
        Path in = Path.of(args[2]);
        Path out = Path.of(args[3]);
        Files.deleteIfExists(out);
        try (Arena arena = Arena.ofShared();
             FileChannel input = FileChannel.open(in);
             FileChannel output = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = input.size();
            MemorySegment map = input.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            ByteBuffer staging = ByteBuffer.allocateDirect(chunk);
            MemorySegment staged = MemorySegment.ofBuffer(staging);
            long start = System.nanoTime();
            for (long at = 0; at < size; at += chunk) {
                int n = (int) Math.min(chunk, size - at);
                ByteBuffer bytes;
                if (mode.equals("direct")) {
                    bytes = map.asSlice(at, n).asByteBuffer();
                } else {
                    MemorySegment.copy(map, at, staged, 0, n);
                    bytes = staging.clear().limit(n);
                }
                while (bytes.hasRemaining()) {
                    output.write(bytes, at + bytes.position());
                }
            }
            System.out.printf("%s %d: %.2f s%n", mode, chunk, (System.nanoTime() - start) / 1e9);
        }
        Files.deleteIfExists(out);
    }
}
