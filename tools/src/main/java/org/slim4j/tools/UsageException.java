package org.slim4j.tools;

/** A command line the user got wrong (unknown flag, bad value, missing argument): exit status 2. */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
