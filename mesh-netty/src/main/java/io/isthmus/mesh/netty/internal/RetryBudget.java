package io.isthmus.mesh.netty.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Limits retries to a share of the traffic, so that retries cannot multiply the load on a failing
 * upstream: every request deposits a fifth of a retry, every retry withdraws one; the balance starts
 * at, and never exceeds, a small reserve. Thread-safe.
 */
final class RetryBudget {

    private static final long UNIT = 1000;
    private static final long DEPOSIT = UNIT / 5;
    static final long RESERVE = 10 * UNIT;
    private static final long CAP = 100 * UNIT;

    private final AtomicLong balance = new AtomicLong(RESERVE);

    void deposit() {
        balance.getAndUpdate(b -> Math.min(CAP, b + DEPOSIT));
    }

    boolean tryWithdraw() {
        while (true) {
            long b = balance.get();
            if (b < UNIT) {
                return false;
            }
            if (balance.compareAndSet(b, b - UNIT)) {
                return true;
            }
        }
    }
}
