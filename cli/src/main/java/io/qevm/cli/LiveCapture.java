package io.qevm.cli;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.RecordType;
import io.qevm.consume.MigrationConsumer;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.TruncatedInputException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code qevm --incoming URI}: the destination of a live migration. It listens as QEMU's
 * {@code -incoming} does, takes the source's connection, reads the stream through the same
 * reader as {@code -f -} (the {@link Connection} is its channel), produces what {@code -f}
 * would of the same bytes, answers the return path ({@link ReturnPath}) and tells the source it
 * is done only once everything is written. Nothing on stdout but that output; on stderr the
 * address it listens on (with progress, {@code --debug}, or a port 0 given), the progress line,
 * and with {@code --debug} the passes of a live migration ({@link LiveStats}).
 *
 * <p>On failure: one line naming the byte offset (the stream cut or broken, a source that
 * stalls past {@code --timeout}) or the capability refused, exit 1; the source is told
 * (MIG_RP_MSG_SHUT with an error, or the connection closed) and its migration fails, its VM
 * running on. A signal (SIGINT, SIGTERM, SIGHUP) leaves nothing: the unix socket's path, the
 * {@code --save} file and the {@code -x} files all go; the JVM exits 130, 143, 129.
 */
final class LiveCapture {

    private final Options options;
    private final PrintStream err;
    /** Held while the main thread publishes what the signal's hook undoes, and by the hook. */
    private final Object lock = new Object();
    private volatile Listener listener;
    private volatile Connection connection;
    private volatile SaveFile save;
    private volatile boolean aborted;

    private LiveCapture(Options options, PrintStream err) {
        this.options = options;
        this.err = err;
    }

    /** Runs the capture {@code options} ask for; returns the exit code (a failure said on {@code err}). */
    static int run(Options options, Path workDir, PrintStream out, PrintStream err) {
        return new LiveCapture(options, err).capture(workDir, out);
    }

    private int capture(Path workDir, PrintStream out) {
        Thread hook = Thread.ofPlatform().name("qevm-incoming-abort").unstarted(this::abort);
        Runtime.getRuntime().addShutdownHook(hook);
        boolean done = false;
        boolean refused = false;
        boolean received = false; // the whole stream read and drained: only saving it may fail now
        try {
            IncomingUri uri = options.incoming();
            if (options.save() != null && options.noClobber()) {
                SaveFile.refuseExisting(workDir.resolve(options.save())); // before the source is let in
            }
            // what the signal's hook undoes is published (under the lock) before it is made
            try {
                synchronized (lock) {
                    checkNotAborted();
                    listener = Listener.create(uri, workDir);
                }
                listener.bind();
            } catch (IOException e) {
                checkNotAborted();
                throw IncomingFailure.cannotListen(e);
            }
            String address = listener.address();
            if (options.debug() || uri.port() == 0 || showsProgress()) {
                err.println("qevm: listening on " + address);
            }
            synchronized (lock) {
                checkNotAborted();
                if (options.save() != null) {
                    save = SaveFile.create(workDir.resolve(options.save()), options.noClobber());
                }
            }
            Connection accepted = listener.accept(TimeUnit.SECONDS.toNanos(options.timeoutSeconds()), save);
            synchronized (lock) {
                if (aborted) {
                    accepted.close();
                }
                checkNotAborted();
                connection = accepted;
            }
            if (options.debug()) {
                err.println("qevm: " + uri.uri() + ": the source connected");
            }
            MigrationReader reader = open();
            LiveStats stats = new LiveStats();
            ReturnPath returnPath = new ReturnPath(connection::send);
            MigrationConsumer watch = watchForChannels(connection);
            try (reader;
                 Progress progress = Progress.forStderr(reader, err, options.progress()).detail(stats::progressDetail)) {
                try {
                    Main.noteContainers(options, reader, err);
                    Main.process(reader, options, workDir, out, err, progress, returnPath, watch, stats);
                    out.flush();
                } catch (IOException | RuntimeException | Error e) {
                    if (!aborted) {
                        returnPath.fail(); // while the connection is open: closing the reader closes it
                    }
                    throw e;
                }
                if (out.checkError()) {
                    returnPath.fail();
                    return Main.BAD_INPUT; // Main.run names stdout
                }
                // everything is written: now the source may complete (with a return path it waits for this)
                returnPath.finish();
                boolean closed = connection.finish();
                received = true;
                if (save != null) {
                    save.commit();
                }
                done = true;
                Main.notePageSize(options, reader, err);
                if (options.debug()) {
                    noteTheEnd(reader, closed);
                    stats.printSummary(err, uri.uri());
                    if (connection.lostAnswer() != null) {
                        err.println("qevm: " + uri.uri() + ": " + connection.lostAnswer().getMessage());
                    }
                    if (connection.strayConnections() > 0) {
                        err.println("qevm: " + uri.uri() + ": " + connection.strayConnections()
                                + " other connection(s) came meanwhile, and were closed");
                    }
                }
            }
            return Main.OK;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            if (aborted || e instanceof Main.Aborted) {
                return Main.BAD_INPUT; // the signal's echo: the JVM exits with the signal's status
            }
            refused = refusal(e);
            int code = Main.failure(options, err, e);
            SaveFile saved = save;
            if (saved != null && !refused) {
                saved.keep();
                err.println("qevm: " + options.save() + ".partial: kept the " + saved.written()
                        + (received ? " bytes received (the whole stream)"
                                : " bytes received (the stream up to where it failed)"));
            }
            return code;
        } finally {
            if (!aborted) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is shutting down: the hook runs
                }
            }
            close(done, refused);
        }
    }

    /**
     * With --debug: bytes the source sent after the JSON description (QEMU sends none), and a
     * source that did not close its end once told the capture was done.
     */
    private void noteTheEnd(MigrationReader reader, boolean closed) {
        String uri = options.incoming().uri();
        if (reader.hasDescription()) {
            long end = reader.descriptionJsonOffset() + reader.descriptionJson().byteSize();
            long trailing = connection.received() - end;
            if (trailing > 0) {
                err.println("qevm: " + uri + ": " + trailing + " bytes after the JSON description ignored");
            }
        }
        if (!closed) {
            err.println("qevm: " + uri + ": the source had not closed the connection " + Connection.DRAIN_SECONDS
                    + " s after the capture ended: closed here");
        }
    }

    /**
     * Looks for the channels of a source with multifd where its RAM is complete (at the first
     * device section, where a stream's JSON description becomes known, and at EOF): before
     * anything is written, and before -d desc stops reading.
     */
    private static MigrationConsumer watchForChannels(Connection connection) {
        return (event, reader) -> {
            if (event == MigrationEvent.EOF
                    || event == MigrationEvent.SECTION_START && reader.recordType() == RecordType.FULL) {
                connection.checkOtherConnections();
            }
        };
    }

    /** The reader over the connection; a first connection that is a multifd channel is refused. */
    private MigrationReader open() throws IOException {
        try {
            return MigrationReader.open(connection, Main.readOptions(options));
        } catch (MigrationReadException e) {
            if (connection.firstWord() == Connection.MULTIFD_MAGIC) {
                throw IncomingFailure.refused("multifd", "its first connection is a multifd channel");
            }
            if (e instanceof TruncatedInputException && connection.received() == 0) {
                throw IncomingFailure.empty();
            }
            throw e;
        }
    }

    private boolean showsProgress() {
        return options.progress() == Options.PROGRESS_ON
                || options.progress() == Options.PROGRESS_AUTO && Boolean.getBoolean("qevm.stderr.tty");
    }

    private static boolean refusal(Throwable e) {
        Throwable failure = e instanceof UncheckedIOException unchecked ? unchecked.getCause() : e;
        return failure instanceof IncomingFailure incoming && incoming.isRefusal();
    }

    /**
     * Closes what is open. The --save file was made FILE when the capture succeeded; else it goes
     * when the source was refused, and stays as FILE.partial when the stream failed.
     */
    private void close(boolean done, boolean refused) {
        if (connection != null) {
            connection.close();
        }
        if (listener != null) {
            listener.close();
        }
        SaveFile saved = save;
        if (saved != null && !done && !aborted) {
            if (refused) {
                saved.discard();
            } else {
                saved.keep();
            }
        }
    }

    /** A signal: stops listening and reading, and removes what the capture made. */
    private void abort() {
        Connection c;
        Listener l;
        SaveFile s;
        synchronized (lock) {
            aborted = true;
            c = connection;
            l = listener;
            s = save;
        }
        if (c != null) {
            c.abort();
        }
        if (l != null) {
            l.abort();
        }
        if (s != null) {
            s.discard();
        }
    }

    /** A signal came: the main thread stops making anything. */
    private void checkNotAborted() {
        if (aborted) {
            throw new Main.Aborted();
        }
    }
}
