package io.qevm;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary throughput metrics of a walk: JMH divides each counter by the measured time, so a
 * Throughput run reports, beside walks/s, RAM page records/s ({@code records}) and stream
 * bytes/s ({@code bytes}) of the same iterations.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class WalkCounters {

    /** RAM page records (PAGE, ZERO, ...) walked. */
    public long records;
    /** Stream bytes walked (the whole file per walk). */
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
        records = 0;
        bytes = 0;
    }
}
