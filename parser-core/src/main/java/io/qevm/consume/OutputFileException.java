package io.qevm.consume;

import io.qevm.internal.Text;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * An output file or directory could not be written; {@link #path()} names it (the final name,
 * never the temporary one the file is written under) and the message says why, as the system
 * says it ("permission denied", "read-only file system", "no space left on device (wrote N of M
 * bytes)").
 */
public final class OutputFileException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path path;

    /**
     * {@code path} could not be written, for a reason of ours.
     *
     * @param path    the output's final path (or its directory)
     * @param problem why, in a few words
     */
    public OutputFileException(Path path, String problem) {
        super(problem);
        this.path = path;
    }

    /**
     * {@code path} could not be written because of {@code cause}, whose reason becomes the message.
     *
     * @param path  the output's final path (or its directory)
     * @param cause the failure of the file operation
     */
    public OutputFileException(Path path, IOException cause) {
        super(reason(cause), cause);
        this.path = path;
    }

    /**
     * {@code path} could not be written because of {@code cause} after {@code written} of the
     * {@code needed} bytes it needs were written ({@code needed} negative when not known).
     */
    OutputFileException(Path path, IOException cause, long written, long needed) {
        super(reason(cause) + (needed < 0 ? " (wrote " + written + " bytes)"
                : " (wrote " + written + " of " + needed + " bytes)"), cause);
        this.path = path;
    }

    /**
     * The cause of a failed file operation in the words of the system's error messages (lower
     * case, as in "permission denied"), without the file names Java adds to some of them: the
     * path is said once, by {@link #describe()}. The reasons Java gives as classes (EACCES,
     * ENOENT, EEXIST...) are spelled out; the others ({@code EROFS}, {@code ENOSPC},
     * {@code EFBIG}, {@code ENOTDIR}...) come as the {@code strerror} text, either as a
     * {@link FileSystemException}'s reason or as a plain {@code IOException}'s message (from
     * {@code FileChannel.write}).
     */
    static String reason(IOException e) {
        if (e instanceof OutputFileException output) {
            return output.getMessage();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "file exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof ClosedChannelException) {
            return "the file was closed (the extraction was aborted)";
        }
        String reason = e instanceof FileSystemException fs ? fs.getReason() : e.getMessage();
        if (reason == null || reason.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // strerror's "No space left on device" reads as the rest of our messages: lower case
        if (reason.length() > 1 && Character.isUpperCase(reason.charAt(0)) && Character.isLowerCase(reason.charAt(1))) {
            reason = Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
        }
        return reason.replace('\n', ' ');
    }

    /**
     * One line for a user: the path and the problem, with control characters (from block names
     * in the stream) shown as escapes.
     *
     * @return {@code PATH: cannot write: CAUSE}
     */
    public String describe() {
        return Text.printable(String.valueOf(path)) + ": cannot write: " + Text.printable(getMessage());
    }

    /**
     * The file or directory that could not be written.
     *
     * @return its final path
     */
    public Path path() {
        return path;
    }
}
