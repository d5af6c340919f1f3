import java.nio.*; import java.nio.channels.*; import java.nio.file.*;
import java.util.SplittableRandom;
public class P {
  public static void main(String[] a) throws Exception {
    try (FileChannel ch = FileChannel.open(Path.of(a[0]))) {
      long size = ch.size(); SplittableRandom r = new SplittableRandom(1);
      ByteBuffer b = ByteBuffer.allocateDirect(4096);
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < 500_000; i++) { b.clear(); ch.read(b, r.nextLong(size - 8192)); }
        System.out.printf("pread 4 KiB random: %.0f ns%n", (System.nanoTime() - t0) / 5e5);
      }
    }
  }
}
