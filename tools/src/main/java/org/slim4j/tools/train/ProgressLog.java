package org.slim4j.tools.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.slim4j.cuda.CudaOutOfMemoryError;

/**
 * What a user watches while training. Every {@code log_every_n_steps} a line in TF-Slim's form,
 * {@code global step 120: loss = 0.4321 (0.052 sec/step)}, followed by the learning rate, images/s
 * and the time left to {@code max_number_of_steps}. On a terminal a live line ({@code \r}, at most
 * ten redraws a second) shows the same between log lines; elsewhere (a file, CI) only the log
 * lines appear. Speeds are averaged over the steps since the previous log line. On a GPU the log
 * lines end with the peak device memory so far ({@code peak mem 3.2 GiB}).
 */
final class ProgressLog {
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final Long maxSteps;
    private final int logEvery;
    private final int imagesPerStep;
    private final LongSupplier peakBytes;
    private long lastDraw;
    private int liveWidth;
    private double emaSecsPerStep = -1;
    private long intervalSteps;
    private double intervalSecs;

    ProgressLog(PrintStream out, boolean terminal, Long maxSteps, int logEvery, int imagesPerStep) {
        this(out, terminal, maxSteps, logEvery, imagesPerStep, null);
    }

    /** {@code peakBytes}: the device's peak memory, shown in the log lines (null: not shown, the CPU). */
    ProgressLog(PrintStream out, boolean terminal, Long maxSteps, int logEvery, int imagesPerStep, LongSupplier peakBytes) {
        this.peakBytes = peakBytes;
        this.out = out;
        this.terminal = terminal;
        this.maxSteps = maxSteps;
        this.logEvery = logEvery;
        this.imagesPerStep = imagesPerStep;
    }

    /** Reports a finished step; {@code globalStep} is the count after it (TF-Slim's np_global_step). */
    void step(long globalStep, double loss, double learningRate, double stepSecs) {
        emaSecsPerStep = emaSecsPerStep < 0 ? stepSecs : 0.9 * emaSecsPerStep + 0.1 * stepSecs;
        intervalSteps++;
        intervalSecs += stepSecs;
        if (globalStep % logEvery == 0) {
            double secsPerStep = intervalSecs / intervalSteps;
            message(String.format(Locale.ROOT, "global step %d: loss = %.4f (%.3f sec/step)  lr = %s  %.1f images/s%s%s",
                globalStep, loss, secsPerStep, number(learningRate), imagesPerStep / secsPerStep,
                peakBytes == null ? "" : "  peak mem " + CudaOutOfMemoryError.human(peakBytes.getAsLong()), eta(globalStep, secsPerStep)));
            intervalSteps = 0;
            intervalSecs = 0;
        } else if (terminal) {
            long now = System.nanoTime();
            if (now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                String max = maxSteps == null ? "" : "/" + maxSteps;
                live(String.format(Locale.ROOT, "step %d%s  loss %.4f  lr %s  %.1f images/s%s",
                    globalStep, max, loss, number(learningRate), imagesPerStep / emaSecsPerStep, eta(globalStep, emaSecsPerStep)));
            }
        }
    }

    private String eta(long globalStep, double secsPerStep) {
        if (maxSteps == null || globalStep >= maxSteps) return "";
        return "  ETA " + duration((maxSteps - globalStep) * secsPerStep);
    }

    /** The shortest decimal form of a float32 value: 0.01, 0.0094, 1.0E-4. */
    static String number(double v) {
        String s = Float.toString((float) v);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }

    /** 45s, 12m05s, 3h07m. */
    static String duration(double secs) {
        long s = Math.round(secs);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    private void live(String line) {
        int pad = Math.max(0, liveWidth - line.length());
        out.print("\r" + line + " ".repeat(pad));
        out.flush();
        liveWidth = line.length();
    }

    /** Prints a line, keeping the live line (if any) below it. */
    void message(String line) {
        if (terminal && liveWidth > 0) {
            out.print("\r" + " ".repeat(liveWidth) + "\r");
            liveWidth = 0;
        }
        out.println(line);
        out.flush();
    }

    /** Clears the live line. */
    void finish() {
        if (terminal && liveWidth > 0) {
            out.print("\r" + " ".repeat(liveWidth) + "\r");
            out.flush();
            liveWidth = 0;
        }
    }
}
