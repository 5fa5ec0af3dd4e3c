package io.isthmus.mesh.reliability;

import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/** A mesh on 127.0.0.1 for tests: a CA, an in-memory store and routers started on port 0. */
final class Mesh implements AutoCloseable {

    static final String TRUST_DOMAIN = "mesh.test";

    final MeshCertificateAuthority ca = MeshCertificateAuthority.create(TRUST_DOMAIN);
    final ConfigStore store = ConfigStore.inMemory();
    /** Tunnel events of every router, e.g. {@code "in osaka spiffe://mesh.test/site/tokyo"}. */
    final List<String> tunnelEvents = new CopyOnWriteArrayList<>();
    private final List<MeshRouter> routers = new ArrayList<>();

    /** Starts the router of a site with credentials from the mesh CA and registers the site. */
    MeshRouter site(String name) {
        return site(ca.issueSite(name));
    }

    /** Starts a router with the given credentials and registers its site at the router's tunnel port. */
    MeshRouter site(SiteCredentials credentials) {
        MeshRouter router = start(credentials);
        store.put(Site.builder(router.site()).tunnelEndpoint(router.tunnelEndpoint()).build());
        return router;
    }

    /** Starts the router of a site with builder settings of the test's own and registers the site. */
    MeshRouter site(String name, UnaryOperator<MeshRouter.Builder> settings) {
        MeshRouter router = start(ca.issueSite(name), settings);
        store.put(Site.builder(router.site()).tunnelEndpoint(router.tunnelEndpoint()).build());
        return router;
    }

    /** Starts a router with the given credentials without registering its site. */
    MeshRouter start(SiteCredentials credentials) {
        return start(credentials, UnaryOperator.identity());
    }

    private MeshRouter start(SiteCredentials credentials, UnaryOperator<MeshRouter.Builder> settings) {
        MeshRouter router = settings.apply(MeshRouter.builder(credentials, store)
                .ioThreads(1)
                .connectTimeout(Duration.ofSeconds(2))
                .responseTimeout(Duration.ofSeconds(10))
                .listener(new MeshRouterListener() {
                    @Override
                    public void tunnelEstablished(SpiffeId peer, SocketAddress remote, boolean outbound) {
                        tunnelEvents.add((outbound ? "out " : "in ") + credentials.site() + " " + peer);
                    }

                    @Override
                    public void tunnelRejected(SocketAddress remote, String reason, boolean outbound) {
                        tunnelEvents.add((outbound ? "rejected-out " : "rejected-in ") + credentials.site() + " "
                                + reason);
                    }
                }))
                .build()
                .start();
        routers.add(router);
        return router;
    }

    /** Creates the load balancer {@code name} advertised at {@code at}, with the pool {@code name-pool} at {@code poolSite}. */
    void loadBalancer(String name, String at, String poolSite, Endpoint... origins) {
        store.put(OriginPool.builder(name + "-pool").site(poolSite).endpoints(List.of(origins)).build());
        store.put(LoadBalancer.builder(name).domain(name).advertiseAt(at).defaultPool(name + "-pool").build());
    }

    /** Waits until every router routes by the store's newest revision. */
    void awaitApplied(MeshRouter... routers) {
        long revision = store.revision();
        for (MeshRouter router : routers) {
            await().atMost(Duration.ofSeconds(10)).until(() -> router.appliedRevision() >= revision);
        }
    }

    /** Returns the tunnel events of one kind at one site, e.g. {@code events("rejected-in", "osaka")}. */
    List<String> events(String kind, String site) {
        String prefix = kind + " " + site + " ";
        return tunnelEvents.stream().filter(e -> e.startsWith(prefix)).toList();
    }

    /** An HTTP client that uses a router's ingress as its HTTP proxy, as an application would. */
    static HttpClient clientOf(MeshRouter router) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(router.ingressAddress()))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    static HttpResponse<String> get(MeshRouter router, String url) throws IOException, InterruptedException {
        return clientOf(router).send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static Endpoint endpoint(InetSocketAddress address) {
        return Endpoint.of(address.getAddress().getHostAddress(), address.getPort());
    }

    @Override
    public void close() {
        for (int i = routers.size() - 1; i >= 0; i--) {
            routers.get(i).close();
        }
        store.close();
    }
}
