package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Validation;
import java.time.Duration;

/**
 * Passive health: an origin that answers {@link #consecutive5xx()} 5xx responses in a row is ejected
 * from the pool for {@link #baseEjectionTime()} (longer each time it is ejected again), but never more
 * than {@link #maxEjectionPercent()} of the pool's origins at once. Immutable.
 *
 * <pre>{@code
 * OutlierDetection od = OutlierDetection.builder().consecutive5xx(5)
 *         .baseEjectionTime(Duration.ofSeconds(30)).maxEjectionPercent(50).build();
 * }</pre>
 */
public final class OutlierDetection {

    private final int consecutive5xx;
    private final Duration baseEjectionTime;
    private final int maxEjectionPercent;

    private OutlierDetection(Builder b) {
        this.consecutive5xx = Validation.range(b.consecutive5xx, 1, 1000, "consecutive5xx");
        this.baseEjectionTime = Validation.positive(b.baseEjectionTime, Duration.ofHours(1), "baseEjectionTime");
        this.maxEjectionPercent = Validation.range(b.maxEjectionPercent, 0, 100, "maxEjectionPercent");
    }

    /**
     * Returns a builder: 5 consecutive 5xx, 30s ejection, at most 10% ejected.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the consecutive 5xx responses that eject an origin */
    public int consecutive5xx() {
        return consecutive5xx;
    }

    /** @return the time an origin stays ejected the first time */
    public Duration baseEjectionTime() {
        return baseEjectionTime;
    }

    /** @return the largest share of the pool's origins ejected at once, 0-100 */
    public int maxEjectionPercent() {
        return maxEjectionPercent;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof OutlierDetection)) {
            return false;
        }
        OutlierDetection that = (OutlierDetection) o;
        return consecutive5xx == that.consecutive5xx && baseEjectionTime.equals(that.baseEjectionTime)
                && maxEjectionPercent == that.maxEjectionPercent;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(consecutive5xx, baseEjectionTime, maxEjectionPercent);
    }

    @Override
    public String toString() {
        return "OutlierDetection{consecutive5xx=" + consecutive5xx + ", baseEjectionTime=" + baseEjectionTime
                + ", maxEjectionPercent=" + maxEjectionPercent + '}';
    }

    /** Builds an {@link OutlierDetection}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private int consecutive5xx = 5;
        private Duration baseEjectionTime = Duration.ofSeconds(30);
        private int maxEjectionPercent = 10;

        private Builder() {}

        /**
         * Sets the consecutive 5xx responses that eject an origin (default 5).
         *
         * @param count 1-1000
         * @return this builder
         */
        public Builder consecutive5xx(int count) {
            this.consecutive5xx = count;
            return this;
        }

        /**
         * Sets the time an origin stays ejected the first time (default 30s).
         *
         * @param time &gt; 0, at most an hour
         * @return this builder
         */
        public Builder baseEjectionTime(Duration time) {
            this.baseEjectionTime = requireNonNull(time, "time");
            return this;
        }

        /**
         * Sets the largest share of origins ejected at once (default 10).
         *
         * @param percent 0-100
         * @return this builder
         */
        public Builder maxEjectionPercent(int percent) {
            this.maxEjectionPercent = percent;
            return this;
        }

        /**
         * Validates the values and builds the settings.
         *
         * @return the settings
         * @throws io.isthmus.mesh.config.ConfigValidationException naming the bad field
         */
        public OutlierDetection build() {
            return new OutlierDetection(this);
        }
    }
}
