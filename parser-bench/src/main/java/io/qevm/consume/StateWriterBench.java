package io.qevm.consume;

import io.qevm.BenchmarkDefaults;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.StreamState;
import io.qevm.WalkCounters;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * {@code qevm -d state} without the CLI, as the CLI runs it: open a real sample
 * ({@link MigrationReader#open(Path, ReadOptions)}, mapped), drive a {@link StateWriter} over it
 * with {@link MigrationConsumer#drive} to EOF, write the JSON to a null stream, close the writer
 * and the reader. One operation is one whole dump; {@link WalkCounters#bytes} gives bytes/s
 * ({@code records} stays 0: RAM pages are not counted here). JMH settings: {@link BenchmarkDefaults}.
 */
public class StateWriterBench extends BenchmarkDefaults {

    /** A sample under src-samples: a paused i440fx (few devices) and a q35 with a device zoo. */
    @Param({"a-pc-paused", "b-q35-devices"})
    public String sample;

    private Path file;
    private long size;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        file = StreamState.sample(sample);
        size = Files.size(file);
    }

    @Benchmark
    public StateWriter writeState(WalkCounters counters) throws IOException {
        try (MigrationReader reader = MigrationReader.open(file, ReadOptions.DEFAULT);
             StateWriter writer = new StateWriter()) {
            MigrationConsumer.drive(reader, writer);
            writer.writeTo(OutputStream.nullOutputStream(), true);
            counters.bytes += size;
            return writer; // returned to JMH, so that the JIT cannot drop the work
        }
    }
}
