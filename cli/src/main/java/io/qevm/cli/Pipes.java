package io.qevm.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Standard input as a pipe: Linux gives a pipe 64 KiB of buffer, so {@code cat dump | qevm -f -}
 * switches between writer and reader every 64 KiB and moves about 1 GB/s; a 1 MiB buffer lets
 * both run (measured on the 3.2 GB dump: 3.5 s with 64 KiB, 0.7-1.1 s with 1 MiB, for a reader
 * that does nothing else: parser-bench/scripts/pipe-read.py, results/issue8/pipe-read.log). Best
 * effort: on anything but a pipe, or where the system refuses, nothing changes.
 */
@SuppressWarnings("restricted") // fcntl through the FFM linker: the jar enables native access
final class Pipes {

    /** fcntl(2) F_SETPIPE_SZ: F_LINUX_SPECIFIC_BASE (1024) + 7. */
    private static final int F_SETPIPE_SZ = 1031;
    /** The most an unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size). */
    static final int BUFFER = 1 << 20;

    private Pipes() {
    }

    /** Asks for a larger buffer on pipe {@code fd}; true when the system granted it. */
    static boolean enlarge(int fd) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle fcntl = linker.downcallHandle(linker.defaultLookup().find("fcntl").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT),
                    Linker.Option.firstVariadicArg(2));
            return (int) fcntl.invokeExact(fd, F_SETPIPE_SZ, BUFFER) >= BUFFER;
        } catch (Throwable e) {
            return false; // not Linux, no native access, or EBADF/EINVAL/EPERM: the default buffer will do
        }
    }
}
