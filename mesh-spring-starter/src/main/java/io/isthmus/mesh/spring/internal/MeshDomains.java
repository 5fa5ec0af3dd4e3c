package io.isthmus.mesh.spring.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshService;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers "is this host a mesh domain?" for HTTP clients without asking the store on every request:
 * the domains are reloaded when a host is not among them and the last reload is older than the
 * refresh interval. A host matches as the router matches it: an exact domain, a Kubernetes short
 * name of a dot-less domain ({@code osaka-app.default}, {@code osaka-app.default.svc.cluster.local})
 * or a wildcard domain ({@code *.example}). The catch-all domain {@code *} is left out on purpose: it
 * would send every plain-HTTP request of the application to the router. Thread-safe.
 */
public final class MeshDomains {

    private static final Logger logger = LoggerFactory.getLogger(MeshDomains.class);
    private static final String CLUSTER_SUFFIX = ".svc.cluster.local";

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
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (h.endsWith(CLUSTER_SUFFIX)) {
            h = h.substring(0, h.length() - CLUSTER_SUFFIX.length());
        }
        Set<String> current = domains;
        if (loaded && matches(current, h)) {
            return true;
        }
        if (!loaded || System.nanoTime() - loadedAt >= refreshNanos) {
            current = reload();
        }
        return matches(current, h);
    }

    private static boolean matches(Set<String> domains, String host) {
        if (domains.contains(host)) {
            return true;
        }
        for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
            if (domains.contains("*" + host.substring(dot))) {
                return true;
            }
        }
        return false;
    }

    private synchronized Set<String> reload() {
        try {
            Set<String> fresh = new HashSet<>();
            for (MeshService service : client.services()) {
                String domain = service.domain().toLowerCase(Locale.ROOT);
                if (domain.equals("*")) {
                    continue;
                }
                fresh.add(domain);
                if (domain.indexOf('.') < 0) {
                    fresh.add(domain + '.' + service.loadBalancer().namespace());
                }
            }
            fresh = Set.copyOf(fresh);
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
