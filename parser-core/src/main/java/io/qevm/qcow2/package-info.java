/**
 * qcow2 images (QEMU's docs/interop/qcow2.txt): the header, the internal snapshot table, each
 * snapshot's L1/L2 tables, and a random-access {@link io.qevm.io.ByteSource} over a snapshot's
 * VM-state area, where {@code savevm} keeps the migration stream. Read from the mapped file,
 * every offset and size checked against the file and QEMU's own limits before it is used. Not
 * part of the API: {@link io.qevm.MigrationReader} opens images through {@link Qcow2Image}.
 */
package io.qevm.qcow2;
