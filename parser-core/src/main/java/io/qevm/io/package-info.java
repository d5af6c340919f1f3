/**
 * The bytes: one {@link io.qevm.io.ByteSource} per kind of source (a mapped file, a heap array,
 * a non-seekable stream read through a sliding window), the {@link io.qevm.io.ByteCursor} every
 * part of the reader reads them through (one bounds check, length-delimited limits, views), and
 * the {@link io.qevm.io.ReadLocation} every exception is located by. Not exported by the module;
 * not part of the API.
 */
package io.qevm.io;
