package io.qevm;

import io.qevm.internal.Messages;
import io.qevm.ram.RamSection;

/**
 * How a {@link MigrationReader} reads: its features, its {@link ReadLimits}, and a page size for
 * streams that do not give one. Immutable; {@link #DEFAULT} reads any dump QEMU writes. Features
 * are enums with defaults and bitmasks, as jackson-core's {@code StreamReadFeature}.
 */
public final class ReadOptions {

    /** What a reader does; each has a default. */
    public enum Feature {
        /**
         * A stream without a JSON VM description (saved with {@code suppress-vmdesc=on}) is an
         * error: {@link io.qevm.exc.MissingDescriptionException}. Disabled, the reader reads RAM
         * anyway and returns EOF at the first device section after it (see
         * {@link MigrationReader#deviceStateSkippedAt()}); one before RAM is complete is still an
         * error, as device sections cannot be skipped without their description. Default: on.
         */
        REQUIRE_DESCRIPTION(true),
        /**
         * The reader keeps one bit for each page sent, so that
         * {@link MigrationReader#isResend()} can tell a page's first copy from a later one (a
         * live migration sends dirtied pages again). Default: off, as it costs a little on every
         * page: a bit per page of guest RAM, in chunks allocated as pages arrive.
         */
        TRACK_RESENDS(false),
        /**
         * A dump file of more than 128 MiB is mapped ahead of the reader by a second thread, on a
         * machine with more than one core: a walk through a mapped file spends most of its time
         * in the kernel mapping pages, which the other core takes on (a 3.2 GB dump's
         * {@code -d state} in half the time; {@code qevm diff}, which indexes two dumps at once,
         * 12% faster). Off, no thread is started: for a caller that keeps every core busy with
         * work of its own. Default: on.
         */
        MAP_AHEAD(true);

        private final boolean enabledByDefault;

        Feature(boolean enabledByDefault) {
            this.enabledByDefault = enabledByDefault;
        }

        /** {@return whether the feature is on unless a {@link Builder} turns it off} */
        public boolean enabledByDefault() {
            return enabledByDefault;
        }

        int mask() {
            return 1 << ordinal();
        }
    }

    /** Every feature at its default, {@link ReadLimits#DEFAULT}, page size from the stream. */
    public static final ReadOptions DEFAULT = builder().build();

    private final int features;
    private final ReadLimits limits;
    private final long pageSize;
    private final String snapshot;

    private ReadOptions(Builder b) {
        this.features = b.features;
        this.limits = b.limits;
        this.pageSize = b.pageSize;
        this.snapshot = b.snapshot;
    }

    /** {@return a builder that starts from every feature's default} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * {@return whether a feature is on}
     *
     * @param feature the feature
     */
    public boolean isEnabled(Feature feature) {
        return (features & feature.mask()) != 0;
    }

    /** {@return the bounds the reader checks what it reads against} */
    public ReadLimits limits() {
        return limits;
    }

    /** {@return the page size given for streams that do not say it, or -1 (the reader tells it from the records)} */
    public long pageSize() {
        return pageSize;
    }

    /**
     * {@return the internal snapshot of a qcow2 image to read, by ID or name, or null for the most
     * recent one that holds VM state}
     */
    public String snapshot() {
        return snapshot;
    }

    /** Builds {@link ReadOptions}. */
    public static final class Builder {
        private int features;
        private ReadLimits limits = ReadLimits.DEFAULT;
        private long pageSize = -1;
        private String snapshot;

        private Builder() {
            for (Feature feature : Feature.values()) {
                if (feature.enabledByDefault()) {
                    features |= feature.mask();
                }
            }
        }

        /**
         * Turns a feature on.
         *
         * @param feature the feature
         * @return this builder
         */
        public Builder enable(Feature feature) {
            features |= feature.mask();
            return this;
        }

        /**
         * Turns a feature off.
         *
         * @param feature the feature
         * @return this builder
         */
        public Builder disable(Feature feature) {
            features &= ~feature.mask();
            return this;
        }

        /**
         * Sets the bounds the reader checks against ({@link ReadLimits#DEFAULT} unless set).
         *
         * @param limits the bounds
         * @return this builder
         */
        public Builder limits(ReadLimits limits) {
            this.limits = java.util.Objects.requireNonNull(limits, "limits");
            return this;
        }

        /**
         * Sets the target page size to read RAM with when the stream gives none before its pages
         * (no JSON description and no target-page-bits), a power of two from 512 to 1 MiB: taken
         * if the RAM records read as pages of that size. Without it, or when they do not, the
         * reader tells the size from the records themselves; the description checks it later.
         *
         * @param pageSize the page size in bytes
         * @return this builder
         * @throws IllegalArgumentException if it is not such a power of two
         */
        public Builder pageSize(long pageSize) {
            if (!RamSection.validPageSize(pageSize)) {
                throw new IllegalArgumentException(Messages.badPageSize(pageSize));
            }
            this.pageSize = pageSize;
            return this;
        }

        /**
         * Chooses the internal snapshot of a qcow2 image ({@code savevm}) whose VM state to read:
         * the one with this ID, else the first with this name, as QEMU's {@code loadvm} looks
         * them up. Without it, the reader reads the most recent snapshot that holds VM state (the
         * newest date; among equal dates, the last in the table). Opening anything but a qcow2
         * image with a snapshot chosen is an error.
         *
         * @param idOrName the snapshot's ID or name, or null for the most recent
         * @return this builder
         * @throws IllegalArgumentException if it is empty
         */
        public Builder snapshot(String idOrName) {
            if (idOrName != null && idOrName.isEmpty()) {
                throw new IllegalArgumentException("empty snapshot ID or name");
            }
            this.snapshot = idOrName;
            return this;
        }

        /** {@return the options set so far, the others at their defaults} */
        public ReadOptions build() {
            return new ReadOptions(this);
        }
    }
}
