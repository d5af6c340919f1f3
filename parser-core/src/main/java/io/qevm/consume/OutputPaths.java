package io.qevm.consume;

import io.qevm.internal.Text;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * Where an output named by the stream may go: under the output directory and nowhere else. A
 * RAM block's idstr becomes a relative path as the reference's {@code './' + name} makes it
 * (leading {@code /} dropped, inner {@code /} making subdirectories); names that would climb out
 * ({@code ..}), hold a NUL, or name nothing are refused, and no directory on the way may be a
 * symbolic link. Also the names of partial files, and the removal of those an earlier run left.
 */
final class OutputPaths {

    private OutputPaths() {
    }

    /**
     * The path {@code name} stands for under {@code root} (absolute and normalised).
     *
     * @throws OutputFileException if the name is refused
     */
    static Path resolve(Path root, String name) throws OutputFileException {
        if (name.indexOf('\0') >= 0) {
            throw new OutputFileException(root, "refusing RAM block name with a NUL byte: '" + printable(name) + "'");
        }
        int start = 0;
        while (start < name.length() && name.charAt(start) == '/') {
            start++;
        }
        String relative = name.substring(start);
        boolean named = false;
        for (String component : relative.split("/", -1)) {
            if (component.equals("..")) {
                throw new OutputFileException(root, "refusing RAM block name that climbs out of the output directory: '"
                        + printable(name) + "'");
            }
            named |= !component.isEmpty() && !component.equals(".");
        }
        if (!named || relative.endsWith("/") || relative.endsWith("/.") || relative.equals(".")) {
            throw new OutputFileException(root, "refusing RAM block name that names no file: '" + printable(name) + "'");
        }
        Path resolved;
        try {
            resolved = root.resolve(relative).normalize();
        } catch (RuntimeException e) {
            throw new OutputFileException(root, "refusing RAM block name that is not a valid path: '"
                    + printable(name) + "'");
        }
        if (!resolved.startsWith(root) || resolved.equals(root)) {
            throw new OutputFileException(root, "refusing RAM block name outside the output directory: '"
                    + printable(name) + "'");
        }
        return resolved;
    }

    /**
     * Creates the output directory {@code directory} and whichever of its parents are missing,
     * adding those it created to {@code created}, outermost first; returns its real path.
     *
     * @throws OutputFileException naming {@code directory} and the cause: "not a directory" when
     *                             it, or a directory on the way, is a file
     */
    static Path createRoot(Path directory, List<Path> created) throws OutputFileException {
        Path absolute = directory.toAbsolutePath();
        Deque<Path> missing = new ArrayDeque<>();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) { // follows links: a link to a directory is one
            missing.push(existing);
            existing = existing.getParent();
        }
        if (existing != null && !Files.isDirectory(existing)) {
            throw new OutputFileException(directory, existing.equals(absolute) ? "not a directory"
                    : notADirectory(existing));
        }
        for (Path next : missing) {
            try {
                Files.createDirectory(next);
                created.add(next);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(next)) { // made meanwhile, or a dangling link
                    throw new OutputFileException(directory, next.equals(absolute) ? "not a directory"
                            : notADirectory(next));
                }
            } catch (IOException e) {
                throw new OutputFileException(directory, e);
            }
        }
        try {
            return absolute.toRealPath();
        } catch (IOException e) {
            throw new OutputFileException(directory, e);
        }
    }

    /**
     * Creates the directories between {@code root} and {@code file}, refusing any that exists as
     * a symbolic link (it could point out of {@code root}); adds those it created to
     * {@code created}, outermost first, so that a failed run can remove them.
     *
     * @throws OutputFileException naming {@code file} when a directory cannot be created (a file
     *                             is in the way: "DIR is not a directory"), naming the link when
     *                             one is in the way
     */
    static void createParents(Path root, Path file, List<Path> created) throws OutputFileException {
        Path parent = file.getParent();
        Path relative = root.relativize(parent);
        Path current = root;
        for (Path component : relative) {
            current = current.resolve(component);
            if (Files.isSymbolicLink(current)) {
                throw new OutputFileException(current, "refusing to follow a symbolic link in the output directory");
            }
            if (!Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                    throw new OutputFileException(file, notADirectory(current));
                }
                try {
                    Files.createDirectory(current);
                    created.add(current);
                } catch (IOException e) {
                    throw new OutputFileException(file, e);
                }
            }
        }
    }

    private static String notADirectory(Path path) {
        return printable(path.toString()) + " is not a directory";
    }

    // ================================================================== partial files

    /**
     * The name of every partial file: {@code .qevm-} and 16 lower-case hex digits, then
     * {@code .partial}. A run removes the files of this name an earlier, killed, run left
     * ({@link #removeStalePartials}): no other name is ever removed.
     */
    private static final Pattern PARTIAL = Pattern.compile("\\.qevm-[0-9a-f]{16}\\.partial");
    private static final HexFormat HEX = HexFormat.of();

    /** A fresh partial file name beside {@code file}: random, so that it never names another output. */
    static Path partialSibling(Path file) {
        return file.resolveSibling(".qevm-" + HEX.toHexDigits(ThreadLocalRandom.current().nextLong()) + ".partial");
    }

    /** Whether {@code name} is one {@link #partialSibling} makes. */
    static boolean isPartialName(String name) {
        return PARTIAL.matcher(name).matches();
    }

    /**
     * Removes the partial files a killed run left in {@code directory} and its subdirectories,
     * {@code depth} levels down (1: the directory only), never following a symbolic link: regular
     * files named as {@link #partialSibling} names them, and of those only the ones no live
     * process writes. A running extraction holds a lock on each of its partial files
     * ({@link #lockAsLive}); a process that ended, however it ended, holds none. Best effort:
     * what cannot be read or removed is left.
     */
    static void removeStalePartials(Path directory, int depth) {
        try {
            Files.walkFileTree(directory, Set.of(), depth, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    if (attributes.isRegularFile() && file.getFileName() != null
                            && isPartialName(file.getFileName().toString())) {
                        removeIfStale(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE; // unreadable: not ours to clean
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }

    private static void removeIfStale(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (channel.tryLock() == null) {
                    return; // another process is writing it
                }
            } catch (OverlappingFileLockException e) {
                return; // this JVM is writing it
            } catch (IOException e) {
                // a file system without locks: no run can say it is live; an earlier one's file is stale
            }
            Files.deleteIfExists(file);
        } catch (IOException | UnsupportedOperationException e) {
            // cannot open or remove it: leave it
        }
    }

    /**
     * Takes the lock that marks a partial file as written by a live process (its channel holds it
     * until closed); false if another process holds it (a concurrent run sweeping: it is about to
     * remove the file, make another). A file system without locks gives no protection: true.
     */
    static boolean lockAsLive(FileChannel channel) {
        try {
            return channel.tryLock() != null;
        } catch (OverlappingFileLockException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** The name with control characters shown as escapes, for one-line messages. */
    static String printable(String name) {
        return Text.printable(name);
    }
}
