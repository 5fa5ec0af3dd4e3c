package io.isthmus.mesh.daemon.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.daemon.DaemonConfig;
import io.isthmus.mesh.pki.SiteCredentials;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the certificate of a site that joined with {@code join.token} valid: once two thirds of the
 * time from when the certificate was obtained (joined, renewed or read at start) to its expiry have
 * passed, it renews it at the CA daemon ({@code POST /v1/renew}, authenticated by the current
 * certificate) for a fresh key made here, stores the new files and hands the new credentials to the
 * router. When the CA daemon cannot be reached or refuses, it logs the reason and tries again after a
 * growing delay (1 s doubling up to 5 min), until the certificate expires: from then on only a new join
 * token helps, which it logs.
 *
 * <p>Runs on the daemon's scheduler; thread-safe.
 */
public final class SiteRenewer {

    private static final Logger logger = LoggerFactory.getLogger(SiteRenewer.class);
    static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    static final Duration MAX_RETRY = Duration.ofMinutes(5);

    private final DaemonConfig config;
    private final ScheduledExecutorService scheduler;
    private final Consumer<SiteCredentials> apply;
    private volatile SiteCredentials current;
    private volatile boolean stopped;
    private volatile boolean expired;
    private volatile int failures;

    /**
     * Creates a renewer; {@link #start()} schedules the first renewal.
     *
     * @param config the settings of the joined site ({@link DaemonConfig#joinServer()} set)
     * @param current the credentials in use
     * @param scheduler where the renewals run
     * @param apply receives each renewed set of credentials, after they are stored, e.g. the router's
     *     {@code updateCredentials}
     */
    public SiteRenewer(DaemonConfig config, SiteCredentials current, ScheduledExecutorService scheduler,
            Consumer<SiteCredentials> apply) {
        this.config = requireNonNull(config, "config");
        this.current = requireNonNull(current, "current");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.apply = requireNonNull(apply, "apply");
        requireNonNull(config.joinServer(), "joinServer");
    }

    /** Schedules the first renewal, two thirds of the way from now to the current certificate's expiry. */
    public void start() {
        SiteCredentials c = current;
        Duration delay = renewalDelay(c.notAfter(), Instant.now());
        logger.info("site {}: certificate valid until {}; renewing through {} in {}", config.site(), c.notAfter(),
                config.joinServer(), format(delay));
        schedule(delay);
    }

    /** Stops scheduling renewals; one in progress finishes. */
    public void stop() {
        stopped = true;
    }

    /** @return the credentials in use: the last renewed ones, or those it started with */
    public SiteCredentials current() {
        return current;
    }

    /** @return the failed attempts since the last renewal */
    int failures() {
        return failures;
    }

    /** @return whether it gave up because the certificate expired before a renewal succeeded */
    boolean expired() {
        return expired;
    }

    /** Two thirds of the way from {@code now} to {@code notAfter}; zero when already past. */
    static Duration renewalDelay(Instant notAfter, Instant now) {
        Duration left = Duration.between(now, notAfter);
        return left.isNegative() ? Duration.ZERO : left.multipliedBy(2).dividedBy(3);
    }

    /** The delay before retry {@code failures} (1, 2, ...): 1 s doubling up to 5 min. */
    static Duration retryDelay(int failures) {
        int doublings = Math.min(Math.max(failures - 1, 0), 20);
        Duration delay = FIRST_RETRY.multipliedBy(1L << doublings);
        return delay.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : delay;
    }

    /** A delay for the log: {@code 16h 0m}, {@code 4m 10s} or {@code 3.4s}. */
    static String format(Duration d) {
        if (d.toHours() > 0) {
            return d.toHours() + "h " + d.toMinutesPart() + "m";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + "m " + d.toSecondsPart() + "s";
        }
        return String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
    }

    private void schedule(Duration delay) {
        if (stopped) {
            return;
        }
        try {
            scheduler.schedule(this::renew, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // the daemon is shutting down
        }
    }

    private void renew() {
        if (stopped) {
            return;
        }
        SiteCredentials old = current;
        SiteCredentials renewed;
        try {
            renewed = SiteJoiner.renew(config, old);
        } catch (RuntimeException e) {
            failures++;
            Instant now = Instant.now();
            if (!now.isBefore(old.notAfter())) {
                logger.error("site {}: cannot renew the certificate through {}: {}; it expired at {} and can no "
                        + "longer authenticate a renewal (expected: issue a new join token with \"meshctl token "
                        + "create {}\" and restart the daemon with it as join.token)", config.site(),
                        config.joinServer(), e.getMessage(), old.notAfter(), config.site());
                expired = true;
                return;
            }
            Duration retry = retryDelay(failures);
            logger.warn("site {}: cannot renew the certificate (attempt {}): {}; trying again in {} (the certificate "
                    + "expires at {})", config.site(), failures, e.getMessage(), format(retry), old.notAfter());
            schedule(retry);
            return;
        }
        failures = 0;
        current = renewed;
        try {
            apply.accept(renewed);
        } catch (RuntimeException e) {
            logger.warn("site {}: the renewed certificate is stored but the router did not take it", config.site(), e);
        }
        Duration delay = renewalDelay(renewed.notAfter(), Instant.now());
        logger.info("site {}: renewed the certificate through {}: valid until {} (was {}); next renewal in {}",
                config.site(), config.joinServer(), renewed.notAfter(), old.notAfter(), format(delay));
        schedule(delay);
    }
}
