package io.isthmus.mesh.spring.internal;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.k8s.etcd.EtcdConfigStore;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/** Builds the etcd store; a class of its own so that mesh-k8s is loaded only when etcd is asked for. */
public final class EtcdStores {

    private EtcdStores() {}

    /**
     * Builds an etcd store.
     *
     * @param endpoints the etcd client URLs
     * @param namespace the key prefix
     * @param requestTimeout how long one request may take
     * @return the store; the caller closes it
     */
    public static ConfigStore create(List<URI> endpoints, String namespace, Duration requestTimeout) {
        if (endpoints.isEmpty()) {
            throw new IllegalStateException("isthmus.store.etcd.endpoints: [] (expected: at least one etcd URL, "
                    + "e.g. http://127.0.0.1:2379, when isthmus.store.type=etcd)");
        }
        return EtcdConfigStore.builder(endpoints).namespace(namespace).requestTimeout(requestTimeout).build();
    }
}
