package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Kubernetes-service origins reach their endpoints through the router's {@link EndpointResolver}. */
class EndpointResolverTest {

    private MeshFixture mesh;
    private WireMockServer first;
    private WireMockServer second;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        first = origin("first");
        second = origin("second");
    }

    private static WireMockServer origin(String name) {
        WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody(name)));
        return server;
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        first.stop();
        second.stop();
    }

    @Test
    void resolvesAServiceOriginOnceAndFollowsItsUpdates() throws Exception {
        List<Origin> asked = new CopyOnWriteArrayList<>();
        AtomicReference<Consumer<List<Endpoint>>> updates = new AtomicReference<>();
        AtomicInteger closed = new AtomicInteger();
        MeshRouter tokyo = mesh.site("tokyo", b -> b.endpointResolver((origin, sink) -> {
            asked.add(origin);
            updates.set(sink);
            sink.accept(List.of(Endpoint.of("127.0.0.1", first.port())));
            return closed::incrementAndGet;
        }));
        mesh.store.put(OriginPool.builder("orders-pool").site("tokyo")
                .origin(Origin.builder().kubernetesService("orders", "shop", 8080).build()).build());
        mesh.store.put(LoadBalancer.builder("orders").domain("orders").advertiseAt("tokyo").defaultPool("orders-pool")
                .build());
        mesh.awaitApplied(tokyo);

        assertThat(MeshFixture.get(tokyo, "http://orders/").body()).isEqualTo("first");
        assertThat(MeshFixture.get(tokyo, "http://orders/").body()).isEqualTo("first");
        assertThat(asked).hasSize(1);
        assertThat(asked.get(0).serviceName()).isEqualTo("orders");
        assertThat(asked.get(0).serviceNamespace()).isEqualTo("shop");

        updates.get().accept(List.of(Endpoint.of("127.0.0.1", second.port())));
        assertThat(MeshFixture.get(tokyo, "http://orders/").body()).isEqualTo("second");

        updates.get().accept(List.of());
        var none = MeshFixture.get(tokyo, "http://orders/");
        assertThat(none.statusCode()).isEqualTo(503);
        assertThat(none.body()).contains("no healthy origin").contains("orders-pool");

        tokyo.close();
        assertThat(closed).hasValue(1);
    }

    @Test
    void defaultsToTheServicesClusterDnsName() {
        List<List<Endpoint>> delivered = new CopyOnWriteArrayList<>();
        EndpointResolver.dns().watch(Origin.builder().kubernetesService("orders", "shop", 8080).build(), delivered::add);

        assertThat(delivered).containsExactly(List.of(Endpoint.of("orders.shop.svc.cluster.local", 8080)));
    }
}
