package io.qevm.consume;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Secondary throughput metrics of an extraction: JMH divides each counter by the measured time,
 * so a Throughput run reports, beside runs/s, guest data bytes written/s ({@code dataBytes}: the
 * data pages' bytes, holes not counted) and stream bytes read/s ({@code streamBytes}).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ExtractCounters {

    /** Bytes of data pages (RAM_PAGE events) written to the output files. */
    public long dataBytes;
    /** Stream bytes read (the whole file per run). */
    public long streamBytes;

    @Setup(Level.Iteration)
    public void reset() {
        dataBytes = 0;
        streamBytes = 0;
    }
}
