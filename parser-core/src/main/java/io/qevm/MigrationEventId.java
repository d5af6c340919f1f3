package io.qevm;

/**
 * The {@link MigrationEvent#id()} of each event as an int constant, for code that switches on
 * ints (as jackson-core's {@code JsonTokenId} mirrors {@code JsonToken}). The values are dense,
 * from 0, and fixed.
 */
public final class MigrationEventId {

    public static final int ID_SECTION_START = 0;
    public static final int ID_SECTION_END = 1;
    public static final int ID_FOOTER = 2;
    public static final int ID_CONFIGURATION = 3;
    public static final int ID_COMMAND = 4;
    public static final int ID_RAM_BLOCK = 5;
    public static final int ID_RAM_PAGE = 6;
    public static final int ID_ZERO_PAGE = 7;
    public static final int ID_FIELD = 8;
    public static final int ID_STRUCT_START = 9;
    public static final int ID_STRUCT_END = 10;
    public static final int ID_SUBSECTION = 11;
    public static final int ID_SUBSECTION_END = 12;
    public static final int ID_EOF = 13;

    private MigrationEventId() {
    }
}
