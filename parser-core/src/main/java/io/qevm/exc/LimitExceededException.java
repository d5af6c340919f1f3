package io.qevm.exc;

/**
 * A value read from the stream is larger than a {@code ReadLimits} bound allows: the reader
 * refuses to allocate or loop that much on the word of an untrusted file.
 */
public final class LimitExceededException extends MigrationReadException {

    private static final long serialVersionUID = 1L;

    /**
     * Makes an exception for a value over a bound.
     *
     * @param problem what went wrong, without the location (see {@link #problem()})
     * @param where   where the reader was
     */
    public LimitExceededException(String problem, ReadContext where) {
        super(problem, where);
    }
}
