package org.slim4j.io.download;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Download progress for one file. On a terminal it redraws one line ({@code \r}) with a bar, the
 * bytes so far, the rate and the time left, at most ten times a second; elsewhere (a log file, CI)
 * it prints a plain line at every 10% (every 10 MB when the size is unknown), so logs stay short.
 */
public final class Progress {
    private static final int BAR = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final String name;
    private final long total;
    private final long startBytes;
    private final long startNanos = System.nanoTime();
    private long lastDraw;
    private long nextPlain;
    private long printed = -1;

    /**
     * @param total the file's full size, or &lt; 0 when unknown
     * @param startBytes bytes already on disk (a resumed download)
     */
    public Progress(PrintStream out, boolean terminal, String name, long total, long startBytes) {
        this.out = out;
        this.terminal = terminal;
        this.name = name;
        this.total = total;
        this.startBytes = startBytes;
        this.nextPlain = nextPlainMark(startBytes);
    }

    /** Whether the JVM's standard output is an interactive terminal. */
    public static boolean stdoutIsTerminal() {
        return System.console() != null;
    }

    public void update(long bytes) {
        if (out == null) return;
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                out.print("\r" + line(bytes, now));
                out.flush();
            }
        } else if (bytes >= nextPlain) {
            out.println(line(bytes, now));
            printed = bytes;
            nextPlain = nextPlainMark(bytes);
        }
    }

    /** Final state: the full line on a terminal, followed by a newline. */
    public void done(long bytes) {
        if (out == null) return;
        if (terminal) {
            out.print("\r" + line(bytes, System.nanoTime()) + "\n");
        } else if (printed != bytes) {
            out.println(line(bytes, System.nanoTime()));
        }
        out.flush();
    }

    private long nextPlainMark(long bytes) {
        if (total > 0) {
            long step = Math.max(1, total / 10);
            return (bytes / step + 1) * step;
        }
        long step = 10L << 20;
        return (bytes / step + 1) * step;
    }

    String line(long bytes, long now) {
        double secs = Math.max(1e-3, (now - startNanos) / 1e9);
        double rate = (bytes - startBytes) / secs;
        StringBuilder sb = new StringBuilder();
        sb.append(name).append(' ');
        if (total > 0) {
            double frac = Math.min(1.0, bytes / (double) total);
            if (terminal) {
                int filled = (int) (frac * BAR);
                sb.append('[').append("=".repeat(filled));
                if (filled < BAR) sb.append('>').append(" ".repeat(BAR - filled - 1));
                sb.append("] ");
            }
            sb.append(String.format(Locale.ROOT, "%5.1f%% %s / %s", frac * 100, human(bytes), human(total)));
        } else {
            sb.append(human(bytes));
        }
        sb.append(String.format(Locale.ROOT, "  %s/s", human((long) rate)));
        if (total > 0 && rate > 0 && bytes < total) {
            long left = (long) ((total - bytes) / rate);
            sb.append(String.format(Locale.ROOT, "  %d:%02d left", left / 60, left % 60));
        }
        if (terminal) sb.append("   "); // wipes the tail of a longer previous line
        return sb.toString();
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        double v = bytes;
        String[] units = {"KB", "MB", "GB", "TB"};
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
