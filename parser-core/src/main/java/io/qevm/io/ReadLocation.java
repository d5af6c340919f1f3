package io.qevm.io;

import io.qevm.MigrationEvent;
import io.qevm.exc.ReadContext;

/**
 * The one {@link ErrorSite}: what the reader is reading, kept up to date by each part of it
 * (the record scanner sets the section, every part the event it reads and where it starts), so
 * that any exception, thrown from any part, names the same place. Not part of the API.
 */
public final class ReadLocation implements ErrorSite {

    private ByteCursor cursor;
    /** Where the record, field or page being read starts (see {@link #eventOffset()}). */
    private long eventOffset;
    /** What is being read, for messages; null between events. */
    public MigrationEvent reading;
    /**
     * While set, says what is being read instead of {@link #reading}: a part that reads millions
     * of small records (the RAM section) tells it from its state when an exception asks, rather
     * than storing it for every record.
     */
    public EventSource readingFrom;

    /** Tells what is being read, and where it starts, when asked. */
    public interface EventSource {
        MigrationEvent reading();

        /** Where the event being read starts, given the offset last set ({@link #eventAt}). */
        long eventOffset(long set);
    }

    /** Where the record, field or page being read starts. */
    public long eventOffset() {
        return readingFrom != null ? readingFrom.eventOffset(eventOffset) : eventOffset;
    }

    /** Sets where the event being read starts, without marking the cursor. */
    public void eventAt(long offset) {
        eventOffset = offset;
    }
    /** The section being read, or null. */
    public String sectionName;
    public long sectionId = -1;

    /** The cursor whose position the location reports; set once, right after both exist. */
    public void attach(ByteCursor cursor) {
        this.cursor = cursor;
    }

    /** Starts an event at the cursor: it is read from here, and views of it start here. */
    public void startEvent(MigrationEvent event) {
        eventOffset = cursor.position();
        reading = event;
        cursor.mark();
    }

    public void enterSection(String name, long id) {
        sectionName = name;
        sectionId = id;
    }

    public void leaveSection() {
        sectionName = null;
        sectionId = -1;
    }

    @Override
    public ReadContext at(long position) {
        MigrationEvent event = readingFrom != null ? readingFrom.reading() : reading;
        return new ReadContext(eventOffset(), position, sectionName, sectionId, event == null ? null : event.name());
    }

    @Override
    public ReadContext get() {
        return at(cursor == null ? eventOffset() : cursor.position());
    }
}
