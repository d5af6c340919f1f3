/**
 * A pull parser over QEMU migration streams: {@link io.qevm.MigrationReader} is the cursor,
 * {@link io.qevm.MigrationEvent} what it finds, {@link io.qevm.MigrationSource} the bytes it reads
 * and {@link io.qevm.ReadLimits} the bounds it keeps.
 */
package io.qevm;
