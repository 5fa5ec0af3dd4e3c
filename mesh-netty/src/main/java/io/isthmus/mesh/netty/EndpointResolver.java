package io.isthmus.mesh.netty;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Origin;
import java.util.List;
import java.util.function.Consumer;

/**
 * Finds the endpoints behind a Kubernetes-service origin of the router's own site. The router asks
 * once per origin, the first time it sends a request there, and keeps the latest list it was given;
 * static origins never reach the resolver.
 *
 * <p>The default, {@link #dns()}, answers with the service's cluster DNS name ({@code
 * name.namespace.svc.cluster.local:port}) and never updates it: the cluster's DNS spreads connections
 * over the service's pods. A resolver backed by the Kubernetes API (the daemon plugs in mesh-k8s's
 * discovery) delivers the ready pod addresses and every change to them:
 *
 * <pre>{@code
 * MeshRouter router = MeshRouter.builder(credentials, store)
 *         .endpointResolver((origin, updates) -> discovery.watch(origin.serviceNamespace(),
 *                 origin.serviceName(), origin.endpoint().port(), updates))
 *         .build();
 * }</pre>
 */
@FunctionalInterface
public interface EndpointResolver {

    /**
     * Starts following the endpoints of a Kubernetes-service origin.
     *
     * @param origin an origin of type {@link Origin.Type#KUBERNETES_SERVICE} at the router's site
     * @param updates receives the current endpoints, then every new list; may be called from any thread.
     *     An empty list means the service has no ready endpoint.
     * @return stops following when closed (when the router closes)
     */
    AutoCloseable watch(Origin origin, Consumer<List<Endpoint>> updates);

    /**
     * Returns the resolver that answers with the service's cluster DNS name.
     *
     * @return the resolver
     */
    static EndpointResolver dns() {
        return (origin, updates) -> {
            updates.accept(List.of(origin.endpoint()));
            return () -> {};
        };
    }
}
