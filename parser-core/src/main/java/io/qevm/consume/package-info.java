/**
 * Consumers of {@link io.qevm.MigrationReader} events: the reference-compatible JSON writers
 * ({@link io.qevm.consume.StateWriter}, {@link io.qevm.consume.DescriptionWriter}) on
 * jackson-core, the counters of what a dump holds ({@link io.qevm.consume.DumpStats},
 * {@link io.qevm.consume.PassCounter}), and the {@link io.qevm.consume.MigrationConsumer}
 * contract users implement.
 * They use only the reader's public API, as a user's consumer would.
 */
package io.qevm.consume;
