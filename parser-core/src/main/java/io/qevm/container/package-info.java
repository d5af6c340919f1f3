/**
 * What the bytes are wrapped in, told by content (magic bytes), never by file name: a bare QEMU
 * stream, a libvirt save image (its header and domain XML, its payload raw or compressed), a
 * qcow2 image, or gzip, bzip2, xz, zstd or lzop data, nested as they occur in practice
 * ({@link Containers#open} peels them, outermost first). Compressed data is decompressed on a
 * thread of its own, as it is read, into a small bounded queue that the reader's sequential
 * source reads ({@link DecompressingChannel}), so that memory stays bounded whatever the sizes.
 * Not part of the API: {@link io.qevm.MigrationReader}'s {@code open} methods use it, and
 * {@link io.qevm.Container} is what users see of it.
 */
package io.qevm.container;
