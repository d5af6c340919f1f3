package io.qevm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reader gives the same events, offsets and values whatever its source: every sample is read
 * from the mapped file, from a heap array and as a stream (a few bytes a read), and a digest of
 * everything each event exposes is compared. Mapped-ram, XBZRLE, zlib, libvirt images, compressed
 * dumps included.
 */
class SourceKindsTest {

    static Stream<Path> samples() throws IOException {
        return Files.list(Samples.root()).filter(Files::isDirectory).sorted()
                .flatMap(folder -> {
                    try {
                        return Files.list(folder).filter(f -> f.toString().matches(
                                ".*\\.(mig|sav|mig\\.xz|mig\\.gz|mig\\.zst|mig\\.bz2|mig\\.lzo)"));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .filter(f -> !f.getFileName().toString().startsWith("j-")); // no description: fails alike
    }

    @ParameterizedTest
    @MethodSource("samples")
    void everySourceKindReadsAlike(Path dump) throws Exception {
        byte[] bytes = Samples.read(dump);
        String mapped;
        try (MigrationReader reader = SourceKind.MAPPED.open(bytes)) {
            mapped = EventDigest.of(reader);
        }
        for (SourceKind kind : new SourceKind[] {SourceKind.HEAP, SourceKind.STREAM}) {
            try (MigrationReader reader = kind.open(bytes)) {
                assertEquals(mapped, EventDigest.of(reader), dump.getFileName() + " from " + kind);
            }
        }
    }
}
