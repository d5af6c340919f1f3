package io.qevm.exc;

/**
 * The stream ends before the data its structure announces: a file cut short, as a migration
 * that died or a partial copy leaves it. {@link #position()} is where the data ends.
 */
public final class TruncatedInputException extends MigrationReadException {

    private static final long serialVersionUID = 1L;

    /**
     * Makes an exception for a stream that ends early.
     *
     * @param problem what went wrong, without the location (see {@link #problem()})
     * @param where   where the reader was
     */
    public TruncatedInputException(String problem, ReadContext where) {
        super(problem, where);
    }
}
