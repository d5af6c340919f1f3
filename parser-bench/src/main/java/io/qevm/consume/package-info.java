/**
 * JMH benchmarks of the consumers: {@link io.qevm.consume.StateWriterBench} ({@code -d state}) and
 * {@link io.qevm.consume.PageExtractorBench} ({@code -x}, beside a naive baseline).
 */
package io.qevm.consume;
