package io.qevm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A digest of everything a reader exposes, event by event: two readers that give the same one
 * read alike ({@link SourceKindsTest}: every kind of source; the container tests: a dump and its
 * compressed or wrapped forms).
 */
public final class EventDigest {

    private EventDigest() {
    }

    /** SHA-256 over each event, its offsets and what its accessors give. */
    public static String of(MigrationReader reader) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
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
            sha.update(line.toString().getBytes(StandardCharsets.UTF_8));
            if (e == MigrationEvent.EOF) {
                return HexFormat.of().formatHex(sha.digest());
            }
        }
    }
}
