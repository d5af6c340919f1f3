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
    /** Where the record, field or page being read starts. */
    public long eventOffset;
    /** What is being read, for messages; null between events. */
    public MigrationEvent reading;
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
        return new ReadContext(eventOffset, position, sectionName, sectionId, reading == null ? null : reading.name());
    }

    @Override
    public ReadContext get() {
        return at(cursor == null ? eventOffset : cursor.position());
    }
}
