package io.isthmus.mesh.spring.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.config.ConfigStore;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.function.Supplier;

/**
 * A {@link MeshClient} of an embedded router whose ingress is known only once the router listens
 * (port 0): the ingress is asked for on each call. Closing it closes neither the store nor the router.
 */
public final class RouterMeshClient implements MeshClient {

    private final ConfigStore store;
    private final Supplier<InetSocketAddress> ingressAddress;

    /**
     * Creates the client.
     *
     * @param store the store the router follows
     * @param ingressAddress the router's bound ingress address; throws while the router is not started
     */
    public RouterMeshClient(ConfigStore store, Supplier<InetSocketAddress> ingressAddress) {
        this.store = requireNonNull(store, "store");
        this.ingressAddress = requireNonNull(ingressAddress, "ingressAddress");
    }

    @Override
    public ConfigStore store() {
        return store;
    }

    @Override
    public URI ingress() {
        InetSocketAddress address = ingressAddress.get();
        String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
        if (host.indexOf(':') >= 0) {
            host = '[' + host + ']';
        }
        return URI.create("http://" + host + ':' + address.getPort());
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "RouterMeshClient(store=" + store + ')';
    }
}
