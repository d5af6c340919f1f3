/**
 * The {@code ram} section (migration/ram.c): {@link io.qevm.ram.RamSection} reads its records
 * and the MEM_SIZE block list, and hands each page record to the decoder of its RAM_SAVE_FLAG, one
 * class each (raw, zero, zlib, XBZRLE, mapped-ram); the page size is probed from the records
 * when the stream does not give it; earlier copies of pages for XBZRLE come from a page index on
 * a seekable source or a consumer's {@link io.qevm.PageStore}. Not exported by the module; not
 * part of the API.
 */
package io.qevm.ram;
