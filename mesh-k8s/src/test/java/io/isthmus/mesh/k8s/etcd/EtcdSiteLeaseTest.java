package io.isthmus.mesh.k8s.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.testing.EtcdProcess;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Site liveness: a site record that lives as long as its lease is renewed. */
class EtcdSiteLeaseTest {

    @RegisterExtension
    static final EtcdProcess etcd = new EtcdProcess();

    private static final Duration TTL = Duration.ofSeconds(2);

    private final String prefix = "/lease-" + UUID.randomUUID();
    private final EtcdConfigStore store = EtcdConfigStore.builder(etcd.endpoints()).namespace(prefix).build();
    private final Site osaka = Site.builder("osaka").tunnelEndpoint(Endpoint.of("127.0.0.1", 4443)).build();

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void keepsTheRecordPastItsTtlAndRemovesItAtOnceWhenClosed() throws Exception {
        SiteLease lease = store.keepAlive(osaka, TTL);

        assertThat(store.get(osaka.key())).hasValueSatisfying(v -> assertThat(v.object()).isEqualTo(osaka));
        try (Client raw = Client.builder().endpoints(etcd.endpoints()).build()) {
            List<KeyValue> kvs = raw.getKVClient().get(ByteSequence.from(prefix + "/Site/osaka", UTF_8))
                    .get(10, TimeUnit.SECONDS).getKvs();
            assertThat(kvs).singleElement().satisfies(kv -> assertThat(kv.getLease()).isEqualTo(lease.leaseId()));
        }
        // Renewals keep it for well over the TTL.
        await().during(TTL.multipliedBy(2)).atMost(TTL.multipliedBy(4))
                .until(() -> store.get(osaka.key()).isPresent());

        lease.close();
        lease.close();

        assertThat(store.get(osaka.key())).isEmpty();
    }

    @Test
    void recordExpiresWhenItsOwnerStopsRenewing() {
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        long start = store.revision();
        store.watch(start, events::add);
        EtcdConfigStore owner = EtcdConfigStore.builder(etcd.endpoints()).namespace(prefix).build();
        owner.keepAlive(osaka, TTL);
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1);

        // As if the owner's process died: no revoke, renewals simply stop.
        owner.close();

        await().atMost(TTL.multipliedBy(5)).until(() -> store.get(osaka.key()).isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
        assertThat(events.get(0).type()).isEqualTo(ConfigEvent.Type.PUT);
        assertThat(events.get(1).type()).isEqualTo(ConfigEvent.Type.DELETE);
        assertThat(events.get(1).key()).isEqualTo(osaka.key());
    }

    @Test
    void rejectsATtlUnderOneSecond() {
        assertThatThrownBy(() -> store.keepAlive(osaka, Duration.ofMillis(500)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ttl: PT0.5S (expected: >= PT1S)");
    }
}
