package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.LoadBalancer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the load balancer for a Host: exact domains first, then Kubernetes service names, then the
 * longest wildcard, then the catch-all domain {@code *}. Immutable once built.
 */
final class DomainIndex {

    private static final Logger logger = LoggerFactory.getLogger(DomainIndex.class);
    private static final String CLUSTER_SUFFIX = ".svc.cluster.local";
    static final DomainIndex EMPTY = new DomainIndex(Map.of());

    private final Map<String, LoadBalancer> byDomain;

    private DomainIndex(Map<String, LoadBalancer> byDomain) {
        this.byDomain = byDomain;
    }

    /** Collects load balancers; the first to claim a domain keeps it. */
    static final class Builder {
        private final Map<String, LoadBalancer> byDomain = new HashMap<>();

        void add(LoadBalancer lb) {
            for (String domain : lb.domains()) {
                claim(domain, lb);
                if (domain.indexOf('.') < 0 && !domain.equals("*")) {
                    // Kubernetes short names: osaka-app.default and osaka-app.default.svc.cluster.local.
                    claim(domain + '.' + lb.namespace(), lb);
                }
            }
        }

        private void claim(String domain, LoadBalancer lb) {
            LoadBalancer previous = byDomain.putIfAbsent(domain, lb);
            if (previous != null && !previous.key().equals(lb.key())) {
                logger.warn("domain {} is claimed by {} and {}; {} serves it", domain, previous.key(), lb.key(),
                        previous.key());
            }
        }

        DomainIndex build() {
            return byDomain.isEmpty() ? EMPTY : new DomainIndex(Map.copyOf(byDomain));
        }
    }

    /** Finds the load balancer serving a Host header value (port and trailing dot ignored, any case). */
    @Nullable LoadBalancer find(String hostHeader) {
        String host = normalizeHost(hostHeader);
        LoadBalancer lb = byDomain.get(host);
        if (lb != null) {
            return lb;
        }
        if (host.endsWith(CLUSTER_SUFFIX)) {
            lb = byDomain.get(host.substring(0, host.length() - CLUSTER_SUFFIX.length()));
            if (lb != null) {
                return lb;
            }
        }
        for (int dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) {
            lb = byDomain.get("*" + host.substring(dot));
            if (lb != null) {
                return lb;
            }
        }
        return byDomain.get("*");
    }

    static String normalizeHost(String hostHeader) {
        String host = hostHeader;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            host = close > 0 ? host.substring(0, close + 1) : host;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0) {
                host = host.substring(0, colon);
            }
        }
        if (host.endsWith(".")) {
            host = host.substring(0, host.length() - 1);
        }
        return host.toLowerCase(Locale.ROOT);
    }
}
