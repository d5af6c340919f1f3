package io.qevm.container;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * gzip (RFC 1952) through the JDK's {@link Inflater}, members one after the other as {@code gzip
 * -dc} reads them (concatenated files, pigz's output), each member's CRC-32 and length checked.
 * Not {@code GZIPInputStream}: that one decides whether another member follows by asking
 * {@code available()}, which a pipe may answer 0 to at a member's end, and cannot say where the
 * data broke. The input is handed to the inflater as it lies in the layer (a mapped file's pages,
 * the stream's window): no copy.
 */
final class GzipDecoder implements Decoder {

    // RFC 1952 2.3.1 FLG bits
    private static final int FHCRC = 0x02;
    private static final int FEXTRA = 0x04;
    private static final int FNAME = 0x08;
    private static final int FCOMMENT = 0x10;
    private static final int FRESERVED = 0xe0;
    private static final int CM_DEFLATE = 8;
    private static final int TRAILER_BYTES = 8;

    private final CompressedInput in;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    /** Whether a member's deflate data is being read (else: its header comes next). */
    private boolean inMember;
    private long memberBytes;
    private long members;
    private boolean ended;

    GzipDecoder(CompressedInput in) {
        this.in = in;
    }

    @Override
    public boolean fill(ByteBuffer out) throws IOException {
        int start = out.position();
        while (!ended && out.position() == start) {
            if (!inMember) {
                if (!startMember()) {
                    ended = true;
                    break;
                }
            }
            inflate(out);
            if (inflater.finished()) {
                endMember();
            }
        }
        return !ended;
    }

    /** Reads a member's header; false when there is none (the end of the data). */
    private boolean startMember() throws IOException {
        MemorySegment head = in.peek(2);
        if (!isGzip(head)) {
            if (members > 0) {
                // the end, or bytes after the last member that do not start another: ignored, as
                // gzip -dc ignores trailing zeros (it warns about other bytes, and succeeds)
                return false;
            }
            throw head.byteSize() < 2 ? in.truncated() : in.corrupt("expected a gzip member header (1f 8b)");
        }
        members++;
        in.advance(2);
        int method = in.u8();
        int flags = in.u8();
        if (method != CM_DEFLATE) {
            throw in.corrupt("compression method " + method + ", not deflate (8)");
        }
        if ((flags & FRESERVED) != 0) {
            throw in.corrupt("reserved header flags set: 0x" + Integer.toHexString(flags));
        }
        in.bytes(6); // MTIME, XFL, OS
        if ((flags & FEXTRA) != 0) {
            int length = in.u8() | in.u8() << 8;
            in.bytes(length);
        }
        if ((flags & FNAME) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FCOMMENT) != 0) {
            skipZeroTerminated();
        }
        if ((flags & FHCRC) != 0) {
            in.bytes(2);
        }
        inflater.reset();
        crc.reset();
        memberBytes = 0;
        inMember = true;
        return true;
    }

    private static boolean isGzip(MemorySegment head) {
        return head.byteSize() >= 2 && head.get(ValueLayout.JAVA_BYTE, 0) == 0x1f
                && head.get(ValueLayout.JAVA_BYTE, 1) == (byte) 0x8b;
    }

    private void skipZeroTerminated() throws IOException {
        while (in.u8() != 0) {
            // a file name or comment: not needed
        }
    }

    private void inflate(ByteBuffer out) throws IOException {
        MemorySegment window = in.peek(1); // what is there: a pipe is not waited on for more
        long available = Math.min(window.byteSize(), CompressedInput.CHUNK);
        ByteBuffer input = window.asSlice(0, available).asByteBuffer();
        inflater.setInput(input);
        int start = out.position();
        try {
            inflater.inflate(out);
        } catch (DataFormatException e) {
            in.advance(available - inflater.getRemaining());
            throw in.corrupt(e.getMessage() == null ? "invalid deflate data" : e.getMessage());
        }
        in.advance(available - inflater.getRemaining());
        int produced = out.position() - start;
        crc.update(out.slice(start, produced));
        memberBytes += produced;
        if (produced == 0 && !inflater.finished()) {
            if (inflater.needsDictionary()) {
                throw in.corrupt("deflate data that needs a preset dictionary");
            }
            if (available == 0) {
                throw in.truncated(); // the inflater needs input, and there is none
            }
        }
    }

    /** After a member's deflate data: its trailer, CRC-32 and length modulo 2^32. */
    private void endMember() throws IOException {
        inflater.setInput(new byte[0]); // drop the reference to the layer's window
        long trailerAt = in.position();
        byte[] trailer = in.bytes(TRAILER_BYTES);
        ByteBuffer fields = ByteBuffer.wrap(trailer).order(ByteOrder.LITTLE_ENDIAN);
        long storedCrc = Integer.toUnsignedLong(fields.getInt(0));
        long storedSize = Integer.toUnsignedLong(fields.getInt(4));
        if (storedCrc != crc.getValue()) {
            throw in.corruptAt(trailerAt, "the member's data has CRC-32 0x" + Long.toHexString(crc.getValue())
                    + ", its trailer says 0x" + Long.toHexString(storedCrc));
        }
        if (storedSize != (memberBytes & 0xffffffffL)) {
            throw in.corruptAt(trailerAt + 4, "the member decompresses to " + memberBytes + " bytes, its trailer says " + storedSize
                    + " (modulo 2^32)");
        }
        inMember = false;
    }

    @Override
    public void close() {
        inflater.end();
    }
}
