package io.qevm.exc;

/**
 * The stream holds something QEMU never writes there: a wrong magic or version, an unknown record
 * type or RAM flag, a footer naming another section, a length that runs past its container, or no
 * JSON description where one is needed. The message names the offending value.
 */
public non-sealed class MalformedStreamException extends MigrationReadException {

    private static final long serialVersionUID = 1L;

    /**
     * Makes an exception for bytes that are not what the format allows there.
     *
     * @param problem what went wrong, without the location (see {@link #problem()})
     * @param where   where the reader was
     */
    public MalformedStreamException(String problem, ReadContext where) {
        super(problem, where);
    }
}
