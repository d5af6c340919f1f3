package io.qevm.consume;

import io.qevm.MigrationReader;
import io.qevm.MigrationSource;
import io.qevm.ReadLimits;
import io.qevm.StreamState;
import io.qevm.WalkCounters;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code qevm -d state} without the CLI: map a real sample, drive a {@link StateWriter} over it
 * with {@link MigrationConsumer#drive} to EOF, write the JSON to a null stream. One operation is
 * one whole dump; {@link WalkCounters#bytes} gives bytes/s ({@code records} stays 0: RAM pages
 * are not counted here).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class StateWriterBench {

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
        StateWriter writer = new StateWriter();
        try (MigrationReader reader = MigrationReader.of(MigrationSource.mapped(file), ReadLimits.DEFAULT, true)) {
            MigrationConsumer.drive(reader, writer);
        }
        writer.writeTo(OutputStream.nullOutputStream(), true);
        counters.bytes += size;
        return writer;
    }
}
