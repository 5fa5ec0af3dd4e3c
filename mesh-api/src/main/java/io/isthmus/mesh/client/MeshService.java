package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.ObjectKey;
import java.net.URI;
import java.util.List;

/**
 * A service reachable through the mesh: one domain of a load balancer, and the router ingress that
 * carries requests for it. Immutable.
 *
 * <p>An application reaches the service by sending requests with {@code Host: <domain>} to
 * {@link #ingress()}, e.g. {@code curl -x http://127.0.0.1:8080 http://osaka-app/orders}.
 *
 * @param domain the domain requests use, e.g. {@code osaka-app}
 * @param loadBalancer the key of the load balancer that serves the domain
 * @param advertiseSites the sites where the load balancer is advertised
 * @param ingress the router ingress that accepts requests for the domain
 */
public record MeshService(String domain, ObjectKey loadBalancer, List<String> advertiseSites, URI ingress) {

    /**
     * Creates a service, copying {@code advertiseSites}.
     *
     * @param domain the domain requests use
     * @param loadBalancer the key of the load balancer that serves the domain
     * @param advertiseSites the sites where the load balancer is advertised
     * @param ingress the router ingress that accepts requests for the domain
     */
    public MeshService {
        requireNonNull(domain, "domain");
        requireNonNull(loadBalancer, "loadBalancer");
        advertiseSites = List.copyOf(requireNonNull(advertiseSites, "advertiseSites"));
        requireNonNull(ingress, "ingress");
    }
}
