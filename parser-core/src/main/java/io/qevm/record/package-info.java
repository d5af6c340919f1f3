/**
 * The stream's records (migration/savevm.c): the {@link io.qevm.record.RecordScanner} frames
 * sections, checks footers, reads CONFIGURATION and COMMAND records and hands each section's body
 * to its reader; {@code Bootstrap} tells what the bytes are and where the JSON description is
 * when it ends the file, {@code DescriptionSearch} where it is when bytes follow it; the
 * iterative sections without a description ({@code spapr/htab}, {@code s390-storage_attributes},
 * Proxmox's {@code pbs-state}) are skipped by their own classes. Not exported by the module; not
 * part of the API.
 */
package io.qevm.record;
