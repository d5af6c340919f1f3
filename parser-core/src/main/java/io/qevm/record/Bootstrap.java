package io.qevm.record;

import io.qevm.ReadLimits;
import io.qevm.exc.MalformedStreamException;
import io.qevm.exc.ReadContext;
import io.qevm.exc.TruncatedInputException;
import io.qevm.internal.Messages;
import io.qevm.io.ByteCursor;
import io.qevm.io.ByteSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The stream's own header, as jackson-core's {@code ByteSourceJsonBootstrapper} tells an
 * encoding: the QEMU magic and version (what holds the stream, a libvirt image or compressed
 * data, is io.qevm.container's business); and where the JSON description is when it ends the
 * file, as it usually does: the VMDESCRIPTION record whose JSON runs exactly to the end (when
 * bytes follow it, {@link DescriptionSearch} finds it). Not part of the API.
 */
final class Bootstrap {

    // migration/savevm.c
    static final int QEMU_VM_FILE_MAGIC = 0x5145564d;
    static final int QEMU_VM_FILE_VERSION = 3;
    static final int QEMU_VM_VMDESCRIPTION = 0x06;
    /** A VMDESCRIPTION record's header: the type byte and the u32 length of the JSON. */
    static final int DESCRIPTION_HEADER_BYTES = 5;

    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Bootstrap() {
    }

    /**
     * Checks the QEMU magic and version at the cursor: the start of the stream, which the
     * container layer (io.qevm.container) found past whatever holds it. Returns the magic's
     * offset; the cursor is left after the version.
     */
    static long readHeader(ByteCursor in) {
        long start = in.position();
        if (start == 0 && in.lookAhead(4) == 0) {
            throw new TruncatedInputException(Messages.empty(in.source().kind()), ReadContext.at(0));
        }
        long magic = in.be32();
        if (magic != QEMU_VM_FILE_MAGIC) {
            throw new MalformedStreamException(Messages.badMagic(magic), ReadContext.at(start));
        }
        long version = in.be32();
        if (version != QEMU_VM_FILE_VERSION) {
            throw new MalformedStreamException(Messages.badVersion(version), ReadContext.at(start + 4));
        }
        return start;
    }

    /**
     * The offset of the VMDESCRIPTION record whose JSON runs exactly to the end of
     * {@code source} (whose size is known), scanning back from the end to no lower than
     * {@code lowest}; -1 when there is none.
     *
     * @throws io.qevm.exc.LimitExceededException when one lies further back than the limit allows
     */
    static long locateDescription(ByteSource source, long lowest, ReadLimits limits) {
        long size = source.size();
        long bounded = Math.max(lowest, size - DESCRIPTION_HEADER_BYTES - (long) limits.maxDescriptionBytes());
        long found = scanForDescription(source, bounded);
        if (found < 0 && bounded > lowest) {
            // not within the limit: say so if one lies further back, rather than "none"
            long beyond = scanForDescription(source, lowest);
            if (beyond >= 0) {
                limits.validateDescriptionBytes(size - beyond - DESCRIPTION_HEADER_BYTES, () -> ReadContext.at(beyond));
            }
        }
        return found;
    }

    private static long scanForDescription(ByteSource source, long lowest) {
        long size = source.size();
        if (size - DESCRIPTION_HEADER_BYTES - 1 < lowest) {
            return -1;
        }
        MemorySegment tail = window(source, lowest, size - lowest);
        long last = size - 1 - lowest;
        while (last > 0 && Character.isWhitespace(tail.get(ValueLayout.JAVA_BYTE, last))) {
            last--;
        }
        if (tail.get(ValueLayout.JAVA_BYTE, last) != '}') {
            return -1; // the description is a JSON object at the very end: without '}' there is none
        }
        for (long at = size - DESCRIPTION_HEADER_BYTES - 1; at >= lowest; at--) {
            long i = at - lowest;
            if (tail.get(ValueLayout.JAVA_BYTE, i) == QEMU_VM_VMDESCRIPTION
                    && at + DESCRIPTION_HEADER_BYTES + Integer.toUnsignedLong(tail.get(BE32, i + 1)) == size
                    && tail.get(ValueLayout.JAVA_BYTE, i + DESCRIPTION_HEADER_BYTES) == '{') {
                return at;
            }
        }
        return -1;
    }

    /** The JSON text of the description whose record is at {@code recordOffset}, copied. */
    static byte[] descriptionJson(ByteSource source, long recordOffset) {
        long jsonAt = recordOffset + DESCRIPTION_HEADER_BYTES;
        long length = source.size() - jsonAt;
        return window(source, jsonAt, length).asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
    }

    private static MemorySegment window(ByteSource source, long offset, long length) {
        try {
            return source.window(offset, length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
