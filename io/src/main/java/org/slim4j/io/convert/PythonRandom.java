package org.slim4j.io.convert;

import java.util.List;

/**
 * CPython's {@code random.Random} (MT19937), so that slim4j's converters split and order data
 * exactly as TF-Slim's scripts do: {@code random.seed(0); random.shuffle(photo_filenames)} for
 * flowers (Python 3's shuffle) and {@code random.seed(12345); random.shuffle(shuffled_index)} for
 * build_imagenet_data (a Python 2 script: Python 2's shuffle, which draws floats).
 *
 * <p>Seeding follows CPython for an integer seed: {@code init_by_array} over the 32-bit words of
 * |seed|, least significant first (one zero word for 0). Not thread-safe.
 */
public final class PythonRandom {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] mt = new int[N];
    private int mti;

    public PythonRandom(long seed) {
        seed(seed);
    }

    /** {@code random.seed(seed)} for an integer seed. */
    public void seed(long seed) {
        // abs() of Long.MIN_VALUE does not fit a long; its magnitude 2^63 is the words {0, 0x80000000}.
        long mag = seed == Long.MIN_VALUE ? Long.MIN_VALUE : Math.abs(seed);
        int hi = (int) (mag >>> 32);
        int[] key = hi != 0 ? new int[] {(int) mag, hi} : new int[] {(int) mag};
        initByArray(key);
    }

    private void initGenrand(int s) {
        mt[0] = s;
        for (mti = 1; mti < N; mti++) {
            mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
        }
    }

    private void initByArray(int[] key) {
        initGenrand(19650218);
        int i = 1;
        int j = 0;
        for (int k = Math.max(N, key.length); k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
            i++;
            j++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if (j >= key.length) j = 0;
        }
        for (int k = N - 1; k > 0; k--) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
            i++;
            if (i >= N) {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000;
    }

    /** The next 32 random bits (MT19937's genrand_uint32), as an unsigned value in a long. */
    public long nextUint32() {
        if (mti >= N) {
            int kk;
            for (kk = 0; kk < N - M; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            for (; kk < N - 1; kk++) {
                int y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
                mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            }
            int y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
            mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
            mti = 0;
        }
        int y = mt[mti++];
        y ^= (y >>> 11);
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= (y >>> 18);
        return y & 0xffffffffL;
    }

    /** {@code random.random()}: uniform in [0, 1) with 53 bits. */
    public double random() {
        long a = nextUint32() >>> 5;
        long b = nextUint32() >>> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

    /** {@code random.getrandbits(k)} for 0 &lt; k &lt;= 32. */
    public long getrandbits(int k) {
        if (k <= 0 || k > 32) throw new IllegalArgumentException("k must be in [1, 32], got " + k);
        return nextUint32() >>> (32 - k);
    }

    /** {@code random._randbelow(n)} (Python 3): rejection sampling on bit_length(n) random bits. */
    public int randbelow(int n) {
        if (n <= 0) throw new IllegalArgumentException("n must be positive, got " + n);
        int k = 32 - Integer.numberOfLeadingZeros(n);
        long r = getrandbits(k);
        while (r >= n) r = getrandbits(k);
        return (int) r;
    }

    /** Python 3's {@code random.shuffle(x)}, in place. */
    public <T> void shuffle(List<T> x) {
        for (int i = x.size() - 1; i > 0; i--) {
            int j = randbelow(i + 1);
            T t = x.get(i);
            x.set(i, x.get(j));
            x.set(j, t);
        }
    }

    /** Python 2's {@code random.shuffle(x)}, in place: {@code j = int(random() * (i + 1))}. */
    public <T> void shufflePython2(List<T> x) {
        for (int i = x.size() - 1; i > 0; i--) {
            int j = (int) (random() * (i + 1));
            T t = x.get(i);
            x.set(i, x.get(j));
            x.set(j, t);
        }
    }
}
