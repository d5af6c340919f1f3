package io.qevm.record;

import io.qevm.ReadLimits;
import io.qevm.exc.MigrationReadException;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import io.qevm.vmstate.Description;
import io.qevm.vmstate.DescriptionParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Finds the JSON description by reading forward from the device state, for a stream whose
 * description does not end its file or input: a state volume (Proxmox VE's
 * {@code vm-ID-state-NAME}, sized 2 x RAM + 500 MiB: zeros or stale bytes follow), a file padded
 * to 1 KiB (Proxmox's savevm-async), a reused volume whose older stream's bytes follow, the zeros
 * after the JSON in a qcow2 snapshot's VM-state area.
 *
 * <p>Device sections carry no length (only the description says how their fields lie), so the
 * end of the device stream cannot be walked to. What QEMU writes after it is fixed, though
 * (migration/savevm.c {@code qemu_savevm_state_complete_precopy_non_iterable}): QEMU_VM_EOF
 * (0x00), then QEMU_VM_VMDESCRIPTION (0x06), a u32 length and that many bytes of JSON, an object.
 * The description is the first such record from where the device state starts whose JSON
 * <ul>
 *   <li>fits: its length is at most {@link ReadLimits#maxDescriptionBytes()}, its bytes are there
 *       (and, on a stream, end within {@link ReadLimits#maxHeldStreamBytes()} of the start);</li>
 *   <li>holds no NUL byte (JSON has none: a control character is escaped inside a string, and
 *       invalid outside one) and ends with '}' (and whitespace);</li>
 *   <li>parses as a description ({@link DescriptionParser}), which describes the device section
 *       the device state starts with.</li>
 * </ul>
 * The search starts at the first device section (or at QEMU_VM_EOF when there is none), never
 * earlier: RAM pages hold guest memory, which may hold anything, an old migration stream
 * included. The first candidate wins over later ones: what follows a state volume's stream is an
 * older stream, whose description is later than this one's. A fake inside the device state (a
 * device buffer the guest fills) must pass all of the above to be taken, and the reader then
 * checks what it checks of any description: QEMU_VM_EOF must end the device stream exactly where
 * the description starts, or reading fails, cleanly. A fake made to pass that too (it describes
 * the devices up to its buffer, which holds QEMU_VM_EOF right before it) is taken: the search
 * runs only when no description ends the file (on a stream: when it does not end within 16 MiB
 * of the fake), so only such a stream, a state volume, is open to it.
 *
 * <p>Bounded work: each byte is looked at by the scan for 0x06 once, eight at a time; a
 * candidate's JSON is scanned for NUL up to its first NUL only, and the QEMU_VM_EOF byte of any
 * later candidate is such a NUL: so candidates whose JSON is scanned to its end (and parsed) do
 * not overlap, beyond the few that can start within the 5-byte header of another. The work is
 * linear in the bytes searched; memory is one JSON text (bounded by the limit) at a time, plus,
 * on a stream, the bytes held (bounded). Not part of the API.
 */
final class DescriptionSearch {

    /** A description found: where its VMDESCRIPTION record starts, its JSON text, parsed. */
    record Found(long recordOffset, byte[] json, Description description) {

        /** The offset of the first byte after the JSON: where the stream ends. */
        long end() {
            return recordOffset + Bootstrap.DESCRIPTION_HEADER_BYTES + json.length;
        }
    }

    // migration/savevm.c
    private static final int QEMU_VM_EOF = 0x00;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long VMDESCRIPTION_BYTES = ONES * Bootstrap.QEMU_VM_VMDESCRIPTION;
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /**
     * How much more to read at a time on a stream: enough that a refill is rare, little enough
     * that the bytes read past the description stay few.
     */
    private static final long STEP = 1 << 20;

    /**
     * How much of a random-access source one window shows: a slice of a mapped file costs
     * nothing, but another source (a qcow2 VM-state area) may fill a buffer for it.
     */
    private static final long FILE_STEP = 64L << 20;
    /** Hands back what a search of a mapped file has passed, every this many bytes (see {@link ByteSource#release}). */
    private static final long RELEASE_EVERY = 64L << 20;

    /** The cursor a stream is read through, or null for a random-access source. */
    private final ByteCursor in;
    private final ByteSource source;
    private final long from;
    private final long holdEnd;
    private final ReadLimits limits;
    private final String section;
    private final long instanceId;

    /** The window, and what to add to an offset to index it. */
    private MemorySegment window;
    private long delta;
    /** Bytes before this offset are readable. */
    private long available;
    /** Whether the source ends at {@link #available}. */
    private boolean ended;
    /** On a random-access source, the first byte still needed: where a new window starts. */
    private long keepFrom;

    /** Bytes before this offset were handed back to a mapped source. */
    private long releasedTo;

    private DescriptionSearch(ByteCursor in, ByteSource source, long from, long holdEnd, ReadLimits limits,
                              String section, long instanceId) {
        this.in = in;
        this.source = source;
        this.from = from;
        this.holdEnd = holdEnd;
        this.limits = limits;
        this.section = section;
        this.instanceId = instanceId;
        this.releasedTo = from;
    }

    /**
     * A search of a stream from {@code from} on, through {@code in}, whose mark is at or before
     * {@code from}: everything read stays viewable, held by the source, for the reader to read
     * the device state from once the description is known.
     *
     * @param holdEnd    no byte at or past this offset is part of a description found; the
     *                   search reads at most one byte past it, to tell whether the stream ends
     *                   there
     * @param section    the device section the device state starts with, which the description
     *                   must describe; null when it starts with QEMU_VM_EOF
     */
    static DescriptionSearch ofStream(ByteCursor in, long from, long holdEnd, ReadLimits limits, String section,
                                      long instanceId) {
        DescriptionSearch search = new DescriptionSearch(in, in.source(), from, holdEnd, limits, section, instanceId);
        search.window = in.segment();
        search.delta = in.index(0);
        search.available = in.position();
        return search;
    }

    /** A search of a random-access {@code source} (its size known) from {@code from} to its end. */
    static DescriptionSearch ofFile(ByteSource source, long from, ReadLimits limits, String section, long instanceId) {
        DescriptionSearch search = new DescriptionSearch(null, source, from, Long.MAX_VALUE, limits, section, instanceId);
        search.available = from;
        search.keepFrom = from;
        return search;
    }

    /** The first description after QEMU_VM_EOF, or null when there is none before the source ends or the hold does. */
    Found find() {
        // the record type byte of a candidate: after its QEMU_VM_EOF byte, which is at or after `from`
        long at = from + 1;
        while (true) {
            keepFrom = at - 1; // nothing before is looked at again
            if (!ensure(at + Bootstrap.DESCRIPTION_HEADER_BYTES + 1)) {
                return null;
            }
            if (in == null && keepFrom - releasedTo > RELEASE_EVERY) {
                // a mapped file of many GB after the stream (a state volume): what was passed
                // goes back to the kernel, or it all stays in the process
                source.release(releasedTo, keepFrom);
                releasedTo = keepFrom;
            }
            long last = available - Bootstrap.DESCRIPTION_HEADER_BYTES; // a header and '{' lie before `available`
            at = indexOfDescriptionType(at, last);
            if (at == last) {
                continue; // none in what is there: read on
            }
            if (byteAt(at - 1) == QEMU_VM_EOF && byteAt(at + Bootstrap.DESCRIPTION_HEADER_BYTES) == '{') {
                keepFrom = at - 1;
                Found found = candidate(at);
                if (found != null) {
                    return found;
                }
            }
            at++;
        }
    }

    /** Whether the search stopped because the source ended (else the hold did, more following). */
    boolean sourceEnded() {
        return ended && available <= holdEnd;
    }

    /**
     * Whether the source ends at or before {@code upTo} (at most the hold's end), reading on (and
     * holding) to tell: then its size is known. A stream is read only as far as it has bytes now:
     * one that has sent no more for the while its channel waits is not taken to end.
     */
    boolean endsBy(long upTo) {
        long want = Math.min(upTo, holdEnd) + 1;
        if (in == null) {
            return !ensure(want) && ended;
        }
        if (!ended && available < want) {
            // only what has arrived: a live source (a migration with a return path) sends
            // nothing after the description until the destination answers it
            readOn(want, false);
        }
        return available < want && ended;
    }

    /** The description whose VMDESCRIPTION record is at {@code record}, or null when it is not one. */
    private Found candidate(long record) {
        long length = Integer.toUnsignedLong(window.get(BE32, record + 1 + delta));
        long jsonAt = record + Bootstrap.DESCRIPTION_HEADER_BYTES;
        long jsonEnd = jsonAt + length;
        if (length < 2 || length > limits.maxDescriptionBytes() || jsonEnd > holdEnd) {
            return null;
        }
        // no NUL, read as far as the first one (the bytes past it are not needed)
        for (long at = jsonAt; at < jsonEnd; ) {
            if (!ensure(Math.min(jsonEnd, at + 1))) {
                return null; // cut short by the end of the source
            }
            long to = Math.min(jsonEnd, available);
            if (indexOf(at, to, 0) < to) {
                return null;
            }
            at = to;
        }
        long last = jsonEnd - 1;
        while (last > jsonAt && isJsonWhitespace(byteAt(last))) {
            last--;
        }
        if (byteAt(last) != '}') {
            return null;
        }
        byte[] json = window.asSlice(jsonAt + delta, length).toArray(ValueLayout.JAVA_BYTE);
        Description parsed;
        try {
            parsed = DescriptionParser.parse(json, jsonAt, limits);
        } catch (MigrationReadException notADescription) {
            return null; // not JSON, not a VM description, or over a limit: not this stream's
        }
        if (section != null && parsed.device(section, instanceId) == null) {
            return null; // it does not describe the device state it would end
        }
        return new Found(record, json, parsed);
    }

    private static boolean isJsonWhitespace(int b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r';
    }

    /**
     * Makes the bytes before {@code upTo} readable, reading on a step at a time, and no further
     * than one byte past the hold (which tells whether the source ends there); false when the
     * source or the hold ends first.
     */
    private boolean ensure(long upTo) {
        if (upTo <= available) {
            return true;
        }
        if (ended || available > holdEnd) {
            return false;
        }
        if (in == null) {
            return ensureInFile(upTo);
        }
        long need = Math.min(upTo, holdEnd + 1);
        readOn(need, true);
        if (!ended && available >= need) {
            // a step further, as far as the stream has bytes now: on a pipe (whose reads wait)
            // a whole step; on a live source, never past what it sent (it may wait for an answer)
            readOn(Math.min(Math.max(upTo, available + STEP), holdEnd + 1), false);
        }
        return upTo <= available;
    }

    /**
     * Makes the stream's bytes before {@code want} viewable, waiting for them ({@code wait}) or
     * taking only those that have arrived; notes whether the stream ends first.
     */
    private void readOn(long want, boolean wait) {
        long position = in.position();
        long got = wait ? in.lookAhead(want - position) : in.lookAheadAvailable(want - position);
        window = in.segment();
        delta = in.index(0);
        available = position + got;
        if (available < want && (wait || in.source().size() >= 0)) {
            ended = true;
        }
    }

    /** {@link #ensure} on a random-access source: a window from {@link #keepFrom} on. */
    private boolean ensureInFile(long upTo) {
        long size = Math.max(source.size(), keepFrom);
        long want = Math.min(Math.max(upTo, available + FILE_STEP), size);
        try {
            window = source.window(keepFrom, want - keepFrom);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        delta = -keepFrom;
        available = keepFrom + Math.min(window.byteSize(), size - keepFrom);
        ended = available >= size;
        return upTo <= available;
    }

    private int byteAt(long offset) {
        return window.get(ValueLayout.JAVA_BYTE, offset + delta) & 0xff;
    }

    /** The first offset in [at, to) holding 0x06 (QEMU_VM_VMDESCRIPTION), else {@code to}. */
    private long indexOfDescriptionType(long at, long to) {
        return indexOf(at, to, Bootstrap.QEMU_VM_VMDESCRIPTION);
    }

    /**
     * The first offset in [at, to) holding {@code value}, else {@code to}: eight bytes at a time,
     * with the zero-byte test of a word XORed with the value in every byte ("Bit Twiddling Hacks",
     * determine if a word has a byte equal to n): a borrow can mark a byte above a match, never
     * below one, so the lowest mark (the first byte, read little-endian) is a match.
     */
    private long indexOf(long at, long to, int value) {
        long pattern = value == Bootstrap.QEMU_VM_VMDESCRIPTION ? VMDESCRIPTION_BYTES : ONES * value;
        long offset = at;
        for (; offset + Long.BYTES <= to; offset += Long.BYTES) {
            long word = window.get(LE64, offset + delta) ^ pattern;
            long marks = (word - ONES) & ~word & HIGHS;
            if (marks != 0) {
                return offset + (Long.numberOfTrailingZeros(marks) >>> 3);
            }
        }
        for (; offset < to; offset++) {
            if (byteAt(offset) == value) {
                return offset;
            }
        }
        return to;
    }
}
