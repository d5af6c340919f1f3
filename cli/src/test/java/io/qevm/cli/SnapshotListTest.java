package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qevm.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --list-snapshots} prints what qemu-img snapshot -l prints (the values from C's printf). */
final class SnapshotListTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0|0 B", "1|1 B", "999|999 B", "1000|0.977 KiB", "1023|0.999 KiB", "1024|1 KiB", "10239|10 KiB",
        "1023487|999 KiB", "1023999|1e+03 KiB", "1048575|1 MiB", "4728117|4.51 MiB", "7153081|6.82 MiB",
        "5368709120|5 GiB", "9223372036854775807|8 EiB", "-1|16 EiB"})
    void sizesAsQemuSizeToStr(long bytes, String shown) {
        assertEquals(shown, SnapshotList.sizeToStr(bytes));
    }

    @Test
    void guestClock() {
        assertEquals("00:00:00.000", SnapshotList.clock(0));
        assertEquals("00:00:01.962", SnapshotList.clock(1_962_791_203L));
        assertEquals("27:46:40.001", SnapshotList.clock(100_000_001_000_000L));
    }

    @Test
    void columnsAsQemuImgPrintsThem() {
        List<Snapshot> snapshots = List.of(
                new Snapshot("1", "boot", Instant.ofEpochSecond(1_796_028_903L, 684_772_000L), Duration.ZERO, 4_728_117L,
                        33_554_432L, -1),
                new Snapshot("2", "later", Instant.ofEpochSecond(1_796_028_906L, 33_879_000L),
                        Duration.ofNanos(1_962_791_203L), 7_153_081L, 33_554_432L, 42),
                new Snapshot("10", "d\u00e9j\u00e0", Instant.ofEpochSecond(0), Duration.ZERO, 0, 0, -1));
        // trailing spaces: the empty ICOUNT column is printed padded
        assertEquals("Snapshot list:" + "\n"
                + "ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT" + "\n"
                + "1         boot             4.51 MiB 2026-11-30 08:55:03 00:00:00.000           " + "\n"
                + "2         later            6.82 MiB 2026-11-30 08:55:06 00:00:01.962         42" + "\n"
                + "10        d\u00e9j\u00e0                0 B 1970-01-01 00:00:00 00:00:00.000           " + "\n",
                SnapshotList.format(snapshots, ZoneId.of("UTC")));
        assertEquals("", SnapshotList.format(List.of(), ZoneId.of("UTC")), "qemu-img prints nothing");
    }
}
