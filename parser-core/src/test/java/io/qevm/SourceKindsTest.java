package io.qevm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reader gives the same events, offsets and values whatever its source: every sample is read
 * from the mapped file, from a heap array and as a stream (a few bytes a read), and a digest of
 * everything each event exposes is compared. Mapped-ram, XBZRLE, zlib, libvirt images included.
 */
class SourceKindsTest {

    static Stream<Path> samples() throws IOException {
        return Files.list(Samples.root()).filter(Files::isDirectory).sorted()
                .flatMap(folder -> {
                    try {
                        return Files.list(folder).filter(f -> f.toString().endsWith(".mig")
                                || f.toString().endsWith(".sav") || f.toString().endsWith(".mig.xz"));
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
            mapped = digest(reader);
        }
        for (SourceKind kind : new SourceKind[] {SourceKind.HEAP, SourceKind.STREAM}) {
            try (MigrationReader reader = kind.open(bytes)) {
                assertEquals(mapped, digest(reader), dump.getFileName() + " from " + kind);
            }
        }
    }

    /** SHA-256 over each event, its offsets and what its accessors give. */
    private static String digest(MigrationReader reader) throws NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        KeptPages kept = new KeptPages(); // XBZRLE from a stream: the pages' earlier copies are kept here
        if (!reader.isRandomAccess()) {
            reader.setPageStore(kept);
        }
        for (MigrationEvent e = reader.next(); ; e = reader.next()) {
            StringBuilder line = new StringBuilder().append(e).append(' ').append(reader.eventOffset()).append(' ')
                    .append(reader.position());
            switch (e) {
                case SECTION_START -> line.append(reader.sectionName()).append(reader.sectionId())
                        .append(reader.recordType());
                case RAM_BLOCK -> line.append(reader.blockName()).append(reader.blockLength());
                case RAM_PAGE -> {
                    line.append(reader.blockName()).append(reader.pageOffset()).append(reader.pageEncoding())
                            .append(reader.pageSourceOffset());
                    sha.update(reader.page().toArray(ValueLayout.JAVA_BYTE));
                    kept.keep(reader);
                }
                case ZERO_PAGE -> {
                    line.append(reader.blockName()).append(reader.pageOffset()).append(reader.fillByte());
                    kept.keep(reader);
                }
                case FIELD -> {
                    line.append(reader.fieldPath()).append(reader.fieldIndex());
                    MemorySegment bytes = reader.fieldBytes();
                    sha.update(bytes.toArray(ValueLayout.JAVA_BYTE));
                }
                case STRUCT_START -> line.append(reader.fieldName()).append(reader.fieldIndex());
                case SUBSECTION -> line.append(reader.subsectionName()).append(reader.subsectionVersion());
                case COMMAND -> line.append(reader.commandType());
                case CONFIGURATION -> line.append(reader.machineName()).append(reader.capabilities());
                default -> {
                }
            }
            sha.update(line.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (e == MigrationEvent.EOF) {
                return HexFormat.of().formatHex(sha.digest());
            }
        }
    }
}
