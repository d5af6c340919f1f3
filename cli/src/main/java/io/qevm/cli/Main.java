package io.qevm.cli;

import io.qevm.Container;
import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.consume.DescriptionWriter;
import io.qevm.consume.MigrationConsumer;
import io.qevm.consume.OutputFileException;
import io.qevm.consume.PageExtractor;
import io.qevm.consume.StateWriter;
import io.qevm.exc.MigrationReadException;
import io.qevm.exc.MissingDescriptionException;
import io.qevm.exc.TruncatedInputException;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * {@code qevm}: a drop-in for QEMU's scripts/analyze-migration.py. Prints one line on stderr for
 * every failure, and exits 0 on success, 1 for bad input or a failed output, 2 for bad usage,
 * 141 (quietly) when whoever read standard output went away.
 */
public final class Main {

    static final int OK = 0;
    static final int BAD_INPUT = 1;
    static final int BAD_USAGE = 2;

    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = Stdout.open();
        int code = run(Path.of("").toAbsolutePath(), out, System.err, args);
        try {
            out.flush();
        } catch (Stdout.Failure e) {
            if (code == OK) {
                code = stdoutFailed(e, System.err);
            }
        }
        System.exit(code);
    }

    /**
     * Runs the command as {@code qevm args} would, with relative paths resolved against
     * {@code workDir}; returns the exit code.
     */
    public static int run(Path workDir, PrintStream out, PrintStream err, String... args) {
        if (Subcommands.isSubcommand(args)) {
            return Subcommands.run(workDir, out, err, args);
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (Options.UsageException e) {
            err.println("qevm: error: " + e.getMessage() + " (see qevm --help)");
            return BAD_USAGE;
        }
        if (options.help()) {
            out.print(Options.HELP);
            return OK;
        }
        if (options.version()) {
            out.println("qevm " + version());
            return OK;
        }
        try {
            int code = options.listSnapshots() ? listSnapshots(options, workDir, out)
                    : options.incoming() != null ? LiveCapture.run(options, workDir, out, err)
                    : execute(options, workDir, out, err);
            out.flush();
            if (out.checkError()) {
                err.println("qevm: <stdout>: cannot write the output");
                return BAD_INPUT;
            }
            return code;
        } catch (IOException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            return failure(options, err, e);
        }
    }

    /**
     * The one line {@code e} is worth on {@code err} (nothing when {@code e} is the echo of a
     * signal, or of stdout gone), and the exit code.
     */
    static int failure(Options options, PrintStream err, Throwable e) {
        return failure(options.source(), options.debug(), options.ramOnly() ? ""
                : options.extract() ? "; extract RAM only with --ram-only"
                : "; its RAM alone can be extracted with -x --ram-only", err, e);
    }

    /**
     * {@link #failure(Options, PrintStream, Throwable)} for any command: {@code source} names
     * what was read, {@code noDescriptionHint} follows the message of a dump without a
     * description.
     */
    static int failure(String source, boolean debug, String noDescriptionHint, PrintStream err, Throwable e) {
        switch (e) {
            case Stdout.Failure f -> {
                return stdoutFailed(f, err);
            }
            case MissingDescriptionException m -> {
                err.println("qevm: " + source + ": " + m.getMessage() + noDescriptionHint);
            }
            case MigrationReadException m -> {
                // a truncation at byte 0 is an empty input ("empty file"): no offset to give
                boolean empty = m instanceof TruncatedInputException && m.position() == 0;
                err.println("qevm: " + source + ": " + (empty ? m.problem() : m.getMessage()));
            }
            case Aborted a -> {
                return BAD_INPUT; // never seen: the JVM exits with the signal's status
            }
            case OutputFileException o -> err.println("qevm: " + o.describe());
            case IncomingFailure i -> err.println("qevm: " + source + ": " + i.getMessage());
            case NoSuchFileException n -> {
                err.println("qevm: " + source + ": no such file");
                return BAD_INPUT;
            }
            case AccessDeniedException a -> {
                err.println("qevm: " + source + ": permission denied");
                return BAD_INPUT;
            }
            case IOException _, UncheckedIOException _ -> {
                if (e.getCause() instanceof OutputFileException output) {
                    // an output failed under the reader (an XBZRLE page of a stream reads back
                    // what was written; the --save file of a live capture)
                    err.println("qevm: " + output.describe());
                } else if (e.getCause() instanceof IncomingFailure incoming) {
                    err.println("qevm: " + source + ": " + incoming.getMessage()); // from the live source, under the reader
                } else {
                    err.println("qevm: " + source + ": cannot read: " + reason(e));
                }
            }
            case OutOfMemoryError o -> {
                err.println("qevm: " + source + ": out of memory (give the JVM more with QEVM_JAVA_OPTS=-Xmx8g)");
                return BAD_INPUT;
            }
            default -> err.println("qevm: " + source + ": internal error: " + e
                    + (debug ? "" : " (run with --debug for details)"));
        }
        if (debug) {
            e.printStackTrace(err);
        }
        return BAD_INPUT;
    }

    /** A write to stdout failed: quietly 141 when its reader went away, else one line and 1. */
    private static int stdoutFailed(Stdout.Failure e, PrintStream err) {
        if (e.brokenPipe()) {
            return Stdout.BROKEN_PIPE;
        }
        err.println("qevm: <stdout>: cannot write: " + reason(e.getCause()));
        return BAD_INPUT;
    }

    /**
     * {@code --list-snapshots}: the snapshot table, as qemu-img prints it. On standard input,
     * {@code /dev/stdin}: a file given with {@code <} is read as the file it is (a pipe is
     * refused: a qcow2 image is read by random access).
     */
    private static int listSnapshots(Options options, Path workDir, PrintStream out) throws IOException {
        Path file = options.file().equals("-") ? Path.of("/dev/stdin") : workDir.resolve(options.file());
        out.print(SnapshotList.format(MigrationReader.snapshots(file), ZoneId.systemDefault()));
        return OK;
    }

    private static int execute(Options options, Path workDir, PrintStream out, PrintStream err)
            throws IOException {
        // progress is closed first: a line on the terminal is erased before any error line
        try (MigrationReader reader = open(options, workDir);
             Progress progress = Progress.forStderr(reader, err, options.progress())) {
            noteContainers(options, reader, err);
            process(reader, options, workDir, out, err, progress);
            notePageSize(options, reader, err);
            noteTrailingBytes(options, reader, err);
            return OK;
        }
    }

    /**
     * What the options ask of {@code reader}'s stream: {@code -x}, {@code -d desc} or
     * {@code -d state} (with {@code -m}), with {@code progress} shown; {@code first} see every
     * event before the others (a live capture's return path).
     */
    static void process(MigrationReader reader, Options options, Path workDir, PrintStream out, PrintStream err,
                        Progress progress, MigrationConsumer... first) throws IOException {
        if (options.extract()) {
            extract(reader, options, workDir, out, err, progress, first);
        } else if (options.dump().equals("desc")) {
            if (!reader.isRandomAccess()) {
                // a stream: the description comes last, after all the RAM
                while (!reader.isDescriptionKnown()) {
                    MigrationEvent event = reader.next();
                    for (MigrationConsumer consumer : first) {
                        consumer.accept(event, reader);
                    }
                    progress.accept(event, reader);
                    if (event == MigrationEvent.EOF) {
                        break;
                    }
                }
                progress.finish(Progress.bytesRead(reader));
            }
            DescriptionWriter.write(reader, out, true);
        } else {
            try (StateWriter state = new StateWriter(options.memory())) {
                if (options.memory() && !reader.isRandomAccess()) {
                    reader.setPageStore(state.pageStore()); // XBZRLE pages of a stream apply to the spooled pages
                }
                MigrationConsumer.drive(reader, consumers(first, state, progress));
                state.writeTo(out, true);
            }
        }
    }

    /** {@code first}, then {@code rest}: the consumers of one pass, in the order they see each event. */
    private static MigrationConsumer[] consumers(MigrationConsumer[] first, MigrationConsumer... rest) {
        MigrationConsumer[] all = java.util.Arrays.copyOf(first, first.length + rest.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return all;
    }

    /** With --debug, what the stream was found in, outermost first, on one line. */
    static void noteContainers(Options options, MigrationReader reader, PrintStream err) {
        if (!options.debug() || reader.containers().isEmpty()) {
            return;
        }
        List<String> layers = new ArrayList<>();
        for (Container container : reader.containers()) {
            layers.add(switch (container) {
                case Container.Compressed c -> c.format() + " data from byte " + c.offset();
                case Container.LibvirtImage l -> "libvirt save image (" + l.magic() + ", version " + l.version()
                        + ", format " + l.format() + ", stream from byte " + l.streamOffset() + ")";
                case Container.Qcow2Snapshot q -> "qcow2 image, snapshot " + q.snapshot().id() + " '"
                        + q.snapshot().name() + "'";
            });
        }
        // names come from the file (a snapshot's tag): control characters must not break the line
        String line = String.join(" > ", layers).chars()
                .mapToObj(c -> c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : Character.toString(c))
                .collect(java.util.stream.Collectors.joining());
        err.println("qevm: " + options.source() + ": read from " + line);
    }

    /**
     * A --page-size the dump contradicted (its description or target-page-bits says another, or
     * its RAM records read only as pages of another size) was not used: the run says so, as it
     * succeeded with the dump's own size.
     */
    static void notePageSize(Options options, MigrationReader reader, PrintStream err) {
        long given = options.pageSize();
        long used = reader.ramPageSize();
        if (given > 0 && used > 0 && used != given) {
            err.println("qevm: " + options.source() + ": --page-size " + given + " not used: the dump's RAM pages are "
                    + used + " bytes (" + (reader.hasDescription() ? "its JSON VM description says so"
                    : "as its RAM records read") + ")");
        }
    }

    /**
     * With --debug, bytes after the JSON description (a state volume, padding, stale bytes),
     * which the reader ignored, are counted on one line; on a stream followed by more than the
     * reader reads past the description (16 MiB), the line says they were not read.
     */
    private static void noteTrailingBytes(Options options, MigrationReader reader, PrintStream err) {
        if (!options.debug() || !reader.hasDescription()) {
            return;
        }
        long trailing = reader.trailingBytes();
        if (trailing > 0) {
            err.println("qevm: " + options.file() + ": " + trailing + " bytes after the JSON description ignored");
        } else if (trailing < 0) {
            err.println("qevm: " + options.file() + ": bytes after the JSON description ignored, not read to their end");
        }
    }

    /** The file, or standard input for {@code -f -}, as the reference reads it. */
    private static MigrationReader open(Options options, Path workDir) throws IOException {
        ReadOptions read = readOptions(options);
        if (options.file().equals("-")) {
            Pipes.enlarge(0);
            return MigrationReader.open(new FileInputStream(FileDescriptor.in), read);
        }
        return MigrationReader.open(workDir.resolve(options.file()), read);
    }

    /** How the options ask the stream to be read. */
    static ReadOptions readOptions(Options options) {
        ReadOptions.Builder read = ReadOptions.builder();
        if (options.ramOnly()) {
            read.disable(ReadOptions.Feature.REQUIRE_DESCRIPTION);
        }
        if (options.pageSize() > 0) {
            read.pageSize(options.pageSize());
        }
        read.snapshot(options.snapshot());
        return read.build();
    }

    /**
     * {@code -x}: desc.json, one file per RAM block, state.json, as the reference writes them, all
     * renamed into place only when everything was written. The names are printed as the
     * reference prints them, desc.json first: on a stream, whose description comes last, they
     * wait until the reader knows whether there is one.
     */
    private static void extract(MigrationReader reader, Options options, Path workDir, PrintStream out,
                                PrintStream err, Progress progress, MigrationConsumer[] first) throws IOException {
        Path directory = options.outputDir() == null ? workDir : workDir.resolve(options.outputDir());
        Listing listing = new Listing(out);
        PageExtractor extractor = new PageExtractor(directory, listing::add,
                options.noClobber() ? new PageExtractor.Option[] {PageExtractor.Option.NO_CLOBBER}
                        : new PageExtractor.Option[0]);
        // SIGINT, SIGTERM, SIGHUP: the JVM runs its shutdown hooks, then exits 128 + the signal
        Thread abort = Thread.ofPlatform().name("qevm-abort").unstarted(extractor::abort);
        Runtime.getRuntime().addShutdownHook(abort);
        try (extractor) {
            if (!reader.isRandomAccess()) {
                reader.setPageStore(extractor); // XBZRLE pages of a stream apply to what was extracted
            }
            StateWriter state = new StateWriter();
            MigrationConsumer.drive(reader, consumers(first, listing, extractor, state, progress));
            boolean described = reader.hasDescription();
            if (described) {
                extractor.writeFile("desc.json", json(to -> DescriptionWriter.write(reader, to, false)));
                out.println("state.json");
                extractor.writeFile("state.json", json(to -> state.writeTo(to, false)));
            }
            // the file names printed are part of the output: if stdout failed, the run failed
            out.flush();
            if (out.checkError()) {
                throw new OutputFileException(Path.of("<stdout>"), "cannot write the output");
            }
            extractor.commit();
            if (!described) {
                err.println("qevm: " + options.source() + ": no JSON VM description: extracted RAM only,"
                        + " device state was not decoded");
            }
        } catch (IOException | RuntimeException | Error e) {
            if (extractor.isAborted()) {
                // a signal: the JVM is exiting 130 or 143 (this thread's exit waits for it), and
                // this failure (a write to a file closed under it) is only its echo
                throw new Aborted();
            }
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(abort);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs
            }
        }
    }

    /** What {@code write} writes, in memory: desc.json and state.json are written whole, their size known. */
    private static byte[] json(JsonWrite write) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        write.to(bytes);
        return bytes.toByteArray();
    }

    @FunctionalInterface
    private interface JsonWrite {
        void to(OutputStream out) throws IOException;
    }

    /** {@code -x} (or a live capture) was aborted by a signal: nothing to say, the exit status says it. */
    static final class Aborted extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Aborted() {
            super(null, null, false, false);
        }
    }

    /**
     * The names {@code -x} prints: "desc.json" when there is a description, then each block's
     * name as its file is made. Until the reader knows about the description, names wait here.
     */
    private static final class Listing implements MigrationConsumer {
        private final PrintStream out;
        private List<String> waiting = new ArrayList<>();

        Listing(PrintStream out) {
            this.out = out;
        }

        void add(String name) {
            if (waiting == null) {
                out.println(name);
            } else {
                waiting.add(name);
            }
        }

        @Override
        public void accept(MigrationEvent event, MigrationReader reader) {
            if (waiting != null && (reader.isDescriptionKnown() || event == MigrationEvent.EOF)) {
                if (reader.hasDescription()) {
                    out.println("desc.json");
                }
                waiting.forEach(out::println);
                waiting = null;
            }
        }
    }

    private static String reason(Throwable e) {
        if (e instanceof UncheckedIOException unchecked) {
            e = unchecked.getCause();
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message.replace('\n', ' ');
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            Properties properties = new Properties();
            if (in != null) {
                properties.load(in);
            }
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
