/**
 * The stream's records (migration/savevm.c): the {@link io.qevm.record.RecordScanner} frames
 * sections, checks footers, reads CONFIGURATION and COMMAND records and hands each section's body
 * to its reader; {@code Bootstrap} tells what the bytes are and where the JSON description is;
 * the iterative sections without a description ({@code spapr/htab},
 * {@code s390-storage_attributes}) are skipped by their own classes. Not exported by the module;
 * not part of the API.
 */
package io.qevm.record;
