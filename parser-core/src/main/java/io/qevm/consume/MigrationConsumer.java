package io.qevm.consume;

import io.qevm.MigrationEvent;
import io.qevm.MigrationReader;
import java.io.IOException;

/**
 * Something that reads a migration stream event by event: it is handed the reader itself, on
 * each event, and asks it what it needs (as jackson's {@code JsonGenerator.copyCurrentEvent}
 * takes a parser). Nothing is allocated per event on the way, and one pass can feed several
 * consumers through {@link #drive}.
 */
@FunctionalInterface
public interface MigrationConsumer {

    /**
     * Called once per event, with {@code reader} on it. Views taken from the reader are valid
     * only during this call.
     *
     * @param event  the event the reader is on
     * @param reader the reader, to ask about the event
     * @throws IOException if the consumer's output fails
     */
    void accept(MigrationEvent event, MigrationReader reader) throws IOException;

    /**
     * Reads {@code reader} to its EOF, handing every event to each consumer in turn (EOF too, once).
     *
     * @param reader    the reader, before its first event or anywhere after
     * @param consumers the consumers, called in this order on each event
     * @throws IOException if a consumer's output fails
     */
    static void drive(MigrationReader reader, MigrationConsumer... consumers) throws IOException {
        MigrationEvent event;
        do {
            event = reader.next();
            for (MigrationConsumer consumer : consumers) {
                consumer.accept(event, reader);
            }
        } while (event != MigrationEvent.EOF);
    }
}
