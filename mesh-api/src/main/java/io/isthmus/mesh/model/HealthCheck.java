package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.time.Duration;

/**
 * An active HTTP health check of a pool's origins: every {@link #interval()} the router of the
 * origin's site sends {@code GET path}; a 2xx within {@link #timeout()} counts as a success. Immutable.
 *
 * <pre>{@code
 * HealthCheck check = HealthCheck.builder().path("/healthz")
 *         .interval(Duration.ofSeconds(5)).timeout(Duration.ofSeconds(1))
 *         .healthyThreshold(2).unhealthyThreshold(3).build();
 * }</pre>
 */
public final class HealthCheck {

    private final String path;
    private final Duration interval;
    private final Duration timeout;
    private final int healthyThreshold;
    private final int unhealthyThreshold;

    private HealthCheck(Builder b) {
        if (!b.path.startsWith("/")) {
            throw new ConfigValidationException("path", Validation.quote(b.path) + " (expected: a path starting with \"/\")");
        }
        this.path = b.path;
        this.interval = Validation.positive(b.interval, Duration.ofMinutes(10), "interval");
        this.timeout = Validation.positive(b.timeout, Duration.ofMinutes(10), "timeout");
        if (timeout.compareTo(interval) > 0) {
            throw new ConfigValidationException("timeout", timeout + " (expected: at most the interval, " + interval + ')');
        }
        this.healthyThreshold = Validation.range(b.healthyThreshold, 1, 100, "healthyThreshold");
        this.unhealthyThreshold = Validation.range(b.unhealthyThreshold, 1, 100, "unhealthyThreshold");
    }

    /**
     * Returns a builder: {@code /}, every 10s, timeout 2s, 2 successes to become healthy, 3 failures to
     * become unhealthy.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the path requested */
    public String path() {
        return path;
    }

    /** @return the time between two checks of an origin */
    public Duration interval() {
        return interval;
    }

    /** @return how long a check may take */
    public Duration timeout() {
        return timeout;
    }

    /** @return consecutive successes after which an unhealthy origin is healthy again */
    public int healthyThreshold() {
        return healthyThreshold;
    }

    /** @return consecutive failures after which a healthy origin is unhealthy */
    public int unhealthyThreshold() {
        return unhealthyThreshold;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof HealthCheck)) {
            return false;
        }
        HealthCheck that = (HealthCheck) o;
        return path.equals(that.path) && interval.equals(that.interval) && timeout.equals(that.timeout)
                && healthyThreshold == that.healthyThreshold && unhealthyThreshold == that.unhealthyThreshold;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(path, interval, timeout, healthyThreshold, unhealthyThreshold);
    }

    @Override
    public String toString() {
        return "HealthCheck{" + path + ", interval=" + interval + ", timeout=" + timeout + ", healthy="
                + healthyThreshold + ", unhealthy=" + unhealthyThreshold + '}';
    }

    /** Builds a {@link HealthCheck}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private String path = "/";
        private Duration interval = Duration.ofSeconds(10);
        private Duration timeout = Duration.ofSeconds(2);
        private int healthyThreshold = 2;
        private int unhealthyThreshold = 3;

        private Builder() {}

        /**
         * Sets the path requested (default {@code /}).
         *
         * @param path a path starting with {@code /}
         * @return this builder
         */
        public Builder path(String path) {
            this.path = requireNonNull(path, "path");
            return this;
        }

        /**
         * Sets the time between two checks (default 10s).
         *
         * @param interval &gt; 0, at most 10 minutes
         * @return this builder
         */
        public Builder interval(Duration interval) {
            this.interval = requireNonNull(interval, "interval");
            return this;
        }

        /**
         * Sets how long a check may take (default 2s).
         *
         * @param timeout &gt; 0, at most the interval
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Sets the consecutive successes to become healthy (default 2).
         *
         * @param threshold 1-100
         * @return this builder
         */
        public Builder healthyThreshold(int threshold) {
            this.healthyThreshold = threshold;
            return this;
        }

        /**
         * Sets the consecutive failures to become unhealthy (default 3).
         *
         * @param threshold 1-100
         * @return this builder
         */
        public Builder unhealthyThreshold(int threshold) {
            this.unhealthyThreshold = threshold;
            return this;
        }

        /**
         * Validates the values and builds the health check.
         *
         * @return the health check
         * @throws ConfigValidationException naming the bad field relative to the health check
         */
        public HealthCheck build() {
            return new HealthCheck(this);
        }
    }
}
