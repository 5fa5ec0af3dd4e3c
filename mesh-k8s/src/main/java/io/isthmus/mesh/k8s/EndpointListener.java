package io.isthmus.mesh.k8s;

import java.util.List;

/**
 * Receives the ready endpoints of a Kubernetes Service port whenever they change. Called on an
 * informer thread of the discovery, one call at a time per subscription; must not block.
 */
@FunctionalInterface
public interface EndpointListener {

    /**
     * Called with the complete, current set of ready endpoints (possibly empty).
     *
     * @param service the subscribed service port
     * @param endpoints the ready endpoints, immutable and ordered by address and port
     */
    void onEndpoints(ServiceReference service, List<DiscoveredEndpoint> endpoints);
}
