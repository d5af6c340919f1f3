package io.qevm.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The process's standard output, on which a failed write ends the run at once. A
 * {@link PrintStream} would swallow the error ({@code checkError()}) and go on writing, and
 * reading what it writes: {@code qevm -f dump -d state -m | head} would format every page of
 * the dump for nobody. Java ignores SIGPIPE, so a reader that went away shows as EPIPE, an
 * IOException "Broken pipe": the CLI then exits quietly with 141, as a process killed by SIGPIPE
 * reports itself; any other failure (ENOSPC on /dev/full) is an error line and exit 1.
 */
final class Stdout extends OutputStream {

    /** The status a shell reports for a process killed by SIGPIPE: 128 + 13. */
    static final int BROKEN_PIPE = 141;

    private final OutputStream out;

    Stdout(OutputStream out) {
        this.out = out;
    }

    /** fd 1, buffered (64 KiB), behind a PrintStream as {@link Main#run} takes it. */
    static PrintStream open() {
        return new PrintStream(new BufferedOutputStream(new Stdout(new FileOutputStream(FileDescriptor.out)), 1 << 16),
                false);
    }

    @Override
    public void write(int b) {
        try {
            out.write(b);
        } catch (IOException e) {
            throw new Failure(e);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) {
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            throw new Failure(e);
        }
    }

    @Override
    public void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new Failure(e);
        }
    }

    /**
     * A write to standard output failed. Unchecked, so that it passes through the PrintStream and
     * the JSON writers to {@link Main#run}, ending the run where it happened.
     */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Failure(IOException cause) {
            super(cause.getMessage(), cause);
        }

        /** EPIPE: whoever read standard output went away (the JDK's message is strerror's). */
        boolean brokenPipe() {
            return "Broken pipe".equals(getCause().getMessage());
        }
    }
}
