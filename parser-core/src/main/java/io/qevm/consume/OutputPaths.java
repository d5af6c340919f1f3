package io.qevm.consume;

import io.qevm.internal.Text;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Where an output named by the stream may go: under the output directory and nowhere else. A
 * RAM block's idstr becomes a relative path as the reference's {@code './' + name} makes it
 * (leading {@code /} dropped, inner {@code /} making subdirectories); names that would climb out
 * ({@code ..}), hold a NUL, or name nothing are refused, and no directory on the way may be a
 * symbolic link.
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
     * Creates the directories between {@code root} and {@code file}, refusing any that exists as
     * a symbolic link (it could point out of {@code root}); adds those it created to
     * {@code created}, outermost first, so that a failed run can remove them.
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
                try {
                    Files.createDirectory(current);
                    created.add(current);
                } catch (IOException e) {
                    throw new OutputFileException(current, e);
                }
            }
        }
    }

    /** The name with control characters shown as escapes, for one-line messages. */
    static String printable(String name) {
        return Text.printable(name);
    }
}
