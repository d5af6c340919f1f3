package io.qevm.cli;

import java.io.IOException;
import java.util.Locale;

/**
 * A live capture failed for a reason of the connection or of the source, not of the bytes: the
 * source stalled, the connection broke, or the source uses something only a real destination
 * can do ({@link #isRefusal()}). The message is the whole line after {@code qevm: URI: }. An
 * {@link IOException}, so that it can leave the channel the reader reads through.
 */
final class IncomingFailure extends IOException {
    private static final long serialVersionUID = 1L;

    private final boolean refusal;

    private IncomingFailure(String message, boolean refusal, Throwable cause) {
        super(message, cause);
        this.refusal = refusal;
    }

    /** Whether qevm refused the source (a capability that needs a real destination). */
    boolean isRefusal() {
        return refusal;
    }

    /**
     * The source uses {@code capability}, which needs a real destination; {@code why} says how
     * it showed (what it sent).
     */
    static IncomingFailure refused(String capability, String why) {
        return new IncomingFailure("the source uses " + capability + ", which needs a real destination (" + why
                + "): turn it off (migrate_set_capability " + capability + " off)", true, null);
    }

    /** Nothing arrived for {@code seconds} after {@code received} bytes. */
    static IncomingFailure stalled(long seconds, long received) {
        return new IncomingFailure("the source sent nothing for " + seconds + " s, after " + at(received)
                + ": giving up (--timeout)", false, null);
    }

    /** The connection failed ({@code cause}) after {@code received} bytes. */
    static IncomingFailure broken(long received, IOException cause) {
        return new IncomingFailure("the connection broke after " + at(received) + ": " + reason(cause), false, cause);
    }

    /** The source's answer could not be sent ({@code cause}) after {@code received} bytes. */
    static IncomingFailure cannotAnswer(String what, long received, IOException cause) {
        return new IncomingFailure("cannot send " + what + " to the source (after " + at(received) + "): "
                + reason(cause), false, cause);
    }

    /** The source did not read the answer for {@code seconds}. */
    static IncomingFailure answerStalled(String what, long seconds, long received) {
        return new IncomingFailure("the source read no answer for " + seconds + " s (" + what + ", after "
                + at(received) + "): giving up (--timeout)", false, null);
    }

    /** The address cannot be listened on ({@code cause}: in use, not allowed, not this host's). */
    static IncomingFailure cannotListen(IOException cause) {
        return new IncomingFailure("cannot listen: " + reason(cause), false, cause);
    }

    /** The connection closed before its first byte. */
    static IncomingFailure empty() {
        return new IncomingFailure("the source closed the connection without sending anything", false, null);
    }

    private static String reason(IOException cause) {
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    /** {@code byte 0x1f3a0 (127904)}: the form every error of the reader gives an offset in. */
    static String at(long offset) {
        return String.format(Locale.ROOT, "byte 0x%x (%d)", offset, offset);
    }
}
