package io.qevm;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The run settings every benchmark of this module shares, in one place: JMH looks its class-level
 * annotations up through the superclasses of a benchmark class (JMH sample 24, "Inheritance";
 * jackson-benchmarks puts its modes and units on base classes the same way), so a benchmark
 * extends this and declares none of them. A class or method annotation of a subclass, or a
 * command-line option ({@code -f}, {@code -wi}, {@code -i}, {@code -r}), still overrides them.
 *
 * <ul>
 *   <li>Throughput in operations per second: an operation is a whole walk, dump or extraction,
 *       and the {@code @AuxCounters} states ({@link WalkCounters}, {@code ExtractCounters}) turn
 *       their counters into per-second rates of the same iterations.</li>
 *   <li>Two forks, each with a fixed 1 GiB heap (so that growing the heap is not part of what is
 *       measured) and {@code --enable-native-access=ALL-UNNAMED}, as parser-core's tests run.</li>
 *   <li>Three warm-up and five measured iterations of 1 s: an operation takes from under a
 *       millisecond to a few tens of milliseconds, so an iteration holds tens to thousands.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class BenchmarkDefaults {
}
