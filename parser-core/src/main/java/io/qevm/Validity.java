package io.qevm;

import static io.qevm.MigrationEventId.ID_COMMAND;
import static io.qevm.MigrationEventId.ID_CONFIGURATION;
import static io.qevm.MigrationEventId.ID_FIELD;
import static io.qevm.MigrationEventId.ID_RAM_BLOCK;
import static io.qevm.MigrationEventId.ID_RAM_PAGE;
import static io.qevm.MigrationEventId.ID_STRUCT_START;
import static io.qevm.MigrationEventId.ID_SUBSECTION;
import static io.qevm.MigrationEventId.ID_ZERO_PAGE;

import io.qevm.internal.Messages;

/**
 * Which of {@link MigrationReader}'s accessors are valid on which events: the table of its
 * javadoc, as masks of {@link MigrationEvent#id()} bits, and the one check that says where an
 * accessor is valid when it is called elsewhere.
 */
final class Validity {

    static final long SECTION = -1; // checked by inSection(), not by event
    static final long CONFIGURATION = events(ID_CONFIGURATION);
    static final long COMMAND = events(ID_COMMAND);
    static final long BLOCK = events(ID_RAM_BLOCK, ID_RAM_PAGE, ID_ZERO_PAGE);
    static final long RAM_BLOCK = events(ID_RAM_BLOCK);
    static final long PAGE = events(ID_RAM_PAGE, ID_ZERO_PAGE);
    static final long DATA_PAGE = events(ID_RAM_PAGE);
    static final long ZERO_PAGE = events(ID_ZERO_PAGE);
    static final long FIELD = events(ID_FIELD, ID_STRUCT_START);
    static final long VALUE = events(ID_FIELD);
    static final long SUBSECTION = events(ID_SUBSECTION);
    static final long PATH = events(ID_FIELD, ID_STRUCT_START, ID_SUBSECTION);

    private Validity() {
    }

    private static long events(int... ids) {
        long mask = 0;
        for (int id : ids) {
            mask |= 1L << id;
        }
        return mask;
    }

    static void require(MigrationEvent event, long validOn, String accessor) {
        if (event == null || (validOn & (1L << event.id())) == 0) {
            throw new IllegalStateException(Messages.notValidOn(accessor, event, validOn));
        }
    }
}
