package io.isthmus.mesh.pki;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduled executor driven by a test clock: tasks run on the test's thread when {@link #advance}
 * moves the clock past their due time, so that timing is tested without sleeping.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    private static final int MAX_TASKS_PER_ADVANCE = 1_000;

    private final MutableClock clock;
    private final List<Task<?>> tasks = new ArrayList<>();
    private long sequence;
    private boolean shutdown;

    ManualScheduler(Instant start) {
        this.clock = new MutableClock(start);
    }

    Clock clock() {
        return clock;
    }

    Instant now() {
        return clock.instant();
    }

    /** Moves the clock forward by {@code by}, running every task that falls due, in order of due time. */
    void advance(Duration by) {
        advanceTo(clock.instant().plus(by));
    }

    /** Moves the clock to {@code target}, running every task due until then, each at its due time. */
    void advanceTo(Instant target) {
        for (int ran = 0; ; ran++) {
            if (ran >= MAX_TASKS_PER_ADVANCE) {
                throw new AssertionError("more than " + MAX_TASKS_PER_ADVANCE + " tasks fell due before " + target);
            }
            Task<?> next;
            synchronized (this) {
                next = tasks.stream().filter(t -> !t.isCancelled() && !t.dueAt.isAfter(target))
                        .min(Comparator.<Task<?>, Instant>comparing(t -> t.dueAt).thenComparingLong(t -> t.sequence))
                        .orElse(null);
                if (next == null) {
                    break;
                }
                tasks.remove(next);
                if (next.dueAt.isAfter(clock.instant())) {
                    clock.set(next.dueAt);
                }
            }
            next.run();
            next.rethrowFailure();
        }
        if (target.isAfter(clock.instant())) {
            clock.set(target);
        }
    }

    /** Returns the due times of the tasks not yet run or cancelled. */
    synchronized List<Instant> pendingDueTimes() {
        return tasks.stream().filter(t -> !t.isCancelled()).map(t -> t.dueAt).sorted().toList();
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(() -> {
            command.run();
            return null;
        }, delay, unit);
    }

    @Override
    public synchronized <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return add(callable, delay, unit);
    }

    private <V> Task<V> add(Callable<V> callable, long delay, TimeUnit unit) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }
        Task<V> task = new Task<>(callable, clock.instant().plusNanos(unit.toNanos(Math.max(0, delay))), sequence++);
        tasks.add(task);
        return task;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("not used by the code under test");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("not used by the code under test");
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> pending = new ArrayList<>(tasks);
        tasks.clear();
        return pending;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isShutdown();
    }

    private final class Task<V> extends java.util.concurrent.FutureTask<V> implements ScheduledFuture<V> {

        final Instant dueAt;
        final long sequence;

        Task(Callable<V> callable, Instant dueAt, long sequence) {
            super(callable);
            this.dueAt = dueAt;
            this.sequence = sequence;
        }

        /** Makes an exception thrown by the task fail the test, instead of vanishing into the future. */
        void rethrowFailure() {
            if (isDone() && !isCancelled()) {
                try {
                    super.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new AssertionError("scheduled task failed: " + e.getCause(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(Duration.between(clock.instant(), dueAt));
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public V get() throws InterruptedException, java.util.concurrent.ExecutionException {
            if (!isDone()) {
                throw new CancellationException("a manual task is run by advance(), not awaited");
            }
            return super.get();
        }
    }

    /** A clock that only moves when told to. */
    static final class MutableClock extends Clock {

        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void set(Instant instant) {
            this.now = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("UTC only");
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
