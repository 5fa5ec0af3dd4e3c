package io.isthmus.mesh.k8s.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.testing.EtcdProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store against an etcd that serves clients over TLS only and requires client certificates. */
class EtcdTlsTest {

    @TempDir
    Path dir;

    @Test
    void readsWritesAndWatchesOverMutualTlsAndIsRefusedWithoutAClientCertificate() throws Exception {
        TestPki pki = TestPki.create(dir);
        Site osaka = Site.builder("osaka").tunnelEndpoint(Endpoint.of("127.0.0.1", 4443)).build();
        try (EtcdProcess etcd = EtcdProcess.startedWithTls(
                new EtcdProcess.Tls(pki.caFile, pki.serverCertFile, pki.serverKeyFile, pki.clientContext()))) {
            try (EtcdConfigStore store = EtcdConfigStore.builder(etcd.endpoints())
                    .trustCertificates(pki.caFile)
                    .keyCertChain(pki.clientCertFile, pki.clientKeyFile)
                    .build()) {
                List<ConfigEvent> events = new CopyOnWriteArrayList<>();
                store.watch(store.revision(), events::add);

                Versioned<MeshObject> stored = store.put(osaka);

                assertThat(store.get(osaka.key())).hasValue(stored);
                await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1);
                assertThat(events.get(0).object()).isEqualTo(stored);
            }

            try (EtcdConfigStore anonymous = EtcdConfigStore.builder(etcd.endpoints())
                    .trustCertificates(pki.caFile)
                    .requestTimeout(Duration.ofSeconds(2))
                    .build()) {
                assertThatThrownBy(() -> anonymous.get(osaka.key()))
                        .isInstanceOf(ConfigStoreException.class)
                        .hasMessageContaining(etcd.endpoint().toString())
                        .hasMessageContaining("get Site/osaka");
            }
        }
    }
}
