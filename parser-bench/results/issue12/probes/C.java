import io.qevm.*;
import java.nio.file.*;
import java.util.*;
public class C {
  public static void main(String[] a) throws Exception {
    try (GuestMemory m = GuestMemory.open(Path.of(a[0]), ReadOptions.DEFAULT);
         GuestMemory ref = GuestMemory.index(MigrationReader.open(Path.of(a[0]), ReadOptions.DEFAULT))) {
      long len = m.block("pc.ram").length(); SplittableRandom r = new SplittableRandom(3);
      byte[] x = new byte[4096], y = new byte[4096]; int bad = 0;
      for (int i = 0; i < 20000; i++) { long off = r.nextLong(len - 4096); m.read("pc.ram", off, x, 0, 4096); ref.read("pc.ram", off, y, 0, 4096); if (!Arrays.equals(x, y)) bad++; }
      byte[] bx = new byte[1 << 20], by = new byte[1 << 20];
      for (int i = 0; i < 200; i++) { long off = r.nextLong(len - (1 << 20)); m.read("pc.ram", off, bx, 0, bx.length); ref.read("pc.ram", off, by, 0, by.length); if (!Arrays.equals(bx, by)) bad++; }
      System.out.println("mismatches: " + bad);
    }
  }
}
