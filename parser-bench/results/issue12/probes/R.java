import io.qevm.*;
import java.nio.file.*;
import java.util.SplittableRandom;
public class R {
  public static void main(String[] a) throws Exception {
    try (GuestMemory m = GuestMemory.open(Path.of(a[0]), ReadOptions.DEFAULT)) {
      int pages = Integer.parseInt(a[1]);
      long n = m.block("pc.ram").pages();
      SplittableRandom r = new SplittableRandom(12);
      long[] off = new long[pages];
      for (int i = 0; i < pages; i++) { long p; do { p = r.nextLong(n); } while (m.pageKind("pc.ram", p) != GuestMemory.PageKind.DATA); off[i] = p * 4096; }
      byte[] into = new byte[4096];
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < 1_000_000; i++) m.read("pc.ram", off[i & (pages - 1)], into, 0, 4096);
        long t1 = System.nanoTime();
        String rss = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS")).findFirst().get();
        System.out.printf("%d pages: %.0f ns/read  %s%n", pages, (t1 - t0) / 1e6, rss);
      }
    }
  }
}
