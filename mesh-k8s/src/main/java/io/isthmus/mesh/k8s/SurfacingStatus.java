package io.isthmus.mesh.k8s;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.ObjectKey;

/**
 * Whether a load balancer is reachable through its Kubernetes Service at this site, and if not,
 * why. Immutable.
 *
 * @param loadBalancer the load balancer's key
 * @param state the state
 * @param serviceNamespace the namespace of the Service
 * @param serviceName the name of the Service ({@code ""} when none could be derived)
 * @param reason a human-readable explanation, {@code ""} when surfaced
 */
public record SurfacingStatus(ObjectKey loadBalancer, State state, String serviceNamespace, String serviceName,
        String reason) {

    /** The state of a load balancer's Service. */
    public enum State {
        /** The Service and its EndpointSlices exist and point at the routers. */
        SURFACED,
        /** A Service of that name exists and is not Isthmus's (or is claimed by another load balancer); it was left untouched. */
        CONFLICT,
        /** The load balancer has no domain that makes a valid Service name. */
        REJECTED,
        /** The Kubernetes API failed; the surfacer retries with backoff. */
        PENDING,
        /** The load balancer is no longer surfaced at this site; its Service was deleted. */
        REMOVED
    }

    /**
     * Validates the components.
     *
     * @param loadBalancer the load balancer's key
     * @param state the state
     * @param serviceNamespace the namespace of the Service
     * @param serviceName the name of the Service
     * @param reason the explanation
     */
    public SurfacingStatus {
        requireNonNull(loadBalancer, "loadBalancer");
        requireNonNull(state, "state");
        requireNonNull(serviceNamespace, "serviceNamespace");
        requireNonNull(serviceName, "serviceName");
        requireNonNull(reason, "reason");
    }
}
