package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Durations;
import io.isthmus.mesh.internal.Validation;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * When and how often a route retries a request that failed. By default only idempotent methods
 * ({@link #IDEMPOTENT_METHODS}) are retried. Immutable.
 *
 * <pre>{@code
 * RetryPolicy retry = RetryPolicy.builder()
 *         .attempts(3)
 *         .retryOn(RetryPolicy.RetryOn.CONNECT_FAILURE, RetryPolicy.RetryOn.GATEWAY_ERROR)
 *         .perTryTimeout(Duration.ofSeconds(2))
 *         .build();
 * }</pre>
 */
public final class RetryPolicy {

    /** The methods retried unless {@link Builder#retryNonIdempotent(boolean)} is set. */
    public static final Set<String> IDEMPOTENT_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE");

    /** The longest per-try timeout accepted. */
    public static final Duration MAX_TIMEOUT = Duration.ofHours(1);

    /** The conditions on which a request is retried. */
    public enum RetryOn {
        /** The connection to the origin (or the tunnel) could not be opened. */
        CONNECT_FAILURE("connect-failure"),
        /** The connection or stream was reset before a response. */
        RESET("reset"),
        /** The origin answered 502, 503 or 504. */
        GATEWAY_ERROR("gateway-error"),
        /** The origin answered any 5xx status. */
        SERVER_ERROR("5xx"),
        /** A try ran out of its per-try timeout. */
        TIMEOUT("timeout");

        private final String documentName;

        RetryOn(String documentName) {
            this.documentName = documentName;
        }

        /**
         * Returns the name used in documents, e.g. {@code connect-failure}.
         *
         * @return the name
         */
        public String documentName() {
            return documentName;
        }

        /**
         * Parses a document name ({@code 5xx}) or constant name ({@code SERVER_ERROR}), ignoring case.
         *
         * @param name the name
         * @param path the field path for the error
         * @return the condition
         * @throws ConfigValidationException naming the field when no condition has that name
         */
        public static RetryOn parse(String name, String path) {
            for (RetryOn r : values()) {
                if (r.documentName.equalsIgnoreCase(name) || r.name().equalsIgnoreCase(name)) {
                    return r;
                }
            }
            throw new ConfigValidationException(path, Validation.quote(name)
                    + " (expected: one of connect-failure, reset, gateway-error, 5xx, timeout)");
        }

        @Override
        public String toString() {
            return documentName;
        }
    }

    private final int attempts;
    private final Set<RetryOn> retryOn;
    private final @Nullable Duration perTryTimeout;
    private final boolean retryNonIdempotent;

    private RetryPolicy(Builder b) {
        this.attempts = Validation.range(b.attempts, 1, 10, "attempts");
        if (b.retryOn.isEmpty()) {
            throw new ConfigValidationException("retryOn", "[] (expected: at least one condition)");
        }
        this.retryOn = Collections.unmodifiableSet(EnumSet.copyOf(b.retryOn));
        this.perTryTimeout = b.perTryTimeout == null ? null
                : Validation.positive(b.perTryTimeout, MAX_TIMEOUT, "perTryTimeout");
        this.retryNonIdempotent = b.retryNonIdempotent;
    }

    /**
     * Returns a builder: 2 retries on connect failure, reset and gateway errors, idempotent methods only.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return how many times a failed request is retried after its first try, 1-10 */
    public int attempts() {
        return attempts;
    }

    /** @return the conditions that trigger a retry, never empty */
    public Set<RetryOn> retryOn() {
        return retryOn;
    }

    /** @return the timeout of each try, or {@code null} to use only the route's timeout */
    public @Nullable Duration perTryTimeout() {
        return perTryTimeout;
    }

    /** @return whether non-idempotent methods such as POST are retried too */
    public boolean retryNonIdempotent() {
        return retryNonIdempotent;
    }

    /**
     * Returns whether a request with this method may be retried.
     *
     * @param method the upper-case method
     * @return {@code true} when it may
     */
    public boolean retries(String method) {
        return retryNonIdempotent || IDEMPOTENT_METHODS.contains(method);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RetryPolicy)) {
            return false;
        }
        RetryPolicy that = (RetryPolicy) o;
        return attempts == that.attempts && retryOn.equals(that.retryOn)
                && java.util.Objects.equals(perTryTimeout, that.perTryTimeout)
                && retryNonIdempotent == that.retryNonIdempotent;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(attempts, retryOn, perTryTimeout, retryNonIdempotent);
    }

    @Override
    public String toString() {
        return "RetryPolicy{attempts=" + attempts + ", retryOn=" + retryOn + ", perTryTimeout="
                + (perTryTimeout == null ? "none" : Durations.format(perTryTimeout))
                + ", retryNonIdempotent=" + retryNonIdempotent + '}';
    }

    /** Builds a {@link RetryPolicy}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private int attempts = 2;
        private final Set<RetryOn> retryOn = EnumSet.noneOf(RetryOn.class);
        private boolean retryOnSet;
        private @Nullable Duration perTryTimeout;
        private boolean retryNonIdempotent;

        private Builder() {}

        /**
         * Sets how many times a failed request is retried after its first try (default 2).
         *
         * @param attempts 1-10
         * @return this builder
         */
        public Builder attempts(int attempts) {
            this.attempts = attempts;
            return this;
        }

        /**
         * Sets the conditions that trigger a retry (default connect-failure, reset, gateway-error).
         *
         * @param conditions the conditions
         * @return this builder
         */
        public Builder retryOn(RetryOn... conditions) {
            return retryOn(List.of(conditions));
        }

        /**
         * Sets the conditions that trigger a retry (default connect-failure, reset, gateway-error).
         *
         * @param conditions the conditions
         * @return this builder
         */
        public Builder retryOn(List<RetryOn> conditions) {
            retryOnSet = true;
            retryOn.clear();
            conditions.forEach(c -> retryOn.add(requireNonNull(c, "condition")));
            return this;
        }

        /**
         * Sets the timeout of each try.
         *
         * @param timeout &gt; 0, at most an hour
         * @return this builder
         */
        public Builder perTryTimeout(Duration timeout) {
            this.perTryTimeout = requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Sets whether non-idempotent methods such as POST are retried too (default {@code false}).
         *
         * @param retry {@code true} to retry every method
         * @return this builder
         */
        public Builder retryNonIdempotent(boolean retry) {
            this.retryNonIdempotent = retry;
            return this;
        }

        /**
         * Validates the values and builds the policy.
         *
         * @return the policy
         * @throws ConfigValidationException naming the bad field relative to the policy
         */
        public RetryPolicy build() {
            if (!retryOnSet) {
                retryOn.addAll(EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.RESET, RetryOn.GATEWAY_ERROR));
            }
            return new RetryPolicy(this);
        }
    }
}
