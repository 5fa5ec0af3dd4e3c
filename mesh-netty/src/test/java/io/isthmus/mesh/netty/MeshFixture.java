package io.isthmus.mesh.netty;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.awaitility.Awaitility.await;

/**
 * A mesh on 127.0.0.1 for tests: a CA, an in-memory store and routers started on port 0 (also used
 * by the reliability tests, through this module's test jar).
 */
public final class MeshFixture implements AutoCloseable {

    public static final String TRUST_DOMAIN = "mesh.test";

    public final MeshCertificateAuthority ca = MeshCertificateAuthority.create(TRUST_DOMAIN);
    public final ConfigStore store = ConfigStore.inMemory();
    /** Tunnel events of every router, e.g. {@code "in osaka spiffe://mesh.test/site/tokyo"}. */
    public final List<String> tunnelEvents = new CopyOnWriteArrayList<>();
    private final List<MeshRouter> closeables = new ArrayList<>();

    /** Starts the router of a site with credentials from the mesh CA and registers the site. */
    public MeshRouter site(String name) {
        return site(ca.issueSite(name));
    }

    /** Starts a router with the given credentials and registers its site. */
    public MeshRouter site(SiteCredentials credentials) {
        return site(credentials, b -> b);
    }

    /** Starts the router of a site with extra settings and registers the site. */
    public MeshRouter site(String name, java.util.function.UnaryOperator<MeshRouter.Builder> settings) {
        return site(ca.issueSite(name), settings);
    }

    /** Starts a router with the given credentials and extra settings and registers its site. */
    public MeshRouter site(SiteCredentials credentials, java.util.function.UnaryOperator<MeshRouter.Builder> settings) {
        MeshRouter.Builder builder = MeshRouter.builder(credentials, store)
                .ioThreads(1)
                .connectTimeout(Duration.ofSeconds(2))
                .responseTimeout(Duration.ofSeconds(10))
                .listener(new MeshRouterListener() {
                    @Override
                    public void tunnelEstablished(io.isthmus.mesh.pki.SpiffeId peer, java.net.SocketAddress remote,
                            boolean outbound) {
                        tunnelEvents.add((outbound ? "out " : "in ") + credentials.site() + " " + peer);
                    }

                    @Override
                    public void tunnelRejected(java.net.SocketAddress remote, String reason, boolean outbound) {
                        tunnelEvents.add((outbound ? "rejected-out " : "rejected-in ") + credentials.site() + " " + reason);
                    }
                });
        MeshRouter router = settings.apply(builder).build().start();
        closeables.add(router);
        store.put(Site.builder(router.site()).tunnelEndpoint(router.tunnelEndpoint()).build());
        return router;
    }

    /** Creates the load balancer {@code name} advertised at {@code at}, with a pool at {@code poolSite}. */
    public void loadBalancer(String name, String at, String poolSite, Endpoint... origins) {
        store.put(OriginPool.builder(name + "-pool").site(poolSite).endpoints(List.of(origins)).build());
        store.put(LoadBalancer.builder(name).domain(name).advertiseAt(at).defaultPool(name + "-pool").build());
    }

    /** Waits until every router routes by the store's newest revision. */
    public void awaitApplied(MeshRouter... routers) {
        long revision = store.revision();
        for (MeshRouter router : routers) {
            await().atMost(Duration.ofSeconds(10)).until(() -> router.appliedRevision() >= revision);
        }
    }

    /** Returns the tunnel events of one kind at one site, e.g. {@code events("rejected-in", "osaka")}. */
    public List<String> events(String kind, String site) {
        String prefix = kind + " " + site + " ";
        return tunnelEvents.stream().filter(e -> e.startsWith(prefix)).toList();
    }

    /** An HTTP client that uses a router's ingress as its HTTP proxy, as an application would. */
    public static HttpClient clientOf(MeshRouter router) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(router.ingressAddress()))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    public static HttpResponse<String> get(MeshRouter router, String url) throws IOException, InterruptedException {
        return clientOf(router).send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The TLS of a test peer on a tunnel, client or server side: TLS 1.3, this mesh's CA as the trust
     * anchor, and HTTP/2 by ALPN, as the routers speak it.
     */
    public io.netty.handler.ssl.SslContext tunnelPeerTls(io.netty.handler.ssl.SslContextBuilder builder)
            throws javax.net.ssl.SSLException {
        return builder.sslProvider(io.netty.handler.ssl.SslProvider.JDK)
                .protocols("TLSv1.3")
                .trustManager(ca.certificate())
                .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                        io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        io.netty.handler.ssl.ApplicationProtocolNames.HTTP_2))
                .build();
    }

    /** Returns a port on 127.0.0.1 that nothing listens on. */
    public static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    public static Endpoint endpoint(InetSocketAddress address) {
        return Endpoint.of(address.getAddress().getHostAddress(), address.getPort());
    }

    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        store.close();
    }
}
