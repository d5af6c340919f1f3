package io.qevm.exc;

/**
 * A migration stream could not be read: the base of the reader's unchecked exceptions.
 *
 * <p>Every instance says where the failure happened: {@link #eventOffset()} is the byte offset of
 * the record or field being read when it failed, {@link #position()} the cursor's byte offset at
 * that moment (for a truncation, the end of the data), and, when a section was being read, its
 * name and id. Offsets count from the start of the file, so they hold inside a raw libvirt save
 * image too; inside compressed data they count in the decompressed stream, and {@link #stream()}
 * says so. The message already includes all of it and fits on one line.
 */
public abstract sealed class MigrationReadException extends RuntimeException
        permits TruncatedInputException, MalformedStreamException, LimitExceededException {

    private static final long serialVersionUID = 1L;

    /** What {@link #problem()} returns. */
    private final String problem;
    /** What {@link #eventOffset()} returns. */
    private final long eventOffset;
    /** What {@link #position()} returns. */
    private final long position;
    /** What {@link #sectionName()} returns. */
    private final String sectionName;
    /** What {@link #sectionId()} returns. */
    private final long sectionId;
    /** What {@link #event()} returns. */
    private final String event;
    /** What {@link #stream()} returns. */
    private final String stream;

    MigrationReadException(String problem, ReadContext where) {
        super(where.describe(problem));
        this.problem = problem;
        this.eventOffset = where.eventOffset();
        this.position = where.position();
        this.sectionName = where.sectionName();
        this.sectionId = where.sectionId();
        this.event = where.event();
        this.stream = where.stream();
    }

    /** {@return the byte offset of the record, field or page whose reading failed} */
    public long eventOffset() {
        return eventOffset;
    }

    /** {@return the byte offset of the cursor when the failure was found} */
    public long position() {
        return position;
    }

    /** {@return the idstr of the section being read, or {@code null} outside sections} */
    public String sectionName() {
        return sectionName;
    }

    /** {@return the id of the section being read, or -1 outside sections} */
    public long sectionId() {
        return sectionId;
    }

    /** {@return what the reader was reading (an event name such as {@code RAM_PAGE}), or {@code null}} */
    public String event() {
        return event;
    }

    /**
     * {@return what the offsets count in when not the file or input read: e.g. {@code
     * zstd-decompressed stream} for a compressed file, {@code file} for an offset in the compressed
     * file under it; {@code null} for the source itself}
     */
    public String stream() {
        return stream;
    }

    /** {@return where this exception says it happened} */
    public ReadContext context() {
        return new ReadContext(eventOffset, position, sectionName, sectionId, event, stream);
    }

    /**
     * {@return the problem alone, without the location that {@link #getMessage()} puts before it (as
     * jackson-core's {@code getOriginalMessage()}); names from the file are as read, not escaped}
     */
    public String problem() {
        return problem;
    }
}
