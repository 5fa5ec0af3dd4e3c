package io.isthmus.mesh.spring.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshService;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers "is this host a mesh domain?" for HTTP clients without asking the store on every request:
 * the domains are reloaded when a host is not among them and the last reload is older than the
 * refresh interval. Thread-safe.
 */
public final class MeshDomains {

    private static final Logger logger = LoggerFactory.getLogger(MeshDomains.class);

    private final MeshClient client;
    private final long refreshNanos;
    private volatile Set<String> domains = Set.of();
    private volatile long loadedAt;
    private volatile boolean loaded;

    /**
     * Creates the lookup.
     *
     * @param client the client that lists the mesh services
     * @param refresh the shortest time between two reloads caused by unknown hosts
     */
    public MeshDomains(MeshClient client, Duration refresh) {
        this.client = requireNonNull(client, "client");
        requireNonNull(refresh, "refresh");
        if (refresh.isNegative()) {
            throw new IllegalArgumentException("isthmus.http.domain-refresh: " + refresh + " (expected: >= 0)");
        }
        this.refreshNanos = refresh.toNanos();
    }

    /**
     * Tells whether requests to {@code host} go through the mesh.
     *
     * @param host a host name as in a URI, without port
     * @return {@code true} when a load balancer serves that domain
     */
    public boolean isMeshDomain(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        Set<String> current = domains;
        if (loaded && current.contains(h)) {
            return true;
        }
        if (!loaded || System.nanoTime() - loadedAt >= refreshNanos) {
            current = reload();
        }
        return current.contains(h);
    }

    private synchronized Set<String> reload() {
        try {
            Set<String> fresh = client.services().stream()
                    .map(MeshService::domain)
                    .map(d -> d.toLowerCase(Locale.ROOT))
                    .collect(Collectors.toUnmodifiableSet());
            domains = fresh;
            return fresh;
        } catch (RuntimeException e) {
            // Keep routing with what we knew: the control plane may be down while the data plane is not.
            logger.warn("Could not list the mesh services through {}: {}", client, e.toString());
            return domains;
        } finally {
            loadedAt = System.nanoTime();
            loaded = true;
        }
    }
}
