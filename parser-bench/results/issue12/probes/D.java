import io.qevm.*;
import java.nio.file.Path;
import java.util.Arrays;
public class D {
  public static void main(String[] a) throws Exception {
    Path pa = Path.of(a[0]), pb = Path.of(a[1]);
    int batch = Integer.parseInt(a[2]);
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      GuestMemory[] m = new GuestMemory[2];
      Thread t = Thread.ofPlatform().start(() -> { try { m[0] = GuestMemory.open(pa, ReadOptions.DEFAULT); } catch (Exception e) { throw new RuntimeException(e);} });
      m[1] = GuestMemory.open(pb, ReadOptions.DEFAULT);
      t.join();
      long t1 = System.nanoTime();
      long len = m[0].block("pc.ram").length();
      long[] diff = new long[2];
      Thread[] w = new Thread[2];
      for (int h = 0; h < 2; h++) { final int hh = h; w[h] = Thread.ofPlatform().start(() -> {
        byte[] x = new byte[batch], y = new byte[batch]; long d = 0;
        try { for (long off = hh * len / 2; off < (hh + 1) * len / 2; off += batch) { m[0].read("pc.ram", off, x, 0, batch); m[1].read("pc.ram", off, y, 0, batch); if (Arrays.mismatch(x, y) >= 0) d++; } } catch (Exception e) { throw new RuntimeException(e);} diff[hh] = d; }); }
      for (Thread th : w) th.join();
      long t2 = System.nanoTime();
      System.out.printf("index %.3f compare %.3f %d%n", (t1-t0)/1e9, (t2-t1)/1e9, diff[0]+diff[1]);
      m[0].close(); m[1].close();
    }
  }
}
