package io.isthmus.mesh.policy;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import io.isthmus.mesh.model.RateLimit;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A keyed token-bucket rate limiter for one {@link RateLimit}: each key (a client address, a site, or
 * one key for a whole rule) has a bucket of {@link RateLimit#burst()} tokens that refills at {@link
 * RateLimit#requests()} per {@link RateLimit#period()}. Thread-safe and lock-free.
 *
 * <p>Each bucket is a single {@link AtomicLong} holding the bucket's "theoretical arrival time" (the
 * generic cell rate algorithm, equivalent to a token bucket), updated by compare-and-set. Memory is
 * bounded: when a new key would exceed {@code maxKeys}, buckets that have refilled completely (which
 * are equivalent to absent ones) are dropped first; if that is not enough, arbitrary buckets are
 * dropped, which gives their keys a fresh burst. The map may briefly exceed {@code maxKeys} by the
 * number of threads inserting concurrently.
 *
 * <p>Time comes from a ticker in nanoseconds ({@link System#nanoTime()} by default); tests inject their
 * own.
 *
 * <pre>{@code
 * RateLimiter limiter = RateLimiter.builder(RateLimit.of(100, Duration.ofSeconds(1))).maxKeys(50_000).build();
 * if (!limiter.tryAcquire(clientAddress)) {
 *     // answer 429 Too Many Requests
 * }
 * }</pre>
 */
public final class RateLimiter {

    /** The default bound on the number of keys tracked at once. */
    public static final int DEFAULT_MAX_KEYS = 10_000;

    // Compare-and-set retries before a request is refused as if over the limit; each failure means that
    // another request on the same key went through, so the bound is only reached under heavy contention.
    private static final int MAX_ATTEMPTS = 64;

    private final RateLimit limit;
    private final LongSupplier ticker;
    private final int maxKeys;
    private final long emissionNanos;
    private final long capacityNanos;
    private final ConcurrentHashMap<Object, AtomicLong> buckets = new ConcurrentHashMap<>();
    private final AtomicBoolean evicting = new AtomicBoolean();

    private RateLimiter(Builder b) {
        this.limit = b.limit;
        this.ticker = b.ticker;
        this.maxKeys = b.maxKeys;
        long periodNanos = limit.period().toNanos();
        this.emissionNanos = Math.max(1, periodNanos / limit.requests());
        // Saturates rather than overflows for a burst of a billion over a day.
        this.capacityNanos = emissionNanos > Long.MAX_VALUE / 4 / limit.burst()
                ? Long.MAX_VALUE / 4 : emissionNanos * limit.burst();
    }

    /**
     * Returns a limiter on the system ticker with up to {@value #DEFAULT_MAX_KEYS} keys.
     *
     * @param limit the limit
     * @return the limiter
     */
    public static RateLimiter of(RateLimit limit) {
        return builder(limit).build();
    }

    /**
     * Returns a builder of a limiter.
     *
     * @param limit the limit
     * @return a new builder
     */
    public static Builder builder(RateLimit limit) {
        return new Builder(requireNonNull(limit, "limit"));
    }

    /**
     * Takes a token from the key's bucket, if there is one.
     *
     * @param key what the request is counted by; any value with {@code equals} and {@code hashCode}
     * @return {@code true} when the request is within the limit, {@code false} when it must be refused
     */
    public boolean tryAcquire(Object key) {
        requireNonNull(key, "key");
        long now = ticker.getAsLong();
        AtomicLong bucket = buckets.get(key);
        if (bucket == null) {
            if (buckets.size() >= maxKeys) {
                evict(now);
            }
            // A new bucket is full: its theoretical arrival time is now.
            bucket = buckets.computeIfAbsent(key, k -> new AtomicLong(now));
        }
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            long tat = bucket.get();
            long base = tat - now > 0 ? tat : now;
            long next = base + emissionNanos;
            if (next - now > capacityNanos) {
                return false;
            }
            if (bucket.compareAndSet(tat, next)) {
                return true;
            }
        }
        return false;
    }

    private void evict(long now) {
        if (!evicting.compareAndSet(false, true)) {
            return;
        }
        try {
            // Full buckets first: dropping them changes no decision.
            buckets.values().removeIf(b -> b.get() - now <= 0);
            int target = Math.max(0, maxKeys - Math.max(1, maxKeys / 10));
            Iterator<Map.Entry<Object, AtomicLong>> it = buckets.entrySet().iterator();
            int budget = buckets.size();
            while (buckets.size() > target && it.hasNext() && budget-- > 0) {
                it.next();
                it.remove();
            }
        } finally {
            evicting.set(false);
        }
    }

    /**
     * Returns how many tokens a key's bucket holds now, rounded down; {@link RateLimit#burst()} for a
     * key not seen (or evicted).
     *
     * @param key the key
     * @return the tokens available
     */
    public long available(Object key) {
        AtomicLong bucket = buckets.get(requireNonNull(key, "key"));
        if (bucket == null) {
            return limit.burst();
        }
        long now = ticker.getAsLong();
        long used = Math.max(0, bucket.get() - now);
        return (capacityNanos - used) / emissionNanos;
    }

    /** @return the number of keys tracked now */
    public int size() {
        return buckets.size();
    }

    /** @return the limit this limiter enforces */
    public RateLimit limit() {
        return limit;
    }

    /** @return the bound on the number of keys tracked at once */
    public int maxKeys() {
        return maxKeys;
    }

    @Override
    public String toString() {
        return "RateLimiter{" + limit + ", keys=" + buckets.size() + '/' + maxKeys + '}';
    }

    /** Builds a {@link RateLimiter}. Not thread-safe. */
    public static final class Builder {

        private final RateLimit limit;
        private LongSupplier ticker = System::nanoTime;
        private int maxKeys = DEFAULT_MAX_KEYS;

        private Builder(RateLimit limit) {
            this.limit = limit;
        }

        /**
         * Sets the time source (default {@link System#nanoTime()}).
         *
         * @param nanoTicker returns a monotonic time in nanoseconds
         * @return this builder
         */
        public Builder ticker(LongSupplier nanoTicker) {
            this.ticker = requireNonNull(nanoTicker, "nanoTicker");
            return this;
        }

        /**
         * Sets the bound on the number of keys tracked at once (default {@value RateLimiter#DEFAULT_MAX_KEYS}).
         *
         * @param maxKeys 1 or more
         * @return this builder
         */
        public Builder maxKeys(int maxKeys) {
            Preconditions.checkArgument(maxKeys > 0, "maxKeys: %s (expected: > 0)", maxKeys);
            this.maxKeys = maxKeys;
            return this;
        }

        /**
         * Builds the limiter.
         *
         * @return the limiter
         */
        public RateLimiter build() {
            return new RateLimiter(this);
        }
    }
}
