/**
 * Internals shared by the reader's parts and the consumers: every message template
 * ({@link io.qevm.internal.Messages}), primitive collections for per-page bookkeeping, text made
 * safe for one-line messages. Not exported by the module; not part of the API.
 */
package io.qevm.internal;
