package io.isthmus.mesh.netty.internal;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The response deadlines of one event loop's exchanges, kept without a scheduled task per exchange.
 * Exchanges with the same timeout expire in the order they were armed, so each timeout has a lane:
 * a linked list in deadline order, where arming appends and disarming unlinks (both constant time),
 * and a single timer, set for the deadline of the lane's first entry. When that timer fires it
 * expires the entries whose deadline has passed and sets itself for the next one. Most exchanges are
 * answered long before their deadline and leave the lane first, so the timer fires about once per
 * timeout period, whatever the request rate.
 *
 * <p>Confined to the event loop: every method is called on the loop thread that owns the waiter.
 */
final class ResponseDeadlines {

    private static final FastThreadLocal<List<Lane>> LANES = new FastThreadLocal<>() {
        @Override
        protected List<Lane> initialValue() {
            return new ArrayList<>(2);
        }
    };

    private ResponseDeadlines() {}

    /** Something with a response deadline; it sits in at most one lane at a time. */
    abstract static class Waiter {
        private long deadline;
        private @Nullable Waiter previous;
        private @Nullable Waiter next;
        private @Nullable Lane lane;

        /** The deadline passed before {@link #disarm} was called: runs on the loop. */
        abstract void expired();

        /** Whether a deadline is set. */
        final boolean armed() {
            return lane != null;
        }
    }

    /**
     * Sets the waiter's deadline {@code timeoutMillis} from now, unless one is set already.
     *
     * @param loop the event loop of the calling thread, which owns the waiter
     */
    static void arm(EventExecutor loop, Waiter waiter, long timeoutMillis) {
        if (waiter.lane != null) {
            return;
        }
        lane(loop, timeoutMillis).append(waiter);
    }

    /** Removes the waiter's deadline, if set. */
    static void disarm(Waiter waiter) {
        Lane lane = waiter.lane;
        if (lane != null) {
            lane.unlink(waiter);
        }
    }

    private static Lane lane(EventExecutor loop, long timeoutMillis) {
        List<Lane> lanes = LANES.get();
        for (int i = 0, n = lanes.size(); i < n; i++) {
            Lane lane = lanes.get(i);
            if (lane.timeoutMillis == timeoutMillis) {
                return lane;
            }
        }
        Lane lane = new Lane(loop, timeoutMillis);
        lanes.add(lane);
        return lane;
    }

    /** The waiters of one loop with one timeout, in deadline order. */
    private static final class Lane implements Runnable {
        private final EventExecutor loop;
        final long timeoutMillis;
        private final long timeoutNanos;
        private @Nullable Waiter first;
        private @Nullable Waiter last;
        private @Nullable ScheduledFuture<?> timer;

        Lane(EventExecutor loop, long timeoutMillis) {
            this.loop = loop;
            this.timeoutMillis = timeoutMillis;
            this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        }

        void append(Waiter waiter) {
            long now = System.nanoTime();
            waiter.deadline = now + timeoutNanos;
            waiter.lane = this;
            waiter.previous = last;
            waiter.next = null;
            if (last == null) {
                first = waiter;
            } else {
                last.next = waiter;
            }
            last = waiter;
            if (timer == null) {
                // Set for the first entry's deadline: this one's, unless an expiry in progress re-arms.
                timer = loop.schedule(this, Math.max(0, first.deadline - now), TimeUnit.NANOSECONDS);
            }
        }

        void unlink(Waiter waiter) {
            Waiter previous = waiter.previous;
            Waiter next = waiter.next;
            if (previous == null) {
                first = next;
            } else {
                previous.next = next;
            }
            if (next == null) {
                last = previous;
            } else {
                next.previous = previous;
            }
            waiter.previous = null;
            waiter.next = null;
            waiter.lane = null;
        }

        @Override
        public void run() {
            timer = null;
            long now = System.nanoTime();
            Waiter head;
            while ((head = first) != null && head.deadline - now <= 0) {
                unlink(head);
                head.expired();
            }
            head = first;
            if (head == null) {
                // Nothing waits: forget the lane (routes' timeouts change with the configuration).
                LANES.get().remove(this);
            } else if (timer == null) {
                timer = loop.schedule(this, Math.max(0, head.deadline - now), TimeUnit.NANOSECONDS);
            }
        }
    }
}
