package io.qevm.cli;

import io.qevm.MigrationReader;
import io.qevm.ReadOptions;
import io.qevm.exc.MissingDescriptionException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The FILE of {@code stats}, {@code events} and {@code report}: a file the reader opens (any
 * container; {@code -} for standard input), with {@code --snapshot} for a qcow2 image.
 */
final class DumpInput {

    /** The options every one of them takes besides its own. */
    static final List<CommandLine.Option> COMMON = List.of(CommandLine.Option.value("--snapshot"),
            CommandLine.Option.flag("--debug"));

    private DumpInput() {
    }

    /** Opens {@code file} (relative to {@code workDir}; {@code -}: standard input) as the options say. */
    static MigrationReader open(CommandLine line, String file, Path workDir) throws IOException,
            Options.UsageException {
        return open(line, file, workDir, ReadOptions.builder());
    }

    /** {@link #open(CommandLine, String, Path)} with {@code read} as the base of the read options. */
    static MigrationReader open(CommandLine line, String file, Path workDir, ReadOptions.Builder read)
            throws IOException, Options.UsageException {
        ReadOptions options = options(line, read);
        if (file.equals("-")) {
            return MigrationReader.open(standardInput(), options);
        }
        return MigrationReader.open(workDir.resolve(file), options);
    }

    /** {@code read} with the snapshot that {@code --snapshot} names, if it names one. */
    static ReadOptions options(CommandLine line, ReadOptions.Builder read) throws Options.UsageException {
        String snapshot = line.value("--snapshot");
        if (snapshot != null) {
            if (snapshot.isEmpty()) {
                throw new Options.UsageException("argument --snapshot: empty snapshot ID or name");
            }
            read.snapshot(snapshot);
        }
        return read.build();
    }

    /** FILE {@code -}: standard input, with the larger pipe buffer when it is a pipe. */
    static InputStream standardInput() {
        Pipes.enlarge(0);
        return new FileInputStream(FileDescriptor.in);
    }

    /**
     * {@link #open(CommandLine, String, Path)}, and when a file has no JSON description (cut
     * short, or saved with suppress-vmdesc), open again for its RAM alone: the reader then stops
     * at the first device section ({@link MigrationReader#deviceStateSkippedAt()}). A stream
     * cannot be opened again: there the error comes at the device state.
     */
    static MigrationReader openForRam(CommandLine line, String file, Path workDir) throws IOException,
            Options.UsageException {
        try {
            return open(line, file, workDir);
        } catch (MissingDescriptionException e) {
            return open(line, file, workDir, ReadOptions.builder().disable(ReadOptions.Feature.REQUIRE_DESCRIPTION));
        }
    }

    /** After a run of {@link #openForRam}: the line that says the device state was not read, if it was not. */
    static void noteSkippedDeviceState(MigrationReader reader, String file, java.io.PrintStream err) {
        if (reader.deviceStateSkippedAt() >= 0) {
            err.println("qevm: " + file + ": at byte " + reader.deviceStateSkippedAt()
                    + ": no JSON VM description (the file is cut short, or was saved with suppress-vmdesc=on):"
                    + " the device state cannot be decoded, only RAM was read");
        }
    }

    /** Concatenates option lists. */
    static List<CommandLine.Option> with(CommandLine.Option... own) {
        java.util.ArrayList<CommandLine.Option> all = new java.util.ArrayList<>(List.of(own));
        all.addAll(COMMON);
        return List.copyOf(all);
    }
}
