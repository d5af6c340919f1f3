/**
 * JMH benchmarks of the reader: the RAM page walk over synthetic and real streams from a mapped
 * file, a heap array and an {@code InputStream} ({@link io.qevm.MigrationReaderPagesBench}) beside
 * a naive {@code DataInputStream} walk of the same streams ({@link io.qevm.NaiveDataInputStreamBench}),
 * sharing {@link io.qevm.StreamState}. Every benchmark of the module, here and in
 * {@code io.qevm.consume}, takes its JMH settings from {@link io.qevm.BenchmarkDefaults}.
 */
package io.qevm;
