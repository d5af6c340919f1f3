/**
 * A pull parser over QEMU migration streams: {@link io.qevm.MigrationReader} is the cursor,
 * {@link io.qevm.MigrationEvent} what it finds, {@link io.qevm.ReadScope} where it is,
 * {@link io.qevm.ReadOptions} and {@link io.qevm.ReadLimits} how it reads, and
 * {@link io.qevm.PageStore} where it finds earlier copies of pages on a stream.
 */
package io.qevm;
