package io.isthmus.mesh.k8s.internal;

import static io.isthmus.mesh.internal.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** Exponential backoff: {@code initial * 2^(attempt - 1)}, capped at {@code max}. Immutable. */
public final class Backoff {

    private final Duration initial;
    private final Duration max;

    /**
     * Returns a backoff.
     *
     * @param initial the delay after the first failure, positive
     * @param max the largest delay, at least {@code initial}
     */
    public Backoff(Duration initial, Duration max) {
        requireNonNull(initial, "initial");
        requireNonNull(max, "max");
        checkArgument(!initial.isNegative() && !initial.isZero(), "initial: %s (expected: > 0)", initial);
        checkArgument(max.compareTo(initial) >= 0, "max: %s (expected: >= initial %s)", max, initial);
        this.initial = initial;
        this.max = max;
    }

    /**
     * Returns the delay before the next attempt.
     *
     * @param failures the number of consecutive failures so far, at least 1
     * @return the delay
     */
    public Duration delay(int failures) {
        int shift = Math.min(Math.max(failures, 1) - 1, 30);
        Duration d = initial.multipliedBy(1L << shift);
        return d.compareTo(max) > 0 ? max : d;
    }
}
