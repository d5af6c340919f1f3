package io.qevm.record;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import io.qevm.SourceKind;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import io.qevm.io.ReadLocation;
import java.util.ArrayList;
import java.util.List;

/** What the {@code record} tests share: a cursor over built bytes, and a reader's events in order. */
final class RecordTesting {

    private RecordTesting() {
    }

    record Cursor(ByteCursor in, ReadLocation at) {
    }

    /** Over a heap array ({@code stream} false) or a stream that hands out a few bytes a read. */
    static Cursor cursor(byte[] bytes, boolean stream) {
        ReadLocation at = new ReadLocation();
        ByteSource source = stream ? ByteSource.of(SourceKind.trickle(bytes, 5), "<stream>") : ByteSource.of(bytes, "<heap>");
        ByteCursor in = new ByteCursor(source, at, 0);
        at.attach(in);
        return new Cursor(in, at);
    }

    static String end(boolean stream, long at) {
        return "the end of the " + (stream ? "input" : "file") + " (at byte " + at + ")";
    }

    /** Every event to EOF, each with its offset: "SECTION_START@17". */
    static List<String> events(MigrationReader reader) {
        List<String> events = new ArrayList<>();
        try (reader) {
            for (MigrationEvent e = reader.next(); e != MigrationEvent.EOF; e = reader.next()) {
                events.add(e + "@" + reader.eventOffset());
            }
        }
        return events;
    }

    static List<String> events(SourceKind kind, byte[] bytes) {
        return events(kind.open(bytes));
    }
}
