package io.isthmus.mesh.k8s;

/** A running subscription of {@link KubernetesEndpointDiscovery}; closing it stops its watches. */
public interface Subscription extends AutoCloseable {

    /**
     * Returns whether the watches of the Service and its EndpointSlices are currently connected to
     * the API server, e.g. for a readiness check. After a disconnect they reconnect by themselves.
     *
     * @return {@code true} when both watches are connected
     */
    boolean isWatching();

    /** Stops the watches and the calls to the listener. Idempotent. */
    @Override
    void close();
}
