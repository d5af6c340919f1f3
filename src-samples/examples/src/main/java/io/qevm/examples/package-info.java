/**
 * Small consumers of {@link io.qevm.MigrationReader} to copy from, each runnable with a
 * {@code main}: {@link io.qevm.examples.PageCensus} (pages per RAM block by encoding),
 * {@link io.qevm.examples.FieldGrep} (device fields by name, with their path and value) and
 * {@link io.qevm.examples.FindBytes} (a byte string in guest RAM). They use only the public API.
 */
package io.qevm.examples;
