package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.netty.EndpointResolver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current endpoints of the origins of this site: a static origin is its own endpoint; a
 * Kubernetes-service origin has those its {@link EndpointResolver} last delivered, followed from the
 * first request that needs it until the router closes.
 */
final class Endpoints implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(Endpoints.class);

    private final EndpointResolver resolver;
    private final Map<String, Followed> services = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Endpoints(EndpointResolver resolver) {
        this.resolver = resolver;
    }

    private static final class Followed {
        volatile List<Endpoint> endpoints = List.of();
        volatile AutoCloseable watch = () -> {};
    }

    /** Returns the endpoints of an origin now; empty while a service's endpoints are not known. */
    List<Endpoint> of(Origin origin) {
        if (origin.type() == Origin.Type.STATIC) {
            return List.of(origin.endpoint());
        }
        String key = origin.serviceNamespace() + '/' + origin.serviceName() + ':' + origin.endpoint().port();
        Followed followed = services.get(key);
        if (followed == null) {
            followed = follow(key, origin);
        }
        return followed.endpoints;
    }

    private Followed follow(String key, Origin origin) {
        Followed fresh = new Followed();
        Followed existing = services.putIfAbsent(key, fresh);
        if (existing != null) {
            return existing;
        }
        try {
            fresh.watch = resolver.watch(origin, list -> {
                fresh.endpoints = List.copyOf(list);
                logger.debug("endpoints of service {}: {}", key, list);
            });
        } catch (RuntimeException e) {
            logger.warn("cannot resolve the endpoints of service {}: {}", key, e.toString());
        }
        if (closed) {
            close();
        }
        return fresh;
    }

    /** Returns the endpoints of several origins, in order. */
    List<Endpoint> of(List<Origin> origins) {
        if (origins.size() == 1) {
            return of(origins.get(0));
        }
        List<Endpoint> all = new ArrayList<>();
        for (Origin origin : origins) {
            all.addAll(of(origin));
        }
        return all;
    }

    @Override
    public void close() {
        closed = true;
        for (Followed followed : services.values()) {
            try {
                followed.watch.close();
            } catch (Exception e) {
                logger.debug("closing an endpoint watch", e);
            }
        }
    }
}
