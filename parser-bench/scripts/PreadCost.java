/*
 * What one positional read of 4 KiB costs on this machine, from a file in the page cache, at
 * random page offsets: through FileChannel.read(ByteBuffer, long) into a heap buffer, and through
 * a direct pread(2) downcall (FFM, Linker.Option.critical(true): straight into the heap array).
 * GuestMemory reads pages past its mapped budget this way.
 *
 * <pre>
 * javac -d /tmp/pc parser-bench/scripts/PreadCost.java
 * java --enable-native-access=ALL-UNNAMED -cp /tmp/pc PreadCost DUMP
 * </pre>
 * Results (2026-11-30, issue 13) in parser-bench/RESULTS.md, "performance, second round".
 */
import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import java.util.SplittableRandom;
import static java.lang.foreign.ValueLayout.*;

public class PreadCost {
    static final Linker L = Linker.nativeLinker();
    static final MethodHandle PREAD = L.downcallHandle(L.defaultLookup().find("pread64").orElseThrow(),
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), Linker.Option.critical(true));
    static final MethodHandle OPEN = L.downcallHandle(L.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    public static void main(String[] a) throws Throwable {
        Path p = Path.of(a[0]);
        long size = Files.size(p);
        int n = 262144;
        long[] offs = new long[n];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < n; i++) offs[i] = (r.nextLong(size - 8192) / 4096) * 4096 + 8;
        byte[] dst = new byte[4096];
        ByteBuffer bb = ByteBuffer.wrap(dst);
        int fd;
        try (Arena arena = Arena.ofConfined()) { fd = (int) OPEN.invokeExact(arena.allocateFrom(a[0]), 0); }
        MemorySegment heap = MemorySegment.ofArray(dst);
        try (FileChannel ch = FileChannel.open(p)) {
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) { bb.clear(); ch.read(bb, offs[i]); }
                long t1 = System.nanoTime();
                for (int i = 0; i < n; i++) { long got = (long) PREAD.invokeExact(fd, heap, 4096L, offs[i]); }
                long t2 = System.nanoTime();
                System.out.printf("channel %.0f ns, ffm pread %.0f ns%n", (t1 - t0) / (double) n, (t2 - t1) / (double) n);
            }
        }
    }
}
