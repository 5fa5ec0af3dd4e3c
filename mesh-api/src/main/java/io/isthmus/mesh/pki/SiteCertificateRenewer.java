package io.isthmus.mesh.pki;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a site's credentials fresh: renews the site certificate when a configurable fraction of its
 * lifetime has passed (default: two thirds), through a pluggable {@link SiteCredentialIssuer}, retries
 * failures with exponential backoff, and publishes each new {@link SiteCredentials} to listeners (the
 * router reloads its TLS contexts from them).
 *
 * <pre>{@code
 * ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
 * SiteCertificateRenewer renewer = SiteCertificateRenewer
 *         .builder(initialCredentials, SiteCredentialIssuer.fromCa(ca), scheduler)
 *         .renewAtFraction(2.0 / 3)
 *         .retryBackoff(Duration.ofSeconds(5), Duration.ofMinutes(5))
 *         .build();
 * renewer.addListener(router::reloadCredentials);
 * renewer.start();
 * ...
 * renewer.close();        // stops renewing; the scheduler stays the caller's to shut down
 * }</pre>
 *
 * <p>A renewal keeps every root of the current trust bundle and adds the roots the issuer hands out;
 * roots are removed only through {@link #updateTrustBundle(TrustBundle)}, the last step of a CA rotation
 * (see the {@linkplain io.isthmus.mesh.pki package documentation}).
 *
 * <p>Threading and ownership: thread-safe. Renewal attempts run on the caller-supplied executor, one at a
 * time; the issuer may block there. Listeners are called one at a time, in the order of the changes, on
 * the thread that made the change (an executor thread for a renewal, the caller of
 * {@link #updateTrustBundle(TrustBundle)}); a listener that throws is logged and does not stop the
 * others. The renewer never shuts the executor down: the caller owns it. The time of the next renewal
 * comes from the injectable {@link Clock}; delays are handed to the executor.
 */
public final class SiteCertificateRenewer implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(SiteCertificateRenewer.class);

    private static final double DEFAULT_RENEW_AT_FRACTION = 2.0 / 3;
    private static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofSeconds(5);
    private static final Duration DEFAULT_MAX_BACKOFF = Duration.ofMinutes(5);

    private enum State { NEW, STARTED, CLOSED }

    private final SiteCredentialIssuer issuer;
    private final ScheduledExecutorService executor;
    private final Clock clock;
    private final double renewAtFraction;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final List<Consumer<? super SiteCredentials>> listeners = new CopyOnWriteArrayList<>();

    private final Object lock = new Object();
    private SiteCredentials current;
    private long version;
    private State state = State.NEW;
    private @Nullable ScheduledFuture<?> scheduled;
    /** Tells the latest scheduled attempt from superseded ones whose cancellation came too late. */
    private long generation;
    private @Nullable Instant nextAttempt;
    private boolean running;
    private boolean rerun;
    private List<CompletableFuture<SiteCredentials>> waiters = new ArrayList<>();
    private int consecutiveFailures;
    private @Nullable Throwable lastFailure;

    private final Object publishLock = new Object();
    private long publishedVersion;

    private SiteCertificateRenewer(Builder builder) {
        this.current = builder.initial;
        this.issuer = builder.issuer;
        this.executor = builder.executor;
        this.clock = builder.clock;
        this.renewAtFraction = builder.renewAtFraction;
        this.initialBackoff = builder.initialBackoff;
        this.maxBackoff = builder.maxBackoff;
    }

    /**
     * Returns a builder.
     *
     * @param initial the site's credentials now
     * @param issuer where renewed credentials come from
     * @param executor runs the renewals; the caller owns it and shuts it down
     * @return a new builder
     */
    public static Builder builder(SiteCredentials initial, SiteCredentialIssuer issuer,
            ScheduledExecutorService executor) {
        return new Builder(requireNonNull(initial, "initial"), requireNonNull(issuer, "issuer"),
                requireNonNull(executor, "executor"));
    }

    /**
     * Schedules the first renewal, at the configured fraction of the current certificate's lifetime (at
     * once when that time has passed).
     *
     * @return this renewer
     * @throws IllegalStateException when already started or closed
     */
    public SiteCertificateRenewer start() {
        synchronized (lock) {
            Preconditions.checkState(state == State.NEW, "renewer of %s: %s (expected: not yet started)",
                    current.spiffeId(), state);
            state = State.STARTED;
            scheduleAt(renewalTime(current));
        }
        return this;
    }

    /**
     * Returns the site's credentials now.
     *
     * @return the latest credentials
     */
    public SiteCredentials current() {
        synchronized (lock) {
            return current;
        }
    }

    /**
     * Returns when the next renewal attempt is due.
     *
     * @return the instant, or {@code null} when none is scheduled (not started, running, or closed)
     */
    public @Nullable Instant nextAttempt() {
        synchronized (lock) {
            return nextAttempt;
        }
    }

    /**
     * Returns when the certificate of {@code credentials} is due for renewal: its {@code notBefore} plus the
     * configured fraction of its lifetime.
     *
     * @param credentials credentials of the site
     * @return the renewal time
     */
    public Instant renewalTime(SiteCredentials credentials) {
        X509Certificate leaf = credentials.certificate();
        Instant notBefore = leaf.getNotBefore().toInstant();
        long lifetimeMillis = Duration.between(notBefore, leaf.getNotAfter().toInstant()).toMillis();
        return notBefore.plusMillis((long) (lifetimeMillis * renewAtFraction));
    }

    /**
     * Returns how many attempts in a row have failed since the last success.
     *
     * @return the count, 0 after a success
     */
    public int consecutiveFailures() {
        synchronized (lock) {
            return consecutiveFailures;
        }
    }

    /**
     * Returns the failure of the latest attempt.
     *
     * @return the failure, or {@code null} when the latest attempt succeeded or none was made
     */
    public @Nullable Throwable lastFailure() {
        synchronized (lock) {
            return lastFailure;
        }
    }

    /**
     * Adds a listener that receives each new credentials: after a renewal and after
     * {@link #updateTrustBundle(TrustBundle)}. It does not receive the credentials current when added.
     *
     * @param listener called with the new credentials; must not block for long
     */
    public void addListener(Consumer<? super SiteCredentials> listener) {
        listeners.add(requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener.
     *
     * @param listener a listener added before
     * @return whether it was registered
     */
    public boolean removeListener(Consumer<? super SiteCredentials> listener) {
        return listeners.remove(requireNonNull(listener, "listener"));
    }

    /**
     * Renews at once instead of at the scheduled time, e.g. to move to a new CA during a rotation. When an
     * attempt is running, another follows it.
     *
     * @return completes with the renewed credentials, or exceptionally with the failure of the attempt
     *     (which is then retried with backoff as usual)
     * @throws IllegalStateException when not started or closed
     */
    public CompletableFuture<SiteCredentials> renewNow() {
        CompletableFuture<SiteCredentials> promise = new CompletableFuture<>();
        synchronized (lock) {
            Preconditions.checkState(state == State.STARTED, "renewer of %s: %s (expected: started)",
                    current.spiffeId(), state);
            waiters.add(promise);
            if (running) {
                rerun = true;
            } else {
                scheduleAt(clock.instant());
            }
        }
        return promise;
    }

    /**
     * Replaces the trust bundle the site verifies peers against, keeping its key and certificate, and
     * publishes the result to the listeners on the calling thread. This is how roots are added at the
     * start of a CA rotation and removed at its end.
     *
     * @param trustBundle the new bundle, of the site's trust domain
     * @return the new credentials
     * @throws IllegalArgumentException when the bundle is of another trust domain
     * @throws IllegalStateException when closed
     */
    public SiteCredentials updateTrustBundle(TrustBundle trustBundle) {
        requireNonNull(trustBundle, "trustBundle");
        SiteCredentials updated;
        long updatedVersion;
        synchronized (lock) {
            Preconditions.checkState(state != State.CLOSED, "renewer of %s: closed (expected: open)",
                    current.spiffeId());
            updated = current.withTrustBundle(trustBundle);
            current = updated;
            updatedVersion = ++version;
        }
        publish(updated, updatedVersion);
        return updated;
    }

    /** Schedules an attempt at {@code at}, replacing any scheduled one. Called with the lock held. */
    private void scheduleAt(Instant at) {
        if (scheduled != null) {
            scheduled.cancel(false);
            scheduled = null;
        }
        Instant now = clock.instant();
        long delayMillis = Math.max(0, Duration.between(now, at).toMillis());
        nextAttempt = at.isBefore(now) ? now : at;
        try {
            long attemptGeneration = ++generation;
            scheduled = executor.schedule(() -> attempt(attemptGeneration), delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            nextAttempt = null;
            lastFailure = e;
            logger.error("Cannot schedule the renewal of {}: the executor refused it", current.spiffeId(), e);
            for (CompletableFuture<SiteCredentials> waiter : waiters) {
                waiter.completeExceptionally(e);
            }
            waiters = new ArrayList<>();
        }
    }

    private void attempt(long attemptGeneration) {
        SiteCredentials base;
        List<CompletableFuture<SiteCredentials>> promises;
        synchronized (lock) {
            if (state != State.STARTED || running || attemptGeneration != generation) {
                return;
            }
            running = true;
            scheduled = null;
            nextAttempt = null;
            base = current;
            promises = waiters;
            waiters = new ArrayList<>();
        }
        SiteCredentials issued = null;
        Exception failure = null;
        try {
            issued = checkIssued(base, issuer.issue(base));
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            failure = e;
        }
        SiteCredentials renewed = null;
        long renewedVersion = 0;
        int failures;
        Instant retryAt = null;
        synchronized (lock) {
            running = false;
            if (issued != null) {
                renewed = issued.withTrustBundle(union(current.trustBundle(), issued.trustBundle()));
                current = renewed;
                renewedVersion = ++version;
                consecutiveFailures = 0;
                lastFailure = null;
            } else {
                consecutiveFailures++;
                lastFailure = failure;
            }
            failures = consecutiveFailures;
            if (state == State.STARTED) {
                if (rerun) {
                    rerun = false;
                    scheduleAt(clock.instant());
                } else if (renewed != null) {
                    scheduleAt(renewalTime(renewed));
                } else {
                    retryAt = clock.instant().plus(backoff(failures));
                    scheduleAt(retryAt);
                }
            }
        }
        if (renewed != null) {
            logger.info("Renewed the certificate of {}: valid until {}", renewed.spiffeId(), renewed.notAfter());
            publish(renewed, renewedVersion);
            for (CompletableFuture<SiteCredentials> promise : promises) {
                promise.complete(renewed);
            }
        } else {
            Throwable cause = requireNonNull(failure, "failure");
            logger.warn("Cannot renew the certificate of {} (attempt {} failed, next at {}; current one valid until "
                    + "{}): {}", base.spiffeId(), failures, retryAt, base.notAfter(), cause.toString());
            for (CompletableFuture<SiteCredentials> promise : promises) {
                promise.completeExceptionally(cause);
            }
        }
    }

    private SiteCredentials checkIssued(SiteCredentials base, @Nullable SiteCredentials issued) {
        if (issued == null) {
            throw new MeshIdentityException("issuer returned no credentials for " + base.spiffeId());
        }
        if (!issued.spiffeId().equals(base.spiffeId())) {
            throw new MeshIdentityException("issuer returned credentials for " + issued.spiffeId() + " (expected: "
                    + base.spiffeId() + ")");
        }
        Instant now = clock.instant();
        if (!issued.notAfter().isAfter(now)) {
            throw new MeshIdentityException("issuer returned a certificate for " + issued.spiffeId()
                    + " that expired at " + issued.notAfter() + " (now " + now + ")");
        }
        return issued;
    }

    private static TrustBundle union(TrustBundle kept, TrustBundle added) {
        TrustBundle result = kept;
        for (X509Certificate root : added.roots()) {
            result = result.withRoot(root);
        }
        return result;
    }

    private Duration backoff(int failures) {
        Duration delay = initialBackoff;
        for (int i = 1; i < failures && delay.compareTo(maxBackoff) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        return delay.compareTo(maxBackoff) > 0 ? maxBackoff : delay;
    }

    private void publish(SiteCredentials credentials, long credentialsVersion) {
        synchronized (publishLock) {
            if (credentialsVersion <= publishedVersion) {
                // A later change was published already; listeners never go back to older credentials.
                return;
            }
            publishedVersion = credentialsVersion;
            for (Consumer<? super SiteCredentials> listener : listeners) {
                try {
                    listener.accept(credentials);
                } catch (RuntimeException e) {
                    logger.warn("Credentials listener {} failed for {}", listener, credentials.spiffeId(), e);
                }
            }
        }
    }

    /**
     * Stops renewing: cancels the scheduled attempt and fails pending {@link #renewNow()} futures. An
     * attempt that is running completes, but its result is not scheduled further. Does not shut the
     * executor down. Idempotent.
     */
    @Override
    public void close() {
        List<CompletableFuture<SiteCredentials>> pending;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            generation++;
            if (scheduled != null) {
                scheduled.cancel(false);
                scheduled = null;
            }
            nextAttempt = null;
            pending = waiters;
            waiters = new ArrayList<>();
        }
        IllegalStateException closed = new IllegalStateException("renewer of " + current().spiffeId() + " closed");
        for (CompletableFuture<SiteCredentials> waiter : pending) {
            waiter.completeExceptionally(closed);
        }
    }

    /**
     * Returns a description naming the site, the certificate's expiry and the next attempt.
     *
     * @return the description
     */
    @Override
    public String toString() {
        synchronized (lock) {
            return "SiteCertificateRenewer{" + current.spiffeId() + ", notAfter=" + current.notAfter() + ", " + state
                    + ", nextAttempt=" + nextAttempt + ", consecutiveFailures=" + consecutiveFailures + '}';
        }
    }

    /**
     * Configures a {@link SiteCertificateRenewer}; every setter validates its argument at once.
     *
     * <pre>{@code
     * SiteCertificateRenewer renewer = SiteCertificateRenewer.builder(credentials, issuer, scheduler)
     *         .renewAtFraction(0.5)
     *         .retryBackoff(Duration.ofSeconds(1), Duration.ofMinutes(1))
     *         .clock(testClock)
     *         .build();
     * }</pre>
     *
     * <p>Not thread-safe.
     */
    public static final class Builder {

        private final SiteCredentials initial;
        private final SiteCredentialIssuer issuer;
        private final ScheduledExecutorService executor;
        private Clock clock = Clock.systemUTC();
        private double renewAtFraction = DEFAULT_RENEW_AT_FRACTION;
        private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;
        private Duration maxBackoff = DEFAULT_MAX_BACKOFF;

        private Builder(SiteCredentials initial, SiteCredentialIssuer issuer, ScheduledExecutorService executor) {
            this.initial = initial;
            this.issuer = issuer;
            this.executor = executor;
        }

        /**
         * Sets at which fraction of a certificate's lifetime it is renewed (default: 2/3).
         *
         * @param fraction between 0 and 1, both excluded
         * @return this builder
         * @throws IllegalArgumentException when the fraction is out of range
         */
        public Builder renewAtFraction(double fraction) {
            Preconditions.checkArgument(fraction > 0 && fraction < 1, "renewAtFraction: %s (expected: > 0 and < 1)",
                    fraction);
            this.renewAtFraction = fraction;
            return this;
        }

        /**
         * Sets the delays between failed attempts: {@code initial} after the first failure, doubling
         * after each further one, at most {@code max} (default: 5 seconds to 5 minutes).
         *
         * @param initial the first delay, positive
         * @param max the longest delay, at least {@code initial}
         * @return this builder
         * @throws IllegalArgumentException when a delay is not positive or {@code max} is below {@code initial}
         */
        public Builder retryBackoff(Duration initial, Duration max) {
            requireNonNull(initial, "initial");
            requireNonNull(max, "max");
            Preconditions.checkArgument(!initial.isNegative() && !initial.isZero(), "initial: %s (expected: > 0)",
                    initial);
            Preconditions.checkArgument(max.compareTo(initial) >= 0, "max: %s (expected: >= initial %s)", max,
                    initial);
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * Sets the clock that renewal times are computed with (default: the system clock in UTC).
         *
         * @param clock the clock, e.g. a test clock that matches a test executor
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Creates the renewer; call {@link SiteCertificateRenewer#start()} to begin.
         *
         * @return the renewer
         */
        public SiteCertificateRenewer build() {
            return new SiteCertificateRenewer(this);
        }
    }
}
