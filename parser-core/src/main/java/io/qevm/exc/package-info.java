/**
 * The exceptions of the reader: one unchecked family rooted at {@link io.qevm.exc.MigrationReadException},
 * one class per kind of failure, each carrying the byte offset where it happened.
 */
package io.qevm.exc;
