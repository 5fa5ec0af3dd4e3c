package io.isthmus.mesh.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.RateLimit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

    private final AtomicLong now = new AtomicLong(123_456_789L);

    private RateLimiter limiter(RateLimit limit) {
        return RateLimiter.builder(limit).ticker(now::get).build();
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void allowsABurstThenRefusesUntilTokensRefill() {
        RateLimiter limiter = limiter(RateLimit.builder(10, Duration.ofSeconds(1)).burst(3).build());
        assertThat(limiter.available("k")).isEqualTo(3);
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
        assertThat(limiter.available("k")).isZero();
        advance(Duration.ofMillis(99));
        assertThat(limiter.tryAcquire("k")).as("a token takes 100ms").isFalse();
        advance(Duration.ofMillis(1));
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.tryAcquire("k")).isFalse();
    }

    @Test
    void refillsNoMoreThanTheBurstAfterAnIdleSpell() {
        RateLimiter limiter = limiter(RateLimit.builder(10, Duration.ofSeconds(1)).burst(3).build());
        limiter.tryAcquire("k");
        advance(Duration.ofHours(1));
        assertThat(limiter.available("k")).isEqualTo(3);
        int allowed = 0;
        for (int i = 0; i < 10; i++) {
            allowed += limiter.tryAcquire("k") ? 1 : 0;
        }
        assertThat(allowed).isEqualTo(3);
    }

    @Test
    void sustainsTheConfiguredRate() {
        RateLimiter limiter = limiter(RateLimit.of(100, Duration.ofSeconds(1)));
        int allowed = 0;
        // 10 seconds of one attempt per millisecond: the burst (100) plus 100 per second.
        for (int ms = 0; ms < 10_000; ms++) {
            allowed += limiter.tryAcquire("k") ? 1 : 0;
            advance(Duration.ofMillis(1));
        }
        assertThat(allowed).isBetween(1_099, 1_101);
    }

    @Test
    void keysHaveSeparateBuckets() {
        RateLimiter limiter = limiter(RateLimit.of(1, Duration.ofMinutes(1)));
        assertThat(limiter.tryAcquire("a")).isTrue();
        assertThat(limiter.tryAcquire("a")).isFalse();
        assertThat(limiter.tryAcquire("b")).isTrue();
        assertThat(limiter.size()).isEqualTo(2);
    }

    @Test
    void boundsMemoryDroppingRefilledBucketsFirst() {
        RateLimiter limiter = RateLimiter.builder(RateLimit.of(1, Duration.ofSeconds(1))).ticker(now::get)
                .maxKeys(100).build();
        for (int i = 0; i < 100; i++) {
            assertThat(limiter.tryAcquire("old-" + i)).isTrue();
        }
        advance(Duration.ofMillis(500));
        assertThat(limiter.tryAcquire("busy")).isTrue(); // evicts nothing: no bucket has refilled yet
        assertThat(limiter.size()).isLessThanOrEqualTo(100);
        assertThat(limiter.tryAcquire("busy")).as("busy is still tracked").isFalse();
        advance(Duration.ofMillis(600)); // the old buckets are full again; busy is not
        for (int i = 0; i < 1_000; i++) {
            limiter.tryAcquire("new-" + i);
            assertThat(limiter.size()).isLessThanOrEqualTo(100);
        }
    }

    @Test
    void evictionDropsOnlyBucketsThatAreFullWhenThatIsEnough() {
        RateLimiter limiter = RateLimiter.builder(RateLimit.of(1, Duration.ofSeconds(10))).ticker(now::get)
                .maxKeys(3).build();
        limiter.tryAcquire("a");
        advance(Duration.ofSeconds(10)); // a has refilled
        limiter.tryAcquire("b");
        limiter.tryAcquire("c");
        limiter.tryAcquire("d"); // full: evicts a (refilled) only
        assertThat(limiter.tryAcquire("b")).as("b kept its empty bucket").isFalse();
        assertThat(limiter.tryAcquire("c")).isFalse();
    }

    @Test
    void concurrentCallersNeverExceedTheBurst() throws Exception {
        // A frozen clock: exactly `burst` acquisitions may succeed however the threads interleave.
        RateLimiter limiter = limiter(RateLimit.builder(1, Duration.ofHours(1)).burst(1_000).build());
        int threads = 4;
        int attemptsPerThread = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    int allowed = 0;
                    for (int i = 0; i < attemptsPerThread; i++) {
                        allowed += limiter.tryAcquire("shared") ? 1 : 0;
                    }
                    return allowed;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> result : results) {
                total += result.get(30, TimeUnit.SECONDS);
            }
            // Never more than the burst; fewer only if a caller gave up after repeated contention.
            assertThat(total).isLessThanOrEqualTo(1_000).isGreaterThan(900);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectsABadBound() {
        assertThatThrownBy(() -> RateLimiter.builder(RateLimit.of(1, Duration.ofSeconds(1))).maxKeys(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxKeys: 0 (expected: > 0)");
    }

    @Test
    void hugeBurstsDoNotOverflow() {
        RateLimiter limiter = limiter(RateLimit.builder(1, Duration.ofDays(1)).burst(1_000_000_000).build());
        assertThat(limiter.tryAcquire("k")).isTrue();
        assertThat(limiter.available("k")).isGreaterThan(1_000L);
    }
}
