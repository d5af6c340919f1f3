package io.qevm;

import static io.qevm.ReaderTests.PAGE;
import static io.qevm.ReaderTests.describe;
import static io.qevm.ReaderTests.ramSetup;
import static io.qevm.StreamBuilder.pattern;
import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qevm.StreamBuilder.Json;
import io.qevm.exc.MigrationReadException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A live source: a channel whose reads return no byte while nothing has arrived (a non-blocking
 * socket a migration source writes into), over a real OS pipe. QEMU with the return-path
 * capability sends its whole stream, JSON description included, and then waits for the
 * destination's answer before it closes: the reader must get to EOF on what arrived, without
 * waiting for more, even where it only looks ahead (the page size of a stream that does not give
 * it, the bytes after the description). It reads the same events as from a file.
 */
final class ReaderLiveSourceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String TIMER = Json.device("timer", 0, 2, Json.field("t", "int64", 8));

    /**
     * A stream that never gives its page size before its pages (an x86 machine: no
     * target-page-bits), RAM much smaller than the reader's look ahead of the page size (1 MiB),
     * a device, the description.
     */
    private static byte[] smallGuest() {
        StreamBuilder b = stream().configuration("pc-i440fx-7.2").openReturnPath().ping(1);
        ramSetup(b, 1, "pc.ram", 64L * PAGE);
        b.sectionPart(1);
        for (int page = 0; page < 64; page++) {
            if (page % 5 == 0) {
                b.page(page * (long) PAGE, page == 0 ? "pc.ram" : null, pattern(PAGE, page));
            } else {
                b.zeroPage(page * (long) PAGE, page == 0 ? "pc.ram" : null, 0);
            }
        }
        b.eos().footer(1).sectionEnd(1).eos().footer(1);
        return b.sectionFull(2, "timer", 0, 2).u64(7).footer(2).eof()
                .description(ReaderTests.desc(TIMER)).toByteArray();
    }

    /** Writes {@code bytes} into a pipe's sink on a thread, then keeps it open until {@link #close()} (or closes it at once). */
    private static final class Source implements AutoCloseable {
        final Pipe pipe;
        final CountDownLatch release = new CountDownLatch(1);
        final Thread writer;

        Source(byte[] bytes, boolean closeAfter) throws IOException {
            pipe = Pipe.open();
            pipe.source().configureBlocking(false);
            writer = Thread.ofPlatform().daemon().start(() -> {
                try {
                    ByteBuffer buffer = ByteBuffer.wrap(bytes);
                    while (buffer.hasRemaining()) {
                        pipe.sink().write(buffer);
                    }
                    if (!closeAfter) {
                        release.await(); // as QEMU waits for MIG_RP_MSG_SHUT
                    }
                    pipe.sink().close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        @Override
        public void close() throws IOException {
            release.countDown();
            try {
                writer.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the pipe is closed all the same
            }
            pipe.sink().close();
        }
    }

    private static List<String> events(MigrationReader reader) {
        List<String> lines = new ArrayList<>();
        for (MigrationEvent e = reader.next(); ; e = reader.next()) {
            lines.add(describe(reader));
            if (e == MigrationEvent.EOF) {
                return lines;
            }
        }
    }

    @Test
    void aSourceThatWaitsAfterItsDescriptionIsReadToEof() throws Exception {
        byte[] bytes = smallGuest();
        List<String> expected = ReaderTests.trace(bytes);
        try (Source source = new Source(bytes, false)) {
            assertTimeoutPreemptively(TIMEOUT, () -> {
                try (MigrationReader reader = MigrationReader.open(source.pipe.source(), ReadOptions.DEFAULT)) {
                    assertEquals(expected, events(reader));
                    assertEquals(-1, reader.trailingBytes(), "the source has not closed: what follows is not known");
                    assertEquals(PAGE, reader.ramPageSize());
                }
            });
        }
    }

    @Test
    void aSourceThatClosesAfterItsDescriptionEndsThere() throws Exception {
        byte[] bytes = smallGuest();
        try (Source source = new Source(bytes, true)) {
            assertTimeoutPreemptively(TIMEOUT, () -> {
                try (MigrationReader reader = MigrationReader.open(source.pipe.source(), ReadOptions.DEFAULT)) {
                    assertEquals(ReaderTests.trace(bytes), events(reader));
                    // the close arrives with the last bytes or soon after: either it is seen, or not yet
                    long trailing = reader.trailingBytes();
                    assertEquals(true, trailing == 0 || trailing == -1, "trailing bytes " + trailing);
                }
            });
        }
    }

    /** A source that pauses: the reader waits on the channel's selector, and does not spin. */
    @Test
    void aPauseIsWaitedOutWithoutSpinning() throws Exception {
        byte[] bytes = smallGuest();
        Pipe pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        Thread writer = Thread.ofPlatform().daemon().start(() -> {
            try {
                pipe.sink().write(ByteBuffer.wrap(bytes, 0, bytes.length / 2));
                Thread.sleep(1000);
                ByteBuffer rest = ByteBuffer.wrap(bytes, bytes.length / 2, bytes.length - bytes.length / 2);
                while (rest.hasRemaining()) {
                    pipe.sink().write(rest);
                }
                pipe.sink().close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long[] cpu = new long[1];
        assertTimeoutPreemptively(TIMEOUT, () -> {
            long before = threads.getCurrentThreadCpuTime();
            try (MigrationReader reader = MigrationReader.open(pipe.source(), ReadOptions.DEFAULT)) {
                assertEquals(ReaderTests.trace(bytes), events(reader));
            }
            cpu[0] = threads.getCurrentThreadCpuTime() - before;
        });
        writer.join(TimeUnit.SECONDS.toMillis(10));
        assertTrue(cpu[0] < 500_000_000L, "the reader used " + cpu[0] / 1_000_000 + " ms of CPU over a 1 s pause");
    }

    @Test
    void aSourceCutShortFailsAsAPipeWould() throws Exception {
        byte[] whole = smallGuest();
        for (int length : new int[] {whole.length / 4, whole.length / 2, whole.length - 100}) {
            byte[] cut = java.util.Arrays.copyOf(whole, length);
            MigrationReadException fromPipe = assertThrows(MigrationReadException.class,
                    () -> ReaderTests.trace(SourceKind.STREAM, cut, ReadOptions.DEFAULT));
            try (Source source = new Source(cut, true)) {
                assertTimeoutPreemptively(TIMEOUT, () -> {
                    try (MigrationReader reader = MigrationReader.open(source.pipe.source(), ReadOptions.DEFAULT)) {
                        MigrationReadException live = assertThrows(MigrationReadException.class, () -> events(reader));
                        assertEquals(fromPipe.getClass(), live.getClass());
                        assertEquals(fromPipe.getMessage(), live.getMessage());
                    }
                });
            }
        }
    }
}
