package org.slim4j.tools.train;

import java.util.function.Function;

/** Value parsers for flags whose TF-Slim default is None (Flags' typed helpers need a default value). */
public final class FlagParsers {
    private FlagParsers() {
    }

    /** A float in (0, 1), e.g. a moving-average decay. */
    public static Function<String, Double> positiveFraction() {
        return s -> {
            double v;
            try {
                v = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a number");
            }
            if (!(v > 0 && v < 1)) throw new IllegalArgumentException("must be in (0, 1), e.g. 0.9999");
            return v;
        };
    }

    public static Function<String, Integer> positiveInt() {
        return s -> {
            int v;
            try {
                v = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer");
            }
            if (v < 1) throw new IllegalArgumentException("must be >= 1");
            return v;
        };
    }

    public static Function<String, Long> nonNegativeLong() {
        return s -> {
            long v = anyLong().apply(s);
            if (v < 0) throw new IllegalArgumentException("must be >= 0");
            return v;
        };
    }

    public static Function<String, Long> anyLong() {
        return s -> {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an integer");
            }
        };
    }
}
