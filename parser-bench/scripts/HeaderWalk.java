/*
 * How long a walk of a mapped dump takes when it reads one 8-byte header every 4104 bytes (the
 * stride of a stream of 4 KiB data pages), and what a second thread mapping the pages ahead of
 * it (one read per 64 KiB: Linux's fault-around maps the cached pages around each fault) or
 * madvise(MADV_POPULATE_READ) ahead of it change; with "mrel", the walker hands the pages 32 MiB
 * behind it back (MemorySegment.unload), as the reader does. "read": a second thread read()s the
 * file into a ring of 4 buffers instead, the walker reads the headers out of those.
 *
 * <pre>
 * javac -d /tmp/hw parser-bench/scripts/HeaderWalk.java
 * java --enable-native-access=ALL-UNNAMED -cp /tmp/hw HeaderWalk DUMP MODE CHUNK_MIB AHEAD_MIB
 *   MODE: touch | touch-mrel | pop | poprel | read      e.g. HeaderWalk l-large-4G.mig touch-mrel 8 64
 * </pre>
 * Results (2026-11-30, issue 13) in parser-bench/RESULTS.md, "performance, second round".
 */
import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import java.util.concurrent.*;
import static java.lang.foreign.ValueLayout.*;

public class HeaderWalk {
    static final MethodHandle MADVISE = Linker.nativeLinker().downcallHandle(
        Linker.nativeLinker().defaultLookup().find("madvise").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    static int madvise(MemorySegment s, long off, long len, int advice) {
        try { return (int) MADVISE.invokeExact(MemorySegment.ofAddress(s.address() + off), len, advice); }
        catch (Throwable t) { throw new RuntimeException(t); }
    }
    static final ValueLayout.OfLong BE = JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    static volatile long cursor; static volatile long sink;
    public static void main(String[] a) throws Exception {
        String mode = a[1];
        long chunk = Long.parseLong(a[2]) << 20, ahead = Long.parseLong(a[3]) << 20;
        long t0 = System.nanoTime();
        long sum = 0;
        if (mode.equals("read")) {
            // helper reads into a ring of buffers, main walks
            try (FileChannel ch = FileChannel.open(Path.of(a[0]))) {
                long size = ch.size();
                int n = 4;
                ArrayBlockingQueue<MemorySegment> full = new ArrayBlockingQueue<>(n), empty = new ArrayBlockingQueue<>(n);
                Arena arena = Arena.ofShared();
                for (int i = 0; i < n; i++) empty.add(arena.allocate(chunk, 4096));
                Thread h = Thread.ofPlatform().start(() -> {
                    try {
                        long pos = 0;
                        while (pos < size) {
                            MemorySegment s = empty.take();
                            ByteBuffer bb = s.asByteBuffer();
                            while (bb.hasRemaining()) { int r = ch.read(bb, pos + bb.position()); if (r < 0) break; }
                            pos += bb.position();
                            full.put(s.asSlice(0, bb.position()));
                        }
                    } catch (Exception e) { throw new RuntimeException(e); }
                });
                long base = 0, off = 0;
                while (base < size) {
                    MemorySegment s = full.take();
                    while (off + 8 <= base + s.byteSize()) { sum += s.get(BE, off - base); off += 4104; }
                    base += s.byteSize();
                    empty.put(s.asSlice(0, 0).reinterpret(chunk)); // the whole buffer again
                }
                h.join();
            }
        } else try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(Path.of(a[0]))) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            long size = m.byteSize();
            Thread h = Thread.ofPlatform().start(() -> {
                long released = 0;
                for (long off = 0; off < size; off += chunk) {
                    while (off > cursor + ahead) { 
                        long to = (cursor - (16L << 20)) & ~((2L << 20) - 1);
                        if (mode.contains("rel") && to > released) { m.asSlice(released, to - released).unload(); released = to; }
                        else Thread.onSpinWait();
                    }
                    if (mode.contains("touch")) { long e = Math.min(off + chunk, size); long s2 = 0; for (long p = off; p < e; p += 65536) s2 += m.get(JAVA_BYTE, p); sink += s2; } else madvise(m, off, Math.min(chunk, size - off), 22);
                }
            });
            long next = 0; long mrel = 0;
            for (long off = 0; off + 8 <= size; off += 4104) {
                sum += m.get(BE, off);
                if (off >= next) { cursor = off; next = off + (1L << 20);
                    if (mode.contains("mrel") && off - mrel > (96L << 20)) { long to = (off - (32L << 20)) & ~((2L << 20) - 1); m.asSlice(mrel, to - mrel).unload(); mrel = to; } }
            }
            cursor = Long.MAX_VALUE / 2;
            h.join();
        }
        System.out.println(mode + " " + (System.nanoTime() - t0) / 1e6 + " ms sum " + sum);
    }
}
