/**
 * The {@code qevm} command line: {@link io.qevm.cli.Main} parses the reference script's options
 * and runs the consumers of {@link io.qevm.consume}; it is the only place that prints.
 */
package io.qevm.cli;
