package org.slim4j.io.convert;

import java.io.PrintStream;

/**
 * TF-Slim's {@code \r>> Converting image i/n} counter: redrawn in place on a terminal (at most ten
 * times a second), a plain line every 10% otherwise, so logs stay readable.
 */
final class ConsoleCounter {
    private final PrintStream out;
    private final String format;
    private final long total;
    private final boolean terminal;
    private long lastDraw;
    private long nextLine;
    private long last;
    private long printed = -1;

    ConsoleCounter(PrintStream out, String format, long total) {
        this.out = out;
        this.format = format;
        this.total = total;
        this.terminal = out == System.out && System.console() != null;
        this.nextLine = Math.max(1, total / 10);
    }

    void step(long done) {
        last = done;
        if (out == null) return;
        if (terminal) {
            long now = System.nanoTime();
            if (now - lastDraw > 100_000_000L || done == total) {
                lastDraw = now;
                out.print("\r" + String.format(format, done, total));
                out.flush();
            }
        } else if (done >= nextLine) {
            out.println(String.format(format, done, total));
            printed = done;
            nextLine = done + Math.max(1, total / 10);
        }
    }

    void done() {
        if (out == null) return;
        if (terminal) {
            out.print("\r" + String.format(format, last, total) + "\n");
        } else if (printed != last) {
            out.println(String.format(format, last, total));
        }
        out.flush();
    }
}
