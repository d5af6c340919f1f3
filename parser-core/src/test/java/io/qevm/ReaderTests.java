package io.qevm;

import static io.qevm.StreamBuilder.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qevm.StreamBuilder.Json;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the reader's API tests share ({@link MigrationReaderTest} and the {@code Reader*Test}
 * classes grouped by feature): events as one-line traces ({@link #describe}), read from every
 * {@link SourceKind} and compared, so that a failure shows the whole sequence and a source that
 * reads unlike the others fails; and the small streams most tests start from.
 */
final class ReaderTests {

    static final int PAGE = 4096;
    static final String[] NONE = {};
    private static final java.util.HexFormat HEX = java.util.HexFormat.of();
    private static final int MAX_EVENTS = 100_000;

    private ReaderTests() {
    }

    // ------------------------------------------------------------------ traces

    /** {@link #trace(byte[], ReadOptions)} with the default options. */
    static List<String> trace(byte[] bytes) {
        return trace(bytes, ReadOptions.DEFAULT);
    }

    /**
     * Every event up to and including the first EOF, as {@link #describe} lines: read from each
     * {@link SourceKind}, the traces asserted identical, one returned.
     */
    static List<String> trace(byte[] bytes, ReadOptions options) {
        List<String> mapped = trace(SourceKind.MAPPED, bytes, options);
        for (SourceKind kind : SourceKind.values()) {
            if (kind != SourceKind.MAPPED) {
                assertEquals(mapped, trace(kind, bytes, options), "the events read from " + kind
                        + " differ from those read from the mapped file");
            }
        }
        return mapped;
    }

    /** Every event up to and including the first EOF, read from one kind of source. */
    static List<String> trace(SourceKind kind, byte[] bytes, ReadOptions options) {
        try (MigrationReader reader = kind.open(bytes, options)) {
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < MAX_EVENTS; i++) {
                reader.next();
                lines.add(describe(reader));
                if (reader.currentEvent() == MigrationEvent.EOF) {
                    return lines;
                }
            }
            throw new AssertionError("no EOF after " + MAX_EVENTS + " events from " + kind + ": "
                    + lines.subList(0, 20));
        }
    }

    /** One line for the current event, through its accessors. */
    static String describe(MigrationReader r) {
        MigrationEvent e = r.currentEvent();
        return switch (e) {
            case SECTION_START -> "SECTION_START " + r.recordType() + " " + r.sectionName() + " #" + r.sectionId();
            case SECTION_END -> "SECTION_END";
            case FOOTER -> "FOOTER #" + r.sectionId();
            case CONFIGURATION -> "CONFIGURATION " + r.machineName() + " caps=" + r.capabilities()
                    + " bits=" + r.targetPageBits();
            case COMMAND -> "COMMAND " + r.commandType() + " " + hex(r.commandPayload());
            case RAM_BLOCK -> "RAM_BLOCK " + r.blockName() + " 0x" + Long.toHexString(r.blockLength());
            case RAM_PAGE -> "RAM_PAGE " + r.blockName() + "@0x" + Long.toHexString(r.pageOffset()) + " "
                    + r.pageEncoding();
            case ZERO_PAGE -> "ZERO_PAGE " + r.blockName() + "@0x" + Long.toHexString(r.pageOffset())
                    + " fill=0x" + Integer.toHexString(r.fillByte());
            case FIELD -> "FIELD " + indexed(r) + " " + r.fieldKind() + " " + value(r);
            case STRUCT_START -> "STRUCT_START " + indexed(r);
            case STRUCT_END -> "STRUCT_END";
            case SUBSECTION -> "SUBSECTION " + r.subsectionName() + " v" + r.subsectionVersion();
            case SUBSECTION_END -> "SUBSECTION_END";
            case EOF -> "EOF";
        };
    }

    private static String indexed(MigrationReader r) {
        return r.fieldName() + (r.fieldIndex() >= 0 ? "[" + r.fieldIndex() + "]" : "");
    }

    private static String value(MigrationReader r) {
        return switch (r.fieldKind()) {
            case SIGNED, UNSIGNED -> r.fieldBigIntegerValue().toString();
            case BOOL -> Boolean.toString(r.fieldBooleanValue());
            case CAPABILITY -> r.fieldStringValue();
            default -> hex(r.fieldBytes());
        };
    }

    static String hex(MemorySegment bytes) {
        return HEX.formatHex(bytes.toArray(ValueLayout.JAVA_BYTE));
    }

    static byte[] bytes(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    // ------------------------------------------------------------------ moving the cursor

    /** Moves to the next event, asserting which it is. */
    static MigrationReader expect(MigrationReader reader, MigrationEvent wanted) {
        assertEquals(wanted, reader.next());
        return reader;
    }

    /** Moves past {@code events} events. */
    static void skip(MigrationReader reader, int events) {
        for (int i = 0; i < events; i++) {
            reader.next();
        }
    }

    /**
     * A store lent to a reader that cannot read pages again (a stream): the test hands it every
     * page with {@link #expect(MigrationReader, MigrationEvent, KeptPages)}, as a consumer must
     * for XBZRLE. Null for a random-access reader, which reads the earlier copies from its source.
     */
    static KeptPages lendPages(MigrationReader reader) {
        if (reader.isRandomAccess()) {
            return null;
        }
        KeptPages kept = new KeptPages();
        reader.setPageStore(kept);
        return kept;
    }

    /** {@link #expect(MigrationReader, MigrationEvent)}, a page then kept in {@code kept} (if any). */
    static MigrationReader expect(MigrationReader reader, MigrationEvent wanted, KeptPages kept) {
        expect(reader, wanted);
        keep(reader, kept);
        return reader;
    }

    /** {@link #skip(MigrationReader, int)}, each page kept in {@code kept} (if any). */
    static void skip(MigrationReader reader, int events, KeptPages kept) {
        for (int i = 0; i < events; i++) {
            reader.next();
            keep(reader, kept);
        }
    }

    private static void keep(MigrationReader reader, KeptPages kept) {
        MigrationEvent e = reader.currentEvent();
        if (kept != null && (e == MigrationEvent.RAM_PAGE || e == MigrationEvent.ZERO_PAGE)) {
            kept.keep(reader);
        }
    }

    // ------------------------------------------------------------------ streams

    static String desc(String... devices) {
        return Json.description(PAGE, devices);
    }

    /** A RAM section START with the given block list (name, length pairs) and EOS, then its footer. */
    static StreamBuilder ramSetup(StreamBuilder b, long id, Object... blocks) {
        long total = 0;
        for (int i = 1; i < blocks.length; i += 2) {
            total += (Long) blocks[i];
        }
        b.sectionStart(id, "ram", 0, 4).memSize(total);
        for (int i = 0; i < blocks.length; i += 2) {
            b.block((String) blocks[i], (Long) blocks[i + 1]);
        }
        return b.eos().footer(id);
    }

    /**
     * One FULL section of device {@code dev} (section id 3, version 1) described by
     * {@code fields} and {@code subsections}; returns the events inside the section (read from
     * every kind of source), after checking the frame around them.
     */
    static List<String> deviceTrace(String[] fields, String[] subsections, Consumer<StreamBuilder> body) {
        StreamBuilder b = stream().sectionFull(3, "dev", 0, 1);
        body.accept(b);
        byte[] bytes = b.footer(3).eof()
                .description(desc(Json.deviceWithSubsections("dev", 0, 1, fields, subsections))).toByteArray();
        List<String> all = trace(bytes);
        assertEquals("SECTION_START FULL dev #3", all.get(0), all.toString());
        assertEquals(List.of("SECTION_END", "FOOTER #3", "EOF"), all.subList(all.size() - 3, all.size()),
                all.toString());
        return all.subList(1, all.size() - 3);
    }

    static String[] fields(String... fields) {
        return fields;
    }

    static byte[] deflate(byte[] data, int level) {
        return StreamBuilder.zlib(data, level);
    }
}
