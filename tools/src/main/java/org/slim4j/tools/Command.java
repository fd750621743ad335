package org.slim4j.tools;

import java.io.PrintStream;

/**
 * One {@code slim4j <command>}. An instance is created per invocation: it defines its flags on
 * its own {@link Flags} (usually as fields), {@link Main} parses the command line into them, then
 * calls {@link #run}.
 */
public interface Command {
    /** The word typed after {@code slim4j}. */
    String name();

    /** One line for {@code slim4j help}. */
    String description();

    /** This command's flag definitions; {@link Main} parses the arguments into them before {@link #run}. */
    Flags flags();

    /**
     * Does the work. Returns the exit status ({@link Main#EXIT_OK} or {@link Main#EXIT_FAILURE});
     * throws {@link UsageException} for bad flag combinations (exit 2) and any other exception for
     * a failure (exit 1, its message is printed).
     */
    int run(PrintStream out, PrintStream err) throws Exception;
}
