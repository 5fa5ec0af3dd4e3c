package io.isthmus.mesh.k8s.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreContractTest;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.testing.EtcdProcess;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs the {@link ConfigStoreContractTest} against a real etcd process, plus what is particular to
 * etcd: the key layout, values written by other tools, several stores in one cluster.
 */
class EtcdConfigStoreTest extends ConfigStoreContractTest {

    @RegisterExtension
    static final EtcdProcess etcd = new EtcdProcess();

    private final MeshObjectCodec codec = MeshObjectCodec.create();
    private final String prefix = "/test-" + UUID.randomUUID();
    private Client raw;

    @Override
    protected ConfigStore newStore() {
        return EtcdConfigStore.builder(etcd.endpoints()).namespace(prefix).build();
    }

    @BeforeEach
    void openRawClient() {
        raw = Client.builder().endpoints(etcd.endpoints()).build();
    }

    @AfterEach
    void closeRawClient() {
        raw.close();
    }

    private EtcdConfigStore etcdStore() {
        return (EtcdConfigStore) store;
    }

    private KeyValue rawGet(String key) throws Exception {
        List<KeyValue> kvs = raw.getKVClient().get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs();
        assertThat(kvs).as(key).hasSize(1);
        return kvs.get(0);
    }

    private long rawPut(String key, String value) throws Exception {
        return raw.getKVClient().put(bytes(key), bytes(value)).get(10, TimeUnit.SECONDS).getHeader().getRevision();
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, UTF_8);
    }

    @Test
    void storesEachObjectAsJsonUnderItsKindNamespaceAndName() throws Exception {
        Site osaka = site("osaka", 4443);
        LoadBalancer lb = loadBalancer("shop", "osaka-app");

        Versioned<MeshObject> storedSite = store.put(osaka);
        store.put(pool("shop", "osaka-pool"));
        Versioned<MeshObject> storedLb = store.put(lb);

        KeyValue siteKv = rawGet(prefix + "/Site/osaka");
        assertThat(siteKv.getValue().toString(UTF_8)).isEqualTo(codec.toJson(osaka));
        assertThat(siteKv.getModRevision()).isEqualTo(storedSite.modRevision());
        assertThat(siteKv.getCreateRevision()).isEqualTo(storedSite.createRevision());
        KeyValue lbKv = rawGet(prefix + "/LoadBalancer/shop/osaka-app");
        assertThat(codec.fromJson(lbKv.getValue().toString(UTF_8))).isEqualTo(lb);
        assertThat(lbKv.getModRevision()).isEqualTo(storedLb.modRevision());
        assertThat(etcdStore().namespace()).isEqualTo(prefix);
    }

    @Test
    void readsObjectsThatAnotherClientWroteInTheLayout() throws Exception {
        Site kyoto = site("kyoto", 4443);
        long revision = rawPut(prefix + "/Site/kyoto", codec.toJson(kyoto));

        assertThat(store.get(kyoto.key())).hasValue(Versioned.of(kyoto, revision, revision));
        assertThat(store.revision()).isGreaterThanOrEqualTo(revision);
    }

    @Test
    void skipsAndCountsValuesThatAreNotValidObjectsWhileValidOnesStillArrive() throws Exception {
        long start = store.revision();
        Recorder recorder = new Recorder();
        watch(start, recorder);

        rawPut(prefix + "/Site/garbage", "this is not JSON");
        rawPut(prefix + "/Site/nara", "{\"kind\":\"Site\",\"metadata\":{\"name\":\"nara\"},\"spec\":{\"bogus\":1}}");
        rawPut(prefix + "/Site/wrong-name", codec.toJson(site("osaka", 1)));
        rawPut(prefix + "/Route/default/r1", "{}");
        Site valid = site("osaka", 2);
        long validRevision = rawPut(prefix + "/Site/osaka", codec.toJson(valid));
        Versioned<MeshObject> afterGarbage = store.put(site("kyoto", 1));

        List<ConfigEvent> events = recorder.await(2);
        assertThat(events).extracting(ConfigEvent::toString).containsExactly(
                "PUT Site/osaka@" + validRevision, "PUT Site/kyoto@" + afterGarbage.modRevision());
        assertThat(recorder.errors()).isEmpty();
        assertThat(etcdStore().rejectedObjects()).isEqualTo(4);

        assertThat(store.snapshot().objects()).extracting(v -> v.object().key().toString())
                .containsExactly("Site/kyoto", "Site/osaka");
        assertThat(store.list(Kind.SITE)).hasSize(2);
        assertThat(store.get(ObjectKey.of(Kind.SITE, "garbage"))).isEmpty();
        assertThat(etcdStore().rejectedObjects()).isEqualTo(4 + 4 + 3 + 1);
    }

    @Test
    void deliversDeletionsMadeByAnotherClient() throws Exception {
        Versioned<MeshObject> osaka = store.put(site("osaka", 1));
        Recorder recorder = new Recorder();
        watch(osaka.modRevision(), recorder);

        long deleted = raw.getKVClient().delete(bytes(prefix + "/Site/osaka")).get(10, TimeUnit.SECONDS)
                .getHeader().getRevision();

        assertThat(recorder.await(1)).extracting(ConfigEvent::toString).containsExactly("DELETE Site/osaka@" + deleted);
    }

    @Test
    void storesWithDifferentPrefixesDoNotSeeEachOther() {
        store.put(site("osaka", 1));
        try (EtcdConfigStore other = EtcdConfigStore.builder(etcd.endpoints()).namespace(prefix + "-other").build()) {
            other.put(site("kyoto", 1));

            assertThat(other.snapshot().objects()).extracting(v -> v.object().name()).containsExactly("kyoto");
            assertThat(store.snapshot().objects()).extracting(v -> v.object().name()).containsExactly("osaka");
        }
    }

    @Test
    void closedStoreRejectsCalls() {
        store.close();

        assertThatThrownBy(() -> store.get(ObjectKey.of(Kind.SITE, "osaka")))
                .isInstanceOf(io.isthmus.mesh.config.ConfigStoreException.class)
                .hasMessageContaining(etcd.endpoint().toString())
                .hasMessageContaining("closed");
    }
}
