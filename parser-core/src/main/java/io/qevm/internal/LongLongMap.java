package io.qevm.internal;

import java.util.Arrays;

/**
 * An open-addressing map from non-negative long keys to long values: 16 bytes an entry and no
 * boxing, for per-page bookkeeping over millions of pages. Not part of the API.
 */
public final class LongLongMap {

    private static final long EMPTY = -1;

    private long[] keys;
    private long[] values;
    private int size;

    public LongLongMap() {
        keys = emptyKeys(1 << 10);
        values = new long[1 << 10];
    }

    /** The value for {@code key}, or {@code missing}. */
    public long get(long key, long missing) {
        int i = find(key);
        return keys[i] == EMPTY ? missing : values[i];
    }

    /** Sets {@code key} to {@code value}; returns the previous value or {@code missing}. */
    public long put(long key, long value, long missing) {
        if (key < 0) {
            throw new IllegalArgumentException("negative key " + key);
        }
        int i = find(key);
        if (keys[i] == EMPTY) {
            keys[i] = key;
            values[i] = value;
            if (++size * 2 > keys.length) {
                grow();
            }
            return missing;
        }
        long previous = values[i];
        values[i] = value;
        return previous;
    }

    public int size() {
        return size;
    }

    private int find(long key) {
        int mask = keys.length - 1;
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (keys[i] != EMPTY && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = emptyKeys(oldKeys.length * 2);
        values = new long[oldKeys.length * 2];
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != EMPTY) {
                int i = find(oldKeys[j]);
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static long[] emptyKeys(int length) {
        long[] keys = new long[length];
        Arrays.fill(keys, EMPTY);
        return keys;
    }
}
