package io.qevm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qevm.Samples;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bytes after the JSON description (a state volume, a reused one): ignored, the output that of
 * the stream alone; {@code --debug} counts them on one line of standard error, on a file and
 * on standard input; on standard input with more than the reader reads past the description,
 * it says they were not read.
 */
final class TrailingBytesCliTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path work;

    private static String sha256(Path file) throws IOException {
        try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file),
                MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(in.getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The sample's expected {@code -d state}. */
    private static byte[] expectedState(String sample) throws IOException {
        return Files.readAllBytes(Samples.folder(sample).resolve("expected").resolve("state.json"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a-pc-paused-volume 3585739", "n-q35-devices-stale-tail 131180"})
    void debugCountsThem(String sampleAndCount) throws IOException {
        String sample = sampleAndCount.split(" ")[0];
        String count = sampleAndCount.split(" ")[1];
        Path dump = Samples.dump(sample);
        CliRun quiet = CliRun.inProcess(work, TIMEOUT, "-f", dump.toString(), "-d", "state");
        assertEquals("", quiet.err());
        assertEquals(0, quiet.exit());
        assertArrayEquals(expectedState(sample), quiet.out());
        CliRun file = CliRun.inProcess(work, TIMEOUT, "-f", dump.toString(), "-d", "state", "--debug");
        assertEquals("qevm: " + dump + ": " + count + " bytes after the JSON description ignored\n", file.err());
        assertArrayEquals(expectedState(sample), file.out());
        CliRun piped = CliRun.childWithStdin(work, dump, TIMEOUT, List.of("-f", "-", "-d", "desc", "--debug"));
        assertEquals("qevm: -: " + count + " bytes after the JSON description ignored\n", piped.err());
        assertEquals(0, piped.exit());
    }

    /**
     * A state volume piped in (here 40 MiB of zeros after a-pc-paused): read up to 16 MiB past
     * the description and no further; the writer is left to its broken pipe.
     */
    @ParameterizedTest
    @ValueSource(strings = {"-d state", "-x"})
    void aVolumeOnStandardInputIsNotReadToItsEnd(String mode) throws IOException {
        Path dump = Samples.dump("a-pc-paused");
        Path volume = work.resolve("vm-100-state-snap.raw");
        Files.copy(dump, volume);
        try (RandomAccessFile file = new RandomAccessFile(volume.toFile(), "rw")) {
            file.setLength(file.length() + (40L << 20)); // sparse: zeros
        }
        List<String> args = new ArrayList<>(List.of("-f", "-", "--debug"));
        args.addAll(List.of(mode.split(" ")));
        CliRun piped = CliRun.childWithStdin(work, volume, TIMEOUT, args);
        assertEquals("qevm: -: bytes after the JSON description ignored, not read to their end\n", piped.err());
        assertEquals(0, piped.exit());
        if (mode.equals("-d state")) {
            assertArrayEquals(expectedState("a-pc-paused"), piped.out());
        } else {
            // the files -x writes, as extract.sha256 lists them: "sha256  size  path"
            for (String line : Files.readAllLines(Samples.folder("a-pc-paused").resolve("expected")
                    .resolve("extract.sha256"))) {
                String[] entry = line.split("  ");
                assertEquals(entry[0], sha256(work.resolve(entry[2])), entry[2]);
            }
        }
        CliRun fromFile = CliRun.inProcess(work, TIMEOUT, "-f", volume.toString(), "-d", "desc", "--debug");
        assertEquals("qevm: " + volume + ": " + (Files.size(volume) - Files.size(dump))
                + " bytes after the JSON description ignored\n", fromFile.err());
    }
}
