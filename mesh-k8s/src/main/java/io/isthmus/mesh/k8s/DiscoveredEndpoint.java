package io.isthmus.mesh.k8s;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.Endpoint;
import org.jspecify.annotations.Nullable;

/**
 * A ready endpoint of a Kubernetes Service as found in its EndpointSlices, with the zone Kubernetes
 * reports for it. Immutable.
 *
 * @param endpoint the address and the target port
 * @param zone the endpoint's zone ({@code topology.kubernetes.io/zone}), or {@code null} when unknown
 */
public record DiscoveredEndpoint(Endpoint endpoint, @Nullable String zone) {

    /**
     * Validates the components.
     *
     * @param endpoint the address and the target port
     * @param zone the zone, or {@code null}
     */
    public DiscoveredEndpoint {
        requireNonNull(endpoint, "endpoint");
    }

    /**
     * Returns an endpoint.
     *
     * @param endpoint the address and the target port
     * @param zone the zone, or {@code null} when unknown
     * @return the discovered endpoint
     */
    public static DiscoveredEndpoint of(Endpoint endpoint, @Nullable String zone) {
        return new DiscoveredEndpoint(endpoint, zone);
    }
}
