import io.qevm.*;
import java.nio.file.Path;
public class T {
  public static void main(String[] a) throws Exception {
    Path p = Path.of(a[0]);
    for (int i = 0; i < 4; i++) {
      long t0 = System.nanoTime();
      try (MigrationReader r = MigrationReader.open(p, ReadOptions.DEFAULT)) { long n=0; for (MigrationEvent e = r.next(); e != MigrationEvent.EOF; e = r.next()) n++; }
      long t1 = System.nanoTime();
      try (GuestMemory m = GuestMemory.open(p, ReadOptions.DEFAULT)) {}
      long t2 = System.nanoTime();
      System.out.printf("walk %.3f  index %.3f%n", (t1-t0)/1e9, (t2-t1)/1e9);
    }
  }
}
