package io.isthmus.mesh.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.spring.internal.MeshDomains;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import reactor.core.publisher.Mono;

/** Which requests the HTTP client adapters send to the router ingress, and how. */
class MeshHttpRoutingTest {

    private final ConfigStore store = withPool(ConfigStore.inMemory());

    /** The load balancers below name the pool "pool"; the store refuses them without it. */
    private static ConfigStore withPool(ConfigStore store) {
        store.put(OriginPool.builder("pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", 8081)).build());
        return store;
    }
    private final MeshClient client = MeshClient.of(store, URI.create("http://127.0.0.1:18080"));

    private static LoadBalancer lb(String name, String... domains) {
        return LoadBalancer.builder(name).domains(List.of(domains)).advertiseAt("tokyo").defaultPool("pool").build();
    }

    @Test
    void proxySelectorSendsOnlyPlainHttpMeshDomainsToTheIngress() {
        store.put(lb("osaka-app", "osaka-app"));
        List<URI> fallbackAsked = new ArrayList<>();
        Proxy corporate = new Proxy(Proxy.Type.HTTP, InetSocketAddress.createUnresolved("proxy.corp", 3128));
        ProxySelector fallback = new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                fallbackAsked.add(uri);
                return List.of(corporate);
            }

            @Override
            public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {}
        };
        MeshProxySelector selector = new MeshProxySelector(client,
                new MeshDomains(client, Duration.ofSeconds(1))::isMeshDomain, fallback);

        assertThat(selector.select(URI.create("http://OSAKA-APP/orders?id=1"))).singleElement().satisfies(p -> {
            assertThat(p.type()).isEqualTo(Proxy.Type.HTTP);
            InetSocketAddress address = (InetSocketAddress) p.address();
            assertThat(address.getHostString()).isEqualTo("127.0.0.1");
            assertThat(address.getPort()).isEqualTo(18080);
        });
        assertThat(selector.select(URI.create("https://osaka-app/orders"))).containsExactly(corporate);
        assertThat(selector.select(URI.create("http://example.com/"))).containsExactly(corporate);
        assertThat(fallbackAsked).extracting(URI::getHost).containsExactly("osaka-app", "example.com");
        assertThat(new MeshProxySelector(client, h -> false, null).select(URI.create("http://example.com/")))
                .containsExactly(Proxy.NO_PROXY);
    }

    @Test
    void domainsAddedLaterAreFoundAfterTheRefreshInterval() {
        MeshDomains immediate = new MeshDomains(client, Duration.ZERO);
        MeshDomains slow = new MeshDomains(client, Duration.ofHours(1));
        assertThat(immediate.isMeshDomain("kyoto-app")).isFalse();
        assertThat(slow.isMeshDomain("kyoto-app")).isFalse();

        store.put(lb("kyoto-app", "kyoto-app", "kyoto.example"));

        assertThat(immediate.isMeshDomain("kyoto-app")).isTrue();
        assertThat(immediate.isMeshDomain("Kyoto.Example")).isTrue();
        // Loaded less than an hour ago: the new domain is not seen yet.
        assertThat(slow.isMeshDomain("kyoto-app")).isFalse();
    }

    @Test
    void matchesWildcardsAndKubernetesNamesButNotTheCatchAll() {
        store.put(lb("osaka-app", "osaka-app"));
        store.put(lb("shops", "*.shops.example"));
        store.put(lb("fallback", "*"));
        MeshDomains domains = new MeshDomains(client, Duration.ofSeconds(1));

        assertThat(domains.isMeshDomain("osaka-app.default")).isTrue();
        assertThat(domains.isMeshDomain("osaka-app.default.svc.cluster.local")).isTrue();
        assertThat(domains.isMeshDomain("osaka-app.other")).isFalse();
        assertThat(domains.isMeshDomain("kyoto.shops.example")).isTrue();
        assertThat(domains.isMeshDomain("a.b.shops.example")).isTrue();
        assertThat(domains.isMeshDomain("shops.example")).isFalse();
        assertThat(domains.isMeshDomain("example.com")).isFalse();
    }

    @Test
    void domainsSurviveAStoreThatStopsAnswering() {
        AtomicReference<Boolean> failing = new AtomicReference<>(false);
        store.put(lb("osaka-app", "osaka-app"));
        MeshClient flaky = new MeshClient() {
            @Override
            public ConfigStore store() {
                if (failing.get()) {
                    throw new IllegalStateException("store down");
                }
                return store;
            }

            @Override
            public URI ingress() {
                return client.ingress();
            }

            @Override
            public void close() {}
        };
        MeshDomains domains = new MeshDomains(flaky, Duration.ZERO);
        assertThat(domains.isMeshDomain("osaka-app")).isTrue();
        failing.set(true);
        assertThat(domains.isMeshDomain("osaka-app")).isTrue();
        assertThat(domains.isMeshDomain("elsewhere")).isFalse();
    }

    @Test
    void rejectsNegativeRefresh() {
        assertThatThrownBy(() -> new MeshDomains(client, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("isthmus.http.domain-refresh: PT-1S (expected: >= 0)");
    }

    @Test
    void exchangeFilterRewritesMeshRequestsAndKeepsTheirAuthority() {
        store.put(lb("osaka-app", "osaka-app"));
        MeshExchangeFilterFunction filter = new MeshExchangeFilterFunction(client,
                new MeshDomains(client, Duration.ofSeconds(1))::isMeshDomain);
        List<ClientRequest> sent = new ArrayList<>();

        filter.filter(ClientRequest.create(HttpMethod.GET, URI.create("http://osaka-app/orders?id=a%20b")).build(),
                r -> {
                    sent.add(r);
                    return Mono.<ClientResponse>empty();
                }).block(Duration.ofSeconds(5));
        filter.filter(ClientRequest.create(HttpMethod.GET, URI.create("http://example.com:8081/x")).build(), r -> {
            sent.add(r);
            return Mono.<ClientResponse>empty();
        }).block(Duration.ofSeconds(5));

        assertThat(sent.get(0).url()).isEqualTo(URI.create("http://127.0.0.1:18080/orders?id=a%20b"));
        assertThat(sent.get(0).headers().getFirst(HttpHeaders.HOST)).isEqualTo("osaka-app");
        assertThat(sent.get(1).url()).isEqualTo(URI.create("http://example.com:8081/x"));
        assertThat(sent.get(1).headers().containsHeader(HttpHeaders.HOST)).isFalse();
    }
}
