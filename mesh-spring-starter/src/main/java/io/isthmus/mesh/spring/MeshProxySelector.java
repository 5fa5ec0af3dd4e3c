package io.isthmus.mesh.spring;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A {@link ProxySelector} that sends plain-HTTP requests for mesh domains to the router ingress,
 * used as an HTTP proxy: the request goes out as {@code GET http://osaka-app/orders}, and the router
 * routes it by that authority. Every other request is left to the {@code fallback} selector.
 *
 * <pre>{@code
 * HttpClient http = HttpClient.newBuilder()
 *         .proxy(new MeshProxySelector(meshClient, domains::contains, ProxySelector.getDefault()))
 *         .build();
 * }</pre>
 *
 * <p>Thread-safe; asks {@link MeshClient#ingress()} on each mesh request, so it follows an embedded
 * router that binds its port only at start.
 */
public final class MeshProxySelector extends ProxySelector {

    private static final List<Proxy> DIRECT = List.of(Proxy.NO_PROXY);

    private final MeshClient client;
    private final Predicate<String> meshDomain;
    private final @Nullable ProxySelector fallback;

    /**
     * Creates the selector.
     *
     * @param client the client whose ingress carries mesh requests
     * @param meshDomain tells whether a host (lower case, without port) is a mesh domain
     * @param fallback the selector for other requests, or {@code null} to connect directly
     */
    public MeshProxySelector(MeshClient client, Predicate<String> meshDomain, @Nullable ProxySelector fallback) {
        this.client = requireNonNull(client, "client");
        this.meshDomain = requireNonNull(meshDomain, "meshDomain");
        this.fallback = fallback;
    }

    @Override
    public List<Proxy> select(URI uri) {
        requireNonNull(uri, "uri");
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String host = uri.getHost();
        if (scheme.equals("http") && host != null && meshDomain.test(host.toLowerCase(Locale.ROOT))) {
            URI ingress = client.ingress();
            int port = ingress.getPort() >= 0 ? ingress.getPort() : 80;
            return List.of(new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved(ingress.getHost(), port)));
        }
        return fallback != null ? fallback.select(uri) : DIRECT;
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
        if (fallback != null) {
            fallback.connectFailed(uri, sa, ioe);
        }
    }
}
