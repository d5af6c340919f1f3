package io.qevm.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.github.luben.zstd.ZstdOutputStream;
import io.qevm.CleanFailure;
import io.qevm.Samples;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compressed dumps through the CLI: read as the bare dump is, from a file and from standard
 * input; broken ones fail with exit 1 and one line naming the byte of the compressed file where
 * they broke, or the byte of the decompressed stream, saying which.
 */
final class CompressedInputCliTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path work;

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    private static byte[] zstd(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new ZstdOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    @Test
    void aZstdDumpOnStandardInput() throws IOException {
        Path dump = Files.write(work.resolve("dump.zst"), zstd(CleanFailure.sample("n-pc-paused")));
        CliRun run = CliRun.childWithStdin(work, dump, TIMEOUT, List.of("-f", "-", "-d", "state"));
        assertEquals("", run.err());
        assertEquals(0, run.exit());
        assertArrayEquals(Files.readAllBytes(Samples.folder("n-pc-paused").resolve("expected/state.json")), run.out());
    }

    @Test
    void aTruncatedGzipFile() throws IOException {
        byte[] compressed = gzip(CleanFailure.sample("n-pc-paused"));
        int cut = compressed.length / 2;
        Files.write(work.resolve("cut.mig.gz"), Arrays.copyOf(compressed, cut));
        CliRun run = CliRun.inProcess(work, TIMEOUT, "-f", "cut.mig.gz", "-d", "state");
        assertEquals(1, run.exit());
        assertEquals("qevm: cut.mig.gz: at byte 0x" + Integer.toHexString(cut) + " (" + cut + ") of the file: expected"
                + " more gzip data, found the end of the file (truncated?)\n", run.err());
    }

    @Test
    void aTruncatedZstdStreamOnStandardInput() throws IOException {
        byte[] compressed = zstd(CleanFailure.sample("n-pc-paused"));
        int cut = compressed.length - 3;
        Path dump = Files.write(work.resolve("cut.zst"), Arrays.copyOf(compressed, cut));
        CliRun run = CliRun.childWithStdin(work, dump, TIMEOUT, List.of("-f", "-", "-x"));
        assertEquals(1, run.exit());
        assertEquals("qevm: -: at byte 0x" + Integer.toHexString(cut) + " (" + cut + ") of the input: expected more"
                + " zstd data, found the end of the input (truncated?)\n", run.err());
        try (var files = Files.list(work)) {
            assertEquals(List.of(dump), files.toList(), "-x left nothing behind");
        }
    }

    /** A stream cut short inside complete compression: the offset in the decompressed stream, said to be one. */
    @Test
    void aTruncatedDumpInsideGzip() throws IOException {
        Files.write(work.resolve("short.mig.gz"), gzip(Arrays.copyOf(CleanFailure.sample("n-pc-paused"), 300_000)));
        CliRun run = CliRun.inProcess(work, TIMEOUT, "-f", "short.mig.gz");
        assertEquals(1, run.exit());
        String line = run.err();
        assertEquals(1, line.lines().count(), line);
        assertEquals(true, line.matches("qevm: short\\.mig\\.gz: at byte 0x[0-9a-f]+ \\(\\d+\\) of the"
                + " gzip-decompressed stream, section 'ram' #\\d+: .*found the end of the gzip-decompressed stream \\(at"
                + " byte 300000\\)\n"), line);
    }

    @Test
    void aQcow2ImageInsideGzip() throws IOException {
        byte[] qcow2 = new byte[1024];
        qcow2[0] = 'Q';
        qcow2[1] = 'F';
        qcow2[2] = 'I';
        qcow2[3] = (byte) 0xfb;
        Files.write(work.resolve("disk.qcow2.gz"), gzip(qcow2));
        CliRun run = CliRun.inProcess(work, TIMEOUT, "-f", "disk.qcow2.gz", "-d", "desc");
        assertEquals(1, run.exit());
        assertEquals("qevm: disk.qcow2.gz: at byte 0x0 (0) of the gzip-decompressed stream: found a qcow2 image in"
                + " the gzip-decompressed stream: qcow2 needs random access, decompress it first\n", run.err());
        assertEquals(0, run.out().length, new String(run.out(), UTF_8));
    }

    /** --debug says what the stream was found in, outermost first: the real gzip libvirt sample. */
    @Test
    void debugNamesTheContainers() throws IOException {
        Path image = Samples.dump("k-libvirt-save-gzip");
        CliRun run = CliRun.inProcess(work, TIMEOUT, "-f", image.toString(), "-d", "desc", "--debug");
        assertEquals(0, run.exit(), run.err());
        // the header's data_len (XML and padding) puts the stream at 92 + data_len
        long streamAt = 92 + Integer.toUnsignedLong(java.nio.ByteBuffer.wrap(Files.readAllBytes(image), 20, 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
        assertEquals("qevm: " + image + ": read from libvirt save image (LibvirtQemudSave, version 2, format 1, stream"
                + " from byte " + streamAt + ") > gzip data from byte " + streamAt + System.lineSeparator(), run.err());
    }
}
