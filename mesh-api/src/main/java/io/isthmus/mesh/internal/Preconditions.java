package io.isthmus.mesh.internal;

import org.jspecify.annotations.Nullable;

/** Argument checks with messages that carry the bad value and what was expected. */
public final class Preconditions {

    private Preconditions() {}

    /**
     * Throws {@link IllegalArgumentException} with a formatted message when {@code condition} is false.
     *
     * @param condition the condition that must hold
     * @param format a {@link String#format} pattern, e.g. {@code "port: %s (expected: 0-65535)"}
     * @param args the pattern's arguments
     */
    public static void checkArgument(boolean condition, String format, @Nullable Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(String.format(format, args));
        }
    }

    /**
     * Throws {@link IllegalStateException} with a formatted message when {@code condition} is false.
     *
     * @param condition the condition that must hold
     * @param format a {@link String#format} pattern
     * @param args the pattern's arguments
     */
    public static void checkState(boolean condition, String format, @Nullable Object... args) {
        if (!condition) {
            throw new IllegalStateException(String.format(format, args));
        }
    }
}
