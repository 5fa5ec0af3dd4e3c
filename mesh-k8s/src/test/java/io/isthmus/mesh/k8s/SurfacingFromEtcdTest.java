package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.isthmus.mesh.k8s.etcd.EtcdConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.testing.EtcdProcess;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The surfacer follows the mesh's real store, etcd, the way a router in a cluster does. */
class SurfacingFromEtcdTest {

    @RegisterExtension
    static final EtcdProcess etcd = new EtcdProcess();

    @RegisterExtension
    final MockKubernetes k8s = new MockKubernetes();

    @Test
    void surfacesAndWithdrawsLoadBalancersWrittenToEtcd() {
        KubernetesClient setup = k8s.setup();
        LoadBalancer lb = LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                .defaultPool("osaka-pool").build();
        try (EtcdConfigStore store = EtcdConfigStore.builder(etcd.endpoints()).namespace("/surfacing").build();
                ServiceSurfacer surfacer = ServiceSurfacer.builder(k8s.client(), store, "tokyo", "router-a")
                        .listenerPort(8080).downwardApi(Map.of("POD_IP", "10.1.0.5")).build().start()) {
            store.put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.parse("10.0.0.7:8080")).build());
            store.put(lb);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> setup.services().inNamespace("default").withName("osaka-app").get() != null);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(surfacer.status(lb.key()))
                    .hasValueSatisfying(s -> assertThat(s.state()).isEqualTo(SurfacingStatus.State.SURFACED)));

            store.delete(lb.key());
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> setup.services().inNamespace("default").withName("osaka-app").get() == null);
        }
    }
}
