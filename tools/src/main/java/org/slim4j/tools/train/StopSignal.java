package org.slim4j.tools.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * SIGINT (Ctrl-C) and SIGTERM as a polite stop request: the first one sets {@link #requested()} so
 * the loop can finish its step, write a checkpoint and exit; a second one exits at once (checkpoints
 * are written atomically, so even that leaves the last one intact). The previous handlers come back
 * on {@link #close()}. Where the JVM offers no signal API, nothing is installed and only an explicit
 * {@link #request} stops.
 */
@SuppressWarnings("removal")
public final class StopSignal implements AutoCloseable {
    private final PrintStream log;
    private final List<Object[]> previous = new ArrayList<>();
    private volatile String signal;

    private StopSignal(PrintStream log) {
        this.log = log;
    }

    /** Installs handlers for INT and TERM; {@code log} gets one line when a signal arrives. */
    public static StopSignal install(PrintStream log) {
        StopSignal s = new StopSignal(log);
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                sun.misc.Signal sig = new sun.misc.Signal(name);
                sun.misc.SignalHandler old = sun.misc.Signal.handle(sig, x -> s.onSignal("SIG" + name));
                s.previous.add(new Object[] {sig, old});
            } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
                // No such signal here, or the JVM reserves it (-Xrs): run without a handler for it.
            }
        }
        return s;
    }

    private void onSignal(String name) {
        if (signal != null) {
            log.println("\n" + name + " again: exiting now (the last checkpoint is intact)");
            log.flush();
            Runtime.getRuntime().halt(name.equals("SIGINT") ? 130 : 143);
        }
        signal = name;
        log.println("\n" + name + ": finishing this step, writing a checkpoint, then exiting (send it again to exit at once)");
        log.flush();
    }

    /** Asks the loop to stop as a signal would (tests, embedding). */
    public void request(String why) {
        signal = why;
    }

    public boolean requested() {
        return signal != null;
    }

    /** The signal that asked to stop, e.g. SIGINT, or null. */
    public String signal() {
        return signal;
    }

    /** The shell's exit status for the signal: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
    public int exitStatus() {
        if ("SIGINT".equals(signal)) return 130;
        if ("SIGTERM".equals(signal)) return 143;
        return 1;
    }

    @Override
    public void close() {
        for (Object[] p : previous) {
            try {
                sun.misc.Signal.handle((sun.misc.Signal) p[0], (sun.misc.SignalHandler) p[1]);
            } catch (IllegalArgumentException e) {
                // nothing to restore
            }
        }
        previous.clear();
    }
}
