package io.qevm.cli;

import io.qevm.Snapshot;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * {@code --list-snapshots}: a qcow2 image's snapshots as {@code qemu-img snapshot -l} prints them
 * (QEMU's qemu-img.c dump_snapshots and block/qapi.c bdrv_snapshot_dump, as of QEMU 5.2 to 8.2:
 * the columns ID, TAG, VM SIZE, DATE, VM CLOCK, ICOUNT; QEMU 9 renamed two headings and widened
 * VM CLOCK). Nothing at all for an image without snapshots, as qemu-img prints nothing then.
 */
final class SnapshotList {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final String[] SUFFIXES = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    /** QEMUSnapshotInfo's id_str[128] and name[256]: qemu-img shows no more of them. */
    private static final int MAX_ID_BYTES = 127;
    private static final int MAX_NAME_BYTES = 255;

    private SnapshotList() {
    }

    /** The listing, each line ended by a newline; dates in {@code zone} (qemu-img's local time). */
    static String format(List<Snapshot> snapshots, ZoneId zone) {
        if (snapshots.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder("Snapshot list:\n");
        // "%-10s%-17s%8s%20s%13s%11s"
        out.append(left("ID", 10)).append(left("TAG", 17)).append(right("VM SIZE", 8)).append(right("DATE", 20))
                .append(right("VM CLOCK", 13)).append(right("ICOUNT", 11)).append('\n');
        for (Snapshot snapshot : snapshots) {
            // "%-9s %-16s %8s%20s%13s%11s"
            out.append(left(cut(snapshot.id(), MAX_ID_BYTES), 9)).append(' ')
                    .append(left(cut(snapshot.name(), MAX_NAME_BYTES), 16)).append(' ')
                    .append(right(sizeToStr(snapshot.vmStateSize()), 8))
                    .append(right(DATE.format(snapshot.date().atZone(zone)), 20))
                    .append(right(clock(snapshot.vmClock().toNanos()), 13))
                    .append(right(snapshot.icount() == -1 ? "" : Long.toString(snapshot.icount()), 11)).append('\n');
        }
        return out.toString();
    }

    /** "%02d:%02d:%02d.%03d" of the guest clock, from its nanoseconds (a u64). */
    static String clock(long nanos) {
        long secs = Long.divideUnsigned(nanos, 1_000_000_000L);
        return String.format("%02d:%02d:%02d.%03d", (int) (secs / 3600), (int) ((secs / 60) % 60), (int) (secs % 60),
                (int) (Long.divideUnsigned(nanos, 1_000_000L) % 1000));
    }

    /**
     * QEMU's util/cutils.c size_to_str: "4.51 MiB", "0 B", three significant digits as C's
     * {@code %0.3g}, the unit switched up at 1000 rather than 1024.
     */
    static String sizeToStr(long bytes) {
        double value = bytes >= 0 ? bytes : bytes + 0x1p64; // a u64
        int i = 0;
        if (value != 0) {
            // frexp(value / (1000.0 / 1024.0), &e): e is one more than the binary exponent
            int e = Math.getExponent(value / (1000.0 / 1024.0)) + 1;
            i = (e - 1) / 10;
        }
        double divided = value / (double) (1L << (i * 10));
        return formatG3(divided) + " " + SUFFIXES[i] + "B";
    }

    /** C's {@code printf("%0.3g", value)} for a value of 0 or more. */
    static String formatG3(double value) {
        if (value == 0) {
            return "0";
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(3, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent < -4 || exponent >= 3) {
            BigDecimal mantissa = rounded.movePointLeft(exponent).stripTrailingZeros();
            String digits = mantissa.scale() <= 0 ? mantissa.toBigInteger().toString() : mantissa.toPlainString();
            return digits + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        BigDecimal fixed = rounded.setScale(Math.max(0, 2 - exponent), RoundingMode.UNNECESSARY).stripTrailingZeros();
        return fixed.scale() <= 0 ? fixed.toBigInteger().toString() : fixed.toPlainString();
    }

    /** At most {@code max} bytes of UTF-8, as pstrcpy into QEMU's fixed buffers cuts them. */
    private static String cut(String text, int max) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= max ? text : new String(bytes, 0, max, StandardCharsets.UTF_8);
    }

    /** C's printf pads to a width in bytes, not characters. */
    private static String left(String text, int width) {
        return text + " ".repeat(Math.max(0, width - text.getBytes(StandardCharsets.UTF_8).length));
    }

    private static String right(String text, int width) {
        return " ".repeat(Math.max(0, width - text.getBytes(StandardCharsets.UTF_8).length)) + text;
    }
}
