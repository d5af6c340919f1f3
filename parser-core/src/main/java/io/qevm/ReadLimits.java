package io.qevm;

import io.qevm.exc.LimitExceededException;
import io.qevm.exc.ReadContext;
import io.qevm.internal.Messages;
import java.util.function.Supplier;

/**
 * Bounds on what the reader will allocate or loop over on the word of the file. Every length read
 * from a stream is checked against the file's size or one of these before it is used; these cover
 * what the file size alone cannot (a JSON description that expands, deep nesting, counts of
 * zero-sized things). Immutable; {@link #DEFAULT} suits any dump QEMU writes.
 *
 * <p>Modelled on jackson-core's {@code StreamReadConstraints}: the reader checks each value
 * through a {@code validate...} method, which throws a {@link LimitExceededException} located by
 * the supplier it is given.
 */
public final class ReadLimits {

    /** The defaults: generous for real dumps, small enough that a hostile file cannot exhaust memory. */
    public static final ReadLimits DEFAULT = builder().build();

    private final int maxDescriptionBytes;
    private final int maxNestingDepth;
    private final int maxArrayLength;
    private final int maxFieldsPerDescription;
    private final int maxBlocks;
    private final int maxCompressedPageBytes;
    private final int maxNameBytes;
    private final int maxCapabilities;
    private final int maxFieldBytes;
    private final int maxEmptyValues;
    private final int maxDecodedPages;
    private final int maxHeldStreamBytes;

    private ReadLimits(Builder b) {
        this.maxDescriptionBytes = b.maxDescriptionBytes;
        this.maxNestingDepth = b.maxNestingDepth;
        this.maxArrayLength = b.maxArrayLength;
        this.maxFieldsPerDescription = b.maxFieldsPerDescription;
        this.maxBlocks = b.maxBlocks;
        this.maxCompressedPageBytes = b.maxCompressedPageBytes;
        this.maxNameBytes = b.maxNameBytes;
        this.maxCapabilities = b.maxCapabilities;
        this.maxFieldBytes = b.maxFieldBytes;
        this.maxEmptyValues = b.maxEmptyValues;
        this.maxDecodedPages = b.maxDecodedPages;
        this.maxHeldStreamBytes = b.maxHeldStreamBytes;
    }

    /** {@return a builder that starts from the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return the largest JSON description read (default 64 MiB; QEMU's are well under 1 MiB)} */
    public int maxDescriptionBytes() {
        return maxDescriptionBytes;
    }

    /** {@return the deepest nesting of structs and subsections, in the JSON and in the stream (default 64)} */
    public int maxNestingDepth() {
        return maxNestingDepth;
    }

    /** {@return the largest {@code array_len} of one field (default 16 Mi elements)} */
    public int maxArrayLength() {
        return maxArrayLength;
    }

    /** {@return the most field entries in the whole JSON description (default 4 Mi)} */
    public int maxFieldsPerDescription() {
        return maxFieldsPerDescription;
    }

    /** {@return the most RAM blocks in the MEM_SIZE block list (default 65536)} */
    public int maxBlocks() {
        return maxBlocks;
    }

    /** {@return the largest length of one COMPRESS_PAGE record (default 1 MiB; zlib grows a page by little)} */
    public int maxCompressedPageBytes() {
        return maxCompressedPageBytes;
    }

    /** {@return the longest machine name in the CONFIGURATION record, a u32 length (default 4096)} */
    public int maxNameBytes() {
        return maxNameBytes;
    }

    /** {@return the most capabilities in the CONFIGURATION record (default 1024; QEMU has a few dozen)} */
    public int maxCapabilities() {
        return maxCapabilities;
    }

    /**
     * {@return the largest device field value, a {@code size} of the JSON description (default 256 MiB; the
     * largest real ones, video memory buffers, are a few MiB)} Consumers format values in memory.
     */
    public int maxFieldBytes() {
        return maxFieldBytes;
    }

    /**
     * {@return the most field values that take no bytes of the stream (zero-sized fields, struct boundaries) in
     * the whole stream (default 1 Mi; the real samples have at most 12,302 struct starts): the one
     * kind of event the file's size does not bound}
     */
    public int maxEmptyValues() {
        return maxEmptyValues;
    }

    /**
     * {@return the most pages whose last copy is an XBZRLE delta, kept decoded in memory to apply the next
     * delta to (default 256 Ki pages: 1 GiB of 4 KiB pages)} A record of a dozen bytes can make
     * the reader keep a page: this bounds what a small file can make it hold.
     */
    public int maxDecodedPages() {
        return maxDecodedPages;
    }

    /**
     * {@return the most bytes of a non-seekable stream held in memory from its first device section to the
     * end of its JSON description (default 256 MiB): the device state cannot be decoded before
     * the description, which QEMU writes after it} Real device state is a few MiB; RAM is never
     * held, nor what follows the description beyond this bound.
     */
    public int maxHeldStreamBytes() {
        return maxHeldStreamBytes;
    }

    // ------------------------------------------------------------------ checks

    /**
     * Checks the size of a JSON VM description against {@link #maxDescriptionBytes()}.
     *
     * @param bytes the description's size in bytes
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code bytes} is over the limit
     */
    public void validateDescriptionBytes(long bytes, Supplier<ReadContext> where) {
        check(bytes, maxDescriptionBytes, "bytes in the JSON VM description", where);
    }

    /**
     * Checks the nesting of structs in the JSON VM description against {@link #maxNestingDepth()}.
     *
     * @param depth the nesting depth
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code depth} is over the limit
     */
    public void validateDescriptionNesting(long depth, Supplier<ReadContext> where) {
        check(depth, maxNestingDepth, "struct nesting in the description", where);
    }

    /**
     * Checks the nesting of structs and subsections in the stream against {@link #maxNestingDepth()}.
     *
     * @param depth the nesting depth
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code depth} is over the limit
     */
    public void validateNesting(long depth, Supplier<ReadContext> where) {
        check(depth, maxNestingDepth, "struct nesting", where);
    }

    /**
     * Checks a field's {@code array_len} against {@link #maxArrayLength()}.
     *
     * @param field the field's name, for the message
     * @param length the array's length
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code length} is over the limit
     */
    public void validateArrayLength(String field, long length, Supplier<ReadContext> where) {
        if (length > maxArrayLength) {
            throw exceeded("array_len of field '" + field + "'", length, maxArrayLength, where);
        }
    }

    /**
     * Checks the number of field entries in the JSON VM description against {@link #maxFieldsPerDescription()}.
     *
     * @param count the number of fields so far
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code count} is over the limit
     */
    public void validateDescriptionFields(long count, Supplier<ReadContext> where) {
        check(count, maxFieldsPerDescription, "fields in the description", where);
    }

    /**
     * Checks the number of RAM blocks in the block list against {@link #maxBlocks()}.
     *
     * @param count the number of blocks
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code count} is over the limit
     */
    public void validateBlocks(long count, Supplier<ReadContext> where) {
        check(count, maxBlocks, "RAM blocks", where);
    }

    /**
     * Checks the length of a compressed page record against {@link #maxCompressedPageBytes()}.
     *
     * @param bytes the record's length in bytes
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code bytes} is over the limit
     */
    public void validateCompressedPageBytes(long bytes, Supplier<ReadContext> where) {
        check(bytes, maxCompressedPageBytes, "bytes in a compressed page", where);
    }

    /**
     * Checks the length of the machine name against {@link #maxNameBytes()}.
     *
     * @param bytes the name's length in bytes
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code bytes} is over the limit
     */
    public void validateNameBytes(long bytes, Supplier<ReadContext> where) {
        check(bytes, maxNameBytes, "bytes in the machine name", where);
    }

    /**
     * Checks the number of capabilities in the CONFIGURATION record against {@link #maxCapabilities()}.
     *
     * @param count the number of capabilities
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code count} is over the limit
     */
    public void validateCapabilities(long count, Supplier<ReadContext> where) {
        check(count, maxCapabilities, "capabilities", where);
    }

    /**
     * Checks the size of a device field's value against {@link #maxFieldBytes()}.
     *
     * @param field the field's name, for the message
     * @param bytes the value's size in bytes
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code bytes} is over the limit
     */
    public void validateFieldBytes(String field, long bytes, Supplier<ReadContext> where) {
        if (bytes > maxFieldBytes) {
            throw exceeded("bytes in field '" + field + "'", bytes, maxFieldBytes, where);
        }
    }

    /**
     * Checks the number of field values that take no bytes against {@link #maxEmptyValues()}.
     *
     * @param count the number of such values so far
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code count} is over the limit
     */
    public void validateEmptyValues(long count, Supplier<ReadContext> where) {
        check(count, maxEmptyValues, "field values of no bytes", where);
    }

    /**
     * Checks the number of pages kept decoded for XBZRLE against {@link #maxDecodedPages()}.
     *
     * @param count the number of pages
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code count} is over the limit
     */
    public void validateDecodedPages(long count, Supplier<ReadContext> where) {
        check(count, maxDecodedPages, "pages kept decoded for XBZRLE", where);
    }

    /**
     * Checks the bytes of a stream held in memory against {@link #maxHeldStreamBytes()}.
     *
     * @param bytes the bytes held
     * @param where where the reader is, for the exception
     * @throws LimitExceededException if {@code bytes} is over the limit
     */
    public void validateHeldStreamBytes(long bytes, Supplier<ReadContext> where) {
        check(bytes, maxHeldStreamBytes, "bytes of device state held until the JSON VM description arrives", where);
    }

    private static void check(long value, long max, String what, Supplier<ReadContext> where) {
        if (value > max) {
            throw exceeded(what, value, max, where);
        }
    }

    private static LimitExceededException exceeded(String what, long value, long max, Supplier<ReadContext> where) {
        return new LimitExceededException(Messages.limit(what, value, max), where.get());
    }

    /** Builds {@link ReadLimits}; every value must be positive. */
    public static final class Builder {
        private int maxDescriptionBytes = 64 << 20;
        private int maxNestingDepth = 64;
        private int maxArrayLength = 16 << 20;
        private int maxFieldsPerDescription = 4 << 20;
        private int maxBlocks = 65536;
        private int maxCompressedPageBytes = 1 << 20;
        private int maxNameBytes = 4096;
        private int maxCapabilities = 1024;
        private int maxFieldBytes = 256 << 20;
        private int maxEmptyValues = 1 << 20;
        private int maxDecodedPages = 1 << 18;
        private int maxHeldStreamBytes = 256 << 20;

        private Builder() {
        }

        /**
         * Sets {@link ReadLimits#maxHeldStreamBytes()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxHeldStreamBytes(int value) {
            this.maxHeldStreamBytes = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxNameBytes()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxNameBytes(int value) {
            this.maxNameBytes = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxCapabilities()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxCapabilities(int value) {
            this.maxCapabilities = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxFieldBytes()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxFieldBytes(int value) {
            this.maxFieldBytes = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxDecodedPages()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxDecodedPages(int value) {
            this.maxDecodedPages = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxEmptyValues()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxEmptyValues(int value) {
            this.maxEmptyValues = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxDescriptionBytes()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxDescriptionBytes(int value) {
            this.maxDescriptionBytes = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxNestingDepth()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxNestingDepth(int value) {
            this.maxNestingDepth = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxArrayLength()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxArrayLength(int value) {
            this.maxArrayLength = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxFieldsPerDescription()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxFieldsPerDescription(int value) {
            this.maxFieldsPerDescription = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxBlocks()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxBlocks(int value) {
            this.maxBlocks = positive(value);
            return this;
        }

        /**
         * Sets {@link ReadLimits#maxCompressedPageBytes()}.
         *
         * @param value the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is not positive
         */
        public Builder maxCompressedPageBytes(int value) {
            this.maxCompressedPageBytes = positive(value);
            return this;
        }

        /** {@return the limits set so far, the others at their defaults} */
        public ReadLimits build() {
            return new ReadLimits(this);
        }

        private static int positive(int value) {
            if (value <= 0) {
                throw new IllegalArgumentException("limit must be positive: " + value);
            }
            return value;
        }
    }
}
