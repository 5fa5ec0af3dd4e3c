package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.policy.PolicyValidation;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A token-bucket rate limit of a service policy rule: {@code requests} per {@code period} on average,
 * with bursts of up to {@code burst} requests, counted separately per {@link Key key}. Immutable.
 *
 * <pre>{@code
 * RateLimit perClient = RateLimit.of(100, Duration.ofSeconds(1));             // burst 100, per source IP
 * RateLimit perSite = RateLimit.builder(6000, Duration.ofMinutes(1))
 *         .burst(200).key(RateLimit.Key.SOURCE_SITE).build();
 * }</pre>
 */
public final class RateLimit {

    /** What the requests are counted by. */
    public enum Key {
        /** One bucket per client IP address. */
        SOURCE_IP,
        /** One bucket per source site (requests from the local site share one bucket). */
        SOURCE_SITE,
        /** One bucket for every request the rule matches. */
        RULE
    }

    private static final Duration MAX_PERIOD = Duration.ofDays(1);

    private final int requests;
    private final Duration period;
    private final int burst;
    private final Key key;

    private RateLimit(Builder b) {
        if (b.requests < 1 || b.requests > 1_000_000_000) {
            throw new ConfigValidationException("requests", b.requests + " (expected: 1-1000000000)");
        }
        if (b.period.compareTo(Duration.ofMillis(1)) < 0 || b.period.compareTo(MAX_PERIOD) > 0) {
            throw new ConfigValidationException("period", PolicyValidation.formatDuration(b.period)
                    + " (expected: 1ms-1d)");
        }
        int burst = b.burst == null ? b.requests : b.burst;
        if (burst < 1 || burst > 1_000_000_000) {
            throw new ConfigValidationException("burst", burst + " (expected: 1-1000000000)");
        }
        this.requests = b.requests;
        this.period = b.period;
        this.burst = burst;
        this.key = b.key;
    }

    /**
     * Returns a limit of {@code requests} per {@code period} per source IP, with a burst of {@code
     * requests}.
     *
     * @param requests requests per period, 1 or more
     * @param period the period, 1ms to 1 day
     * @return the limit
     * @throws ConfigValidationException when a value is out of range
     */
    public static RateLimit of(int requests, Duration period) {
        return builder(requests, period).build();
    }

    /**
     * Returns a builder of a limit of {@code requests} per {@code period}.
     *
     * @param requests requests per period, 1 or more
     * @param period the period, 1ms to 1 day
     * @return a new builder
     */
    public static Builder builder(int requests, Duration period) {
        return new Builder(requests, requireNonNull(period, "period"));
    }

    /**
     * Returns the number of requests allowed per period on average.
     *
     * @return the requests per period
     */
    public int requests() {
        return requests;
    }

    /**
     * Returns the period over which {@link #requests()} are allowed.
     *
     * @return the period
     */
    public Duration period() {
        return period;
    }

    /**
     * Returns the most requests allowed at once after an idle spell: the bucket's capacity.
     *
     * @return the burst
     */
    public int burst() {
        return burst;
    }

    /**
     * Returns what the requests are counted by.
     *
     * @return the key
     */
    public Key key() {
        return key;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (!(o instanceof RateLimit)) {
            return false;
        }
        RateLimit that = (RateLimit) o;
        return that.requests == requests && that.period.equals(period) && that.burst == burst && that.key == key;
    }

    @Override
    public int hashCode() {
        return ((requests * 31 + period.hashCode()) * 31 + burst) * 31 + key.hashCode();
    }

    /**
     * Returns the limit as e.g. {@code 100/1s burst 100 per SOURCE_IP}.
     *
     * @return a short description
     */
    @Override
    public String toString() {
        return requests + "/" + PolicyValidation.formatDuration(period) + " burst " + burst + " per " + key;
    }

    /** Builds a {@link RateLimit}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private final int requests;
        private final Duration period;
        private @Nullable Integer burst;
        private Key key = Key.SOURCE_IP;

        private Builder(int requests, Duration period) {
            this.requests = requests;
            this.period = period;
        }

        /**
         * Sets the bucket's capacity (default: the requests per period).
         *
         * @param burst 1 or more
         * @return this builder
         */
        public Builder burst(int burst) {
            this.burst = burst;
            return this;
        }

        /**
         * Sets what the requests are counted by (default {@link Key#SOURCE_IP}).
         *
         * @param key the key
         * @return this builder
         */
        public Builder key(Key key) {
            this.key = requireNonNull(key, "key");
            return this;
        }

        /**
         * Validates the values and builds the limit.
         *
         * @return the limit
         * @throws ConfigValidationException naming the bad field ({@code requests}, {@code period} or
         *     {@code burst})
         */
        public RateLimit build() {
            return new RateLimit(this);
        }
    }
}
