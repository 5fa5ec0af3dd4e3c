package io.isthmus.mesh.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.net.URI;
import org.junit.jupiter.api.Test;

class MeshClientTest {

    private static final URI INGRESS = URI.create("http://127.0.0.1:8080");

    @Test
    void listsOneServicePerLoadBalancerDomainWithTheIngress() {
        try (ConfigStore store = ConfigStore.inMemory(); MeshClient client = MeshClient.of(store, INGRESS)) {
            store.put(Site.builder("osaka").tunnelEndpoint(Endpoint.parse("127.0.0.1:4443")).build());
            store.put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.parse("127.0.0.1:9000")).build());
            LoadBalancer lb = LoadBalancer.builder("osaka-app").domain("osaka-app").domain("orders.osaka.example")
                    .advertiseAt("tokyo").defaultPool("osaka-pool").build();
            store.put(lb);

            assertThat(client.services()).containsExactly(
                    new MeshService("osaka-app", lb.key(), java.util.List.of("tokyo"), INGRESS),
                    new MeshService("orders.osaka.example", lb.key(), java.util.List.of("tokyo"), INGRESS));
            assertThat(client.service("OSAKA-APP")).map(MeshService::loadBalancer).contains(lb.key());
            assertThat(client.service("kyoto-app")).isEmpty();
        }
    }

    @Test
    void closingTheClientLeavesTheCallersStoreOpen() {
        try (ConfigStore store = ConfigStore.inMemory()) {
            MeshClient.of(store, INGRESS).close();
            store.put(Site.builder("osaka").tunnelEndpoint(Endpoint.parse("127.0.0.1:4443")).build());
            assertThat(store.get(ObjectKey.of(io.isthmus.mesh.model.Kind.SITE, "osaka"))).isPresent();
        }
    }

    @Test
    void rejectsAnIngressThatIsNotAnHttpUri() {
        try (ConfigStore store = ConfigStore.inMemory()) {
            assertThatThrownBy(() -> MeshClient.of(store, URI.create("tcp://127.0.0.1:8080")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("ingress: tcp://127.0.0.1:8080 (expected: an http URI with a host, e.g. http://127.0.0.1:8080)");
        }
    }
}
