package io.qevm.cli;

import io.qevm.consume.OutputFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * {@code --save FILE}: the bytes a live capture receives, written as they arrive (before they
 * are parsed) into {@code FILE.partial}, renamed to {@code FILE} when the capture succeeds. A
 * file named FILE is thus always a whole stream. A capture that fails on the stream (cut,
 * broken, stalled, bad bytes) keeps {@code FILE.partial}: what the source sent, to look at
 * again; one refused (a capability qevm cannot serve) or interrupted by a signal leaves nothing.
 */
final class SaveFile {

    private final Path file;
    private final Path partial;
    private final FileChannel channel;
    private final boolean noClobber;
    private long written;
    private volatile boolean closed;

    private SaveFile(Path file, Path partial, FileChannel channel, boolean noClobber) {
        this.file = file;
        this.partial = partial;
        this.channel = channel;
        this.noClobber = noClobber;
    }

    /**
     * Starts {@code file}: creates (or empties) {@code file.partial}. With {@code noClobber}
     * ({@code --no-clobber}) a {@code file} that exists is refused now, before the source connects,
     * and again when the capture ends (one made meanwhile is not replaced either).
     */
    static SaveFile create(Path file, boolean noClobber) throws OutputFileException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        if (noClobber) {
            refuseExisting(file);
        }
        try {
            return new SaveFile(file, partial, FileChannel.open(partial, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE), noClobber);
        } catch (IOException e) {
            throw new OutputFileException(partial, e);
        }
    }

    /** {@code --no-clobber}: a {@code file} that exists (anything there, even a dangling link) is refused. */
    static void refuseExisting(Path file) throws OutputFileException {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new OutputFileException(file, "file exists");
        }
    }

    /** Appends {@code bytes} (all of what remains in it; its position is left as it was). */
    void write(ByteBuffer bytes) throws OutputFileException {
        ByteBuffer view = bytes.duplicate();
        try {
            while (view.hasRemaining()) {
                written += channel.write(view);
            }
        } catch (IOException e) {
            throw new OutputFileException(partial, e);
        }
    }

    long written() {
        return written;
    }

    /**
     * The capture succeeded: {@code FILE.partial} becomes {@code FILE}, replacing one that exists,
     * or with {@code --no-clobber} refusing to (then {@code FILE.partial} stays, the capture whole).
     */
    void commit() throws OutputFileException {
        try {
            channel.close();
            closed = true;
            if (!noClobber) {
                Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                return;
            }
            // rename(2) replaces silently; link(2) fails if the name exists, at the moment it is made
            Files.createLink(file, partial);
            Files.delete(partial);
        } catch (FileAlreadyExistsException e) {
            throw new OutputFileException(file, "file exists");
        } catch (IOException e) {
            throw new OutputFileException(file, e);
        }
    }

    /** The capture failed on the stream: {@code FILE.partial} stays, closed. */
    void keep() {
        close();
    }

    /** Refused or interrupted: {@code FILE.partial} goes. May be called from a signal's shutdown hook. */
    void discard() {
        close();
        try {
            Files.deleteIfExists(partial);
        } catch (IOException e) {
            // nothing more can be done about it
        }
    }

    private void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // what was written stays
        }
    }
}
