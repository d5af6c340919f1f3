/**
 * qevm's library: a pull parser over QEMU migration streams ({@link io.qevm.MigrationReader}),
 * its consumers ({@code io.qevm.consume}) and its exceptions ({@code io.qevm.exc}). The other
 * packages are the reader's parts: byte sources and the cursor ({@code io}), the record scanner
 * ({@code record}), the RAM section and its page decoders ({@code ram}), the vmstate decoder
 * ({@code vmstate}), what the bytes are wrapped in (compression, libvirt images: {@code
 * container}), the VM state of qcow2 snapshots ({@code qcow2}), and shared internals
 * ({@code internal}).
 */
@SuppressWarnings("requires-automatic") // commons-compress is an automatic module
module io.qevm {
    requires transitive tools.jackson.core; // PythonJson hands out its JsonGenerator
    requires org.tukaani.xz;
    // libzstd through JNI: give it native access (--enable-native-access=com.github.luben.zstd_jni,
    // or ALL-UNNAMED on the class path), else Java 25 warns on stderr when it loads
    requires com.github.luben.zstd_jni;
    requires org.apache.commons.compress;
    // commons-compress's bzip2 decoder uses commons-io: commons-compress, an automatic module,
    // cannot say so itself
    requires org.apache.commons.io;

    exports io.qevm;
    exports io.qevm.consume;
    exports io.qevm.exc;
}
