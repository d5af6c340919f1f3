/**
 * JMH benchmarks of the reader: the RAM page walk over synthetic and real streams
 * ({@link io.qevm.MigrationReaderPagesBench}) beside a naive {@code DataInputStream} walk of the
 * same streams ({@link io.qevm.NaiveDataInputStreamBench}), sharing {@link io.qevm.StreamState}.
 */
package io.qevm;
