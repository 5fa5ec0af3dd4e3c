package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OutlierDetection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one router knows about the health of the places it sends requests to: its own site's origin
 * endpoints (active health checks and outlier ejection) and, per pool, the other sites that answered
 * that they have no healthy origin. Shared by every event loop; lock-free reads.
 */
final class Health {

    private static final Logger logger = LoggerFactory.getLogger(Health.class);

    /** How long a remote site that answered "no healthy origin" is passed over for a pool. */
    static final long REMOTE_UNHEALTHY_MILLIS = 2_000;

    private final Map<Endpoint, EndpointState> endpoints = new ConcurrentHashMap<>();
    private final Map<String, Long> remoteUnhealthyUntil = new ConcurrentHashMap<>();

    private static final class EndpointState {
        /** Set by active health checks; starts healthy so traffic flows before the first check. */
        volatile boolean checkedHealthy = true;
        int checkSuccesses;
        int checkFailures;
        int consecutiveFailures;
        volatile long ejectedUntilNanos;
        int ejections;
    }

    private EndpointState state(Endpoint endpoint) {
        return endpoints.computeIfAbsent(endpoint, e -> new EndpointState());
    }

    /** Whether an endpoint of this site may take requests: checked healthy and not ejected. */
    boolean healthy(Endpoint endpoint) {
        EndpointState s = endpoints.get(endpoint);
        return s == null || s.checkedHealthy && System.nanoTime() - s.ejectedUntilNanos >= 0;
    }

    /** Records the result of one active check; flips the state after the pool's thresholds. */
    void checked(Endpoint endpoint, boolean success, int healthyThreshold, int unhealthyThreshold) {
        EndpointState s = state(endpoint);
        synchronized (s) {
            if (success) {
                s.checkFailures = 0;
                if (!s.checkedHealthy && ++s.checkSuccesses >= healthyThreshold) {
                    s.checkedHealthy = true;
                    s.checkSuccesses = 0;
                    logger.info("origin {} is healthy again", endpoint);
                }
            } else {
                s.checkSuccesses = 0;
                if (s.checkedHealthy && ++s.checkFailures >= unhealthyThreshold) {
                    s.checkedHealthy = false;
                    s.checkFailures = 0;
                    logger.info("origin {} failed {} health checks in a row; taken out of rotation", endpoint,
                            unhealthyThreshold);
                }
            }
        }
    }

    /**
     * Records how a request to an endpoint went, for outlier ejection: consecutive 5xx answers or
     * connect failures eject the endpoint for the base ejection time, longer on each repeated ejection.
     */
    void outcome(Endpoint endpoint, boolean failure, @Nullable OutlierDetection outliers) {
        if (outliers == null) {
            return;
        }
        EndpointState s = state(endpoint);
        synchronized (s) {
            if (!failure) {
                s.consecutiveFailures = 0;
                s.ejections = Math.max(0, s.ejections - 1);
                return;
            }
            if (++s.consecutiveFailures >= outliers.consecutive5xx()) {
                s.consecutiveFailures = 0;
                s.ejections = Math.min(s.ejections + 1, 10);
                long millis = outliers.baseEjectionTime().toMillis() * s.ejections;
                s.ejectedUntilNanos = System.nanoTime() + millis * 1_000_000L;
                logger.info("origin {} ejected for {} ms after {} consecutive failures", endpoint, millis,
                        outliers.consecutive5xx());
            }
        }
    }

    /** Whether a remote site may serve a pool, as far as its own answers tell. */
    boolean remoteHealthy(String site, ObjectKey pool) {
        if (remoteUnhealthyUntil.isEmpty()) {
            // The common case, without building the key.
            return true;
        }
        Long until = remoteUnhealthyUntil.get(site + ' ' + pool);
        return until == null || System.nanoTime() - until >= 0;
    }

    /** A remote site answered that it has no healthy origin for a pool. */
    void remoteUnhealthy(String site, ObjectKey pool) {
        remoteUnhealthyUntil.put(site + ' ' + pool, System.nanoTime() + REMOTE_UNHEALTHY_MILLIS * 1_000_000L);
    }
}
