package io.qevm;

/**
 * The {@link MigrationEvent#id()} of each event as an int constant, for code that switches on
 * ints (as jackson-core's {@code JsonTokenId} mirrors {@code JsonToken}). The values are dense,
 * from 0, and fixed.
 */
public final class MigrationEventId {

    /** {@link MigrationEvent#SECTION_START}. */
    public static final int ID_SECTION_START = 0;
    /** {@link MigrationEvent#SECTION_END}. */
    public static final int ID_SECTION_END = 1;
    /** {@link MigrationEvent#FOOTER}. */
    public static final int ID_FOOTER = 2;
    /** {@link MigrationEvent#CONFIGURATION}. */
    public static final int ID_CONFIGURATION = 3;
    /** {@link MigrationEvent#COMMAND}. */
    public static final int ID_COMMAND = 4;
    /** {@link MigrationEvent#RAM_BLOCK}. */
    public static final int ID_RAM_BLOCK = 5;
    /** {@link MigrationEvent#RAM_PAGE}. */
    public static final int ID_RAM_PAGE = 6;
    /** {@link MigrationEvent#ZERO_PAGE}. */
    public static final int ID_ZERO_PAGE = 7;
    /** {@link MigrationEvent#FIELD}. */
    public static final int ID_FIELD = 8;
    /** {@link MigrationEvent#STRUCT_START}. */
    public static final int ID_STRUCT_START = 9;
    /** {@link MigrationEvent#STRUCT_END}. */
    public static final int ID_STRUCT_END = 10;
    /** {@link MigrationEvent#SUBSECTION}. */
    public static final int ID_SUBSECTION = 11;
    /** {@link MigrationEvent#SUBSECTION_END}. */
    public static final int ID_SUBSECTION_END = 12;
    /** {@link MigrationEvent#EOF}. */
    public static final int ID_EOF = 13;

    private MigrationEventId() {
    }
}
