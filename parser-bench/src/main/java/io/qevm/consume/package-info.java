/** JMH benchmarks of the consumers: {@link io.qevm.consume.StateWriterBench}. */
package io.qevm.consume;
