/**
 * Internals shared by the reader and the consumers: primitive collections for per-page
 * bookkeeping. Public only so that both packages can use them; not part of the API.
 */
package io.qevm.internal;
