package io.isthmus.mesh.k8s;

/** A running subscription of {@link KubernetesEndpointDiscovery}; closing it stops its watches. */
public interface Subscription extends AutoCloseable {

    /** Stops the watches and the calls to the listener. Idempotent. */
    @Override
    void close();
}
