package io.isthmus.mesh.k8s.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.testing.EtcdProcess;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * fabric8's client (with its mock API server in CRUD mode) and jetcd against a real etcd work in one
 * JVM: both sit on the one Vert.x and Netty the build pins.
 */
class Fabric8AndJetcdTest {

    @RegisterExtension
    static final EtcdProcess etcd = new EtcdProcess();

    @Test
    void fabric8ClientAndEtcdStoreWorkSideBySide() {
        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(List.of()), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
        try (KubernetesClient kubernetes = server.createClient();
                EtcdConfigStore store = EtcdConfigStore.builder(etcd.endpoints()).namespace("/fabric8").build()) {
            kubernetes.configMaps().inNamespace("isthmus").resource(new ConfigMapBuilder()
                    .withNewMetadata().withName("site").endMetadata()
                    .addToData("name", "osaka")
                    .addToData("tunnel", "127.0.0.1:4443")
                    .build()).create();

            ConfigMap read = kubernetes.configMaps().inNamespace("isthmus").withName("site").get();
            Site site = Site.builder(read.getData().get("name"))
                    .tunnelEndpoint(Endpoint.parse(read.getData().get("tunnel"))).build();
            store.put(site);

            assertThat(read.getMetadata().getResourceVersion()).isNotEmpty();
            assertThat(store.get(site.key())).hasValueSatisfying(v -> assertThat(v.object()).isEqualTo(site));
        } finally {
            server.destroy();
        }
    }
}
