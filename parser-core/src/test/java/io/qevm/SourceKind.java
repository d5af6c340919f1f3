package io.qevm;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * The kinds of source a reader reads, each opened over the same bytes, as jackson-core runs its
 * parser tests over every input mode: a test that passes on one kind and fails on another is
 * the point. {@link #MAPPED} is a temporary file, mapped; {@link #HEAP} the array itself;
 * {@link #STREAM} an {@link InputStream} that hands out the bytes a few at a time, in sizes that
 * vary (1 to a few thousand bytes, seeded), so that the reader's window is refilled at every
 * kind of boundary.
 */
public enum SourceKind {
    MAPPED {
        @Override
        public MigrationReader open(byte[] bytes, ReadOptions options) {
            try {
                Path file = Files.createTempFile("qevm-test-", ".mig");
                file.toFile().deleteOnExit();
                Files.write(file, bytes);
                return MigrationReader.open(file, options);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    },
    HEAP {
        @Override
        public MigrationReader open(byte[] bytes, ReadOptions options) {
            return MigrationReader.open(bytes, options);
        }
    },
    STREAM {
        @Override
        public MigrationReader open(byte[] bytes, ReadOptions options) {
            try {
                return MigrationReader.open(trickle(bytes, bytes.length), options);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** A reader over {@code bytes} from this kind of source. */
    public abstract MigrationReader open(byte[] bytes, ReadOptions options);

    public MigrationReader open(byte[] bytes) {
        return open(bytes, ReadOptions.DEFAULT);
    }

    /** A stream of {@code bytes} that returns at most a few thousand bytes a read, the counts seeded by {@code seed}. */
    public static InputStream trickle(byte[] bytes, long seed) {
        Random random = new Random(seed);
        return new ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                int most = random.nextInt(8) == 0 ? 1 + random.nextInt(7) : 1 + random.nextInt(4096);
                return super.read(b, off, Math.min(len, most));
            }
        };
    }

    /**
     * The message of an error with the words that name the end of the data made the same for
     * every kind: a stream ends "the input", a file "the file"; an empty one is "empty input",
     * "empty file".
     */
    public static String sameForEveryKind(String message) {
        return message.replace("the end of the input", "the end of the file").replaceFirst("empty input$", "empty file");
    }
}
