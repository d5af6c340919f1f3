/**
 * The parts of {@link io.qevm.GuestMemory}: the per-block table of where each page's last copy
 * lies, the spool for pages that exist nowhere else, and the machines' guest-physical layouts.
 * Not part of the API (the module does not export it).
 */
package io.qevm.memory;
