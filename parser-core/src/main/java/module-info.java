/**
 * qevm's library: a pull parser over QEMU migration streams ({@link io.qevm.MigrationReader}),
 * its consumers ({@code io.qevm.consume}) and its exceptions ({@code io.qevm.exc}). The other
 * packages are the reader's parts: byte sources and the cursor ({@code io}), the record scanner
 * ({@code record}), the RAM section and its page decoders ({@code ram}), the vmstate decoder
 * ({@code vmstate}), and shared internals ({@code internal}).
 */
module io.qevm {
    requires transitive tools.jackson.core; // PythonJson hands out its JsonGenerator
    requires aircompressor.v3; // zstd for qcow2 compressed clusters (an automatic module: named after its jar)

    exports io.qevm;
    exports io.qevm.consume;
    exports io.qevm.exc;
}
