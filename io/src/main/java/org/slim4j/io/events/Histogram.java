package org.slim4j.io.events;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slim4j.io.proto.HistogramProto;

/**
 * TensorFlow's summary histogram: fixed exponential buckets (limits ±1e-12 · 1.1^k up to 1e20,
 * then ±DBL_MAX), runs of empty buckets collapsed when encoded, as TensorBoard expects.
 */
public final class Histogram {
    private static final double[] LIMITS = defaultLimits();

    private final double[] counts = new double[LIMITS.length];
    private double min = Double.MAX_VALUE;
    private double max = -Double.MAX_VALUE;
    private double num;
    private double sum;
    private double sumSquares;

    private static double[] defaultLimits() {
        List<Double> pos = new ArrayList<>();
        for (double v = 1e-12; v < 1e20; v *= 1.1) pos.add(v);
        double[] limits = new double[2 * pos.size() + 2];
        int k = 0;
        for (int i = pos.size() - 1; i >= 0; i--) limits[k++] = -pos.get(i);
        limits[k++] = 0.0;
        for (double p : pos) limits[k++] = p;
        limits[k] = Double.MAX_VALUE;
        return limits;
    }

    public void add(double value) {
        // Bucket i holds values in [limit[i-1], limit[i]): the first limit greater than value.
        int idx = Arrays.binarySearch(LIMITS, value);
        int bucket = idx >= 0 ? idx + 1 : -idx - 1;
        counts[Math.min(bucket, LIMITS.length - 1)] += 1;
        min = Math.min(min, value);
        max = Math.max(max, value);
        num += 1;
        sum += value;
        sumSquares += value * value;
    }

    public static Histogram of(float[] values) {
        Histogram h = new Histogram();
        for (float v : values) h.add(v);
        return h;
    }

    public HistogramProto toProto() {
        HistogramProto.Builder b = HistogramProto.newBuilder()
            .setMin(num == 0 ? 0 : min).setMax(num == 0 ? 0 : max).setNum(num).setSum(sum).setSumSquares(sumSquares);
        for (int i = 0; i < counts.length; ) {
            double end = LIMITS[i];
            double count = counts[i];
            i++;
            if (count <= 0) {
                while (i < counts.length && counts[i] <= 0) {
                    end = LIMITS[i];
                    count = counts[i];
                    i++;
                }
            }
            b.addBucketLimit(end).addBucket(count);
        }
        return b.build();
    }
}
