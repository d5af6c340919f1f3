package io.qevm.consume;

import io.qevm.internal.Text;
import java.io.IOException;
import java.nio.file.Path;

/** An output file or directory could not be written; {@link #path()} names it. */
public final class OutputFileException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path path;

    /**
     * An output that cannot be written, and why.
     *
     * @param path    the file or directory
     * @param problem why, in a few words
     */
    public OutputFileException(Path path, String problem) {
        super(problem);
        this.path = path;
    }

    /**
     * An output that cannot be written because of an I/O error, whose message says why.
     *
     * @param path  the file or directory
     * @param cause the error
     */
    public OutputFileException(Path path, IOException cause) {
        super(cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(), cause);
        this.path = path;
    }

    /**
     * {@return one line for a user: the path and the problem, with control characters (from block names
     * in the stream) shown as escapes}
     */
    public String describe() {
        return Text.printable(String.valueOf(path)) + ": cannot write: " + Text.printable(getMessage());
    }

    /** {@return the file or directory that could not be written} */
    public Path path() {
        return path;
    }
}
