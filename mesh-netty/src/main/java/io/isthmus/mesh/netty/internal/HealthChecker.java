package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.HealthCheck;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the active health checks of the origins at this site: for every pool with a {@link
 * HealthCheck}, an HTTP GET of its path on each of the pool's endpoints here, every interval, with the
 * check's timeout. A 2xx or 3xx answer is a success; the pool's thresholds turn successes and failures
 * into the state {@link Health} keeps. Only this site's origins are checked: other sites check their
 * own and say so by answering "no healthy origin".
 */
final class HealthChecker implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(HealthChecker.class);

    /** How often the configuration is looked at for checks that are due. */
    private static final long TICK_MILLIS = 50;

    private final RouterContext router;
    private final EventExecutor executor;
    private final HttpClient client;
    /** When each endpoint's next check is due, and whether one is in flight; touched only on {@link #executor}. */
    private final Map<String, Long> nextDueNanos = new HashMap<>();
    private final Map<String, Boolean> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
    private @Nullable ScheduledFuture<?> tick;

    HealthChecker(RouterContext router, EventExecutor executor) {
        this.router = router;
        this.executor = executor;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .connectTimeout(Duration.ofMillis(router.connectTimeoutMillis))
                .build();
    }

    void start() {
        tick = executor.scheduleWithFixedDelay(this::tick, 0, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            long now = System.nanoTime();
            RoutingTable table = router.config.current();
            for (CompiledPool pool : table.mesh().pools().values()) {
                HealthCheck check = pool.pool().healthCheck();
                if (check == null || !pool.pool().sites().contains(router.site)) {
                    continue;
                }
                for (Origin origin : pool.pool().origins()) {
                    if (!origin.siteIn(pool.pool()).equals(router.site)) {
                        continue;
                    }
                    for (Endpoint endpoint : router.endpoints.of(origin)) {
                        String key = endpoint + check.path();
                        Long due = nextDueNanos.get(key);
                        if (due != null && now - due < 0 || inFlight.containsKey(key)) {
                            continue;
                        }
                        nextDueNanos.put(key, now + check.interval().toNanos());
                        check(key, endpoint, check);
                    }
                }
            }
        } catch (RuntimeException e) {
            logger.warn("site {}: health checks failed to run: {}", router.site, e.toString());
        }
    }

    private void check(String key, Endpoint endpoint, HealthCheck check) {
        URI uri;
        try {
            String host = endpoint.host().indexOf(':') >= 0 ? '[' + endpoint.host() + ']' : endpoint.host();
            uri = URI.create("http://" + host + ':' + endpoint.port() + check.path());
        } catch (IllegalArgumentException e) {
            router.health.checked(endpoint, false, check.healthyThreshold(), check.unhealthyThreshold());
            return;
        }
        inFlight.put(key, Boolean.TRUE);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(check.timeout()).GET()
                .header("user-agent", "isthmus-health-check/" + router.site).build();
        client.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
            inFlight.remove(key);
            boolean ok = error == null && response.statusCode() >= 200 && response.statusCode() < 400;
            if (!ok) {
                logger.debug("site {}: health check of {} failed: {}", router.site, uri,
                        error != null ? error.toString() : "HTTP " + response.statusCode());
            }
            router.health.checked(endpoint, ok, check.healthyThreshold(), check.unhealthyThreshold());
        });
    }

    @Override
    public void close() {
        ScheduledFuture<?> t = tick;
        if (t != null) {
            t.cancel(false);
        }
    }
}
