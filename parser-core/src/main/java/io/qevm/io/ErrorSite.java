package io.qevm.io;

import io.qevm.exc.LimitExceededException;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.ReadContext;
import io.qevm.internal.Messages;
import java.util.function.Supplier;

/**
 * Where the reader is, for the exceptions it throws: the record being read, the cursor, the
 * section. {@link ReadLocation} is the one implementation; every part of the reader builds its
 * exceptions through it, so each carries the same location. Not part of the API.
 */
public interface ErrorSite extends Supplier<ReadContext> {

    /** The location with the cursor at {@code position} (for a truncation: where the data ends). */
    ReadContext at(long position);

    /** A {@link MalformedStreamException} at the current location. */
    default MalformedStreamException malformed(String problem) {
        return new MalformedStreamException(problem, get());
    }

    /** A {@link LimitExceededException} at the current location. */
    default LimitExceededException overLimit(String what, long value, long max) {
        return new LimitExceededException(Messages.limit(what, value, max), get());
    }
}
