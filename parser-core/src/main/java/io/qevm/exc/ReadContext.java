package io.qevm.exc;

import io.qevm.internal.Text;

/**
 * Where a read failed: the values every {@link MigrationReadException} carries.
 *
 * @param eventOffset byte offset of the record, field or page being read
 * @param position    byte offset of the cursor
 * @param sectionName idstr of the section being read, or {@code null}
 * @param sectionId   id of that section, or -1
 * @param event       what was being read, or {@code null}
 * @param stream      the stream the offsets count in when it is not the file or input itself
 *                    (e.g. {@code zstd-decompressed stream}, {@code file} for an offset in the
 *                    compressed file under it), or {@code null}
 */
public record ReadContext(long eventOffset, long position, String sectionName, long sectionId, String event,
                          String stream) {

    /**
     * A location whose offsets count from the start of the source.
     *
     * @param eventOffset byte offset of the record, field or page being read
     * @param position    byte offset of the cursor
     * @param sectionName idstr of the section being read, or {@code null}
     * @param sectionId   id of that section, or -1
     * @param event       what was being read, or {@code null}
     */
    public ReadContext(long eventOffset, long position, String sectionName, long sectionId, String event) {
        this(eventOffset, position, sectionName, sectionId, event, null);
    }

    /**
     * A location outside any section, e.g. in the file header.
     *
     * @param offset the byte offset, of the event and of the cursor
     * @return the location
     */
    public static ReadContext at(long offset) {
        return new ReadContext(offset, offset, null, -1, null);
    }

    /**
     * This location, its offsets counting in {@code stream}: how a reader over decompressed data
     * says which bytes its offsets count.
     *
     * @param stream what the offsets count in, e.g. {@code gzip-decompressed stream}
     * @return the location
     */
    public ReadContext within(String stream) {
        return new ReadContext(eventOffset, position, sectionName, sectionId, event, stream);
    }

    /** One line: {@code at byte 0x1f3a0 (127904)[ of the zstd-decompressed stream], section 'ram' #2: <problem>}. */
    String describe(String problem) {
        // names in messages come from the file: control characters must not break the line
        problem = Text.printable(problem);
        String sectionName = Text.printable(this.sectionName);
        StringBuilder line = new StringBuilder(96 + problem.length());
        line.append("at byte 0x").append(Long.toHexString(eventOffset)).append(" (").append(eventOffset).append(')');
        if (stream != null) {
            line.append(" of the ").append(stream);
        }
        if (sectionName != null) {
            line.append(", section '").append(sectionName).append("' #").append(sectionId);
        }
        return line.append(": ").append(problem).toString();
    }
}
