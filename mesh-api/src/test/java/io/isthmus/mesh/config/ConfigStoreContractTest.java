package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ConfigStore} implementation must have. An implementation's test extends
 * this class and returns a fresh, empty store from {@link #newStore()}.
 */
public abstract class ConfigStoreContractTest {

    /** The store under test, fresh for each test. */
    protected ConfigStore store;

    /**
     * Returns a new, empty store.
     *
     * @return the store
     */
    protected abstract ConfigStore newStore();

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    /** A site with a given tunnel port, for tests that need distinct values. */
    protected static Site site(String name, int port) {
        return Site.builder(name).tunnelEndpoint(Endpoint.of("127.0.0.1", port)).build();
    }

    private static OriginPool pool(String name) {
        return OriginPool.builder(name).site("osaka").endpoint(Endpoint.of("10.0.0.7", 80)).build();
    }

    private static LoadBalancer lb(String name) {
        return LoadBalancer.builder(name).domain(name).advertiseAt("tokyo").defaultPool("pool").build();
    }

    @Test
    void storesAndReadsBackEveryKind() {
        Site site = site("osaka", 4443);
        store.put(site);
        store.put(pool("pool"));
        store.put(lb("app"));

        assertThat(store.get(site.key())).map(Versioned::object).hasValue(site);
        assertThat(store.get(ObjectKey.of(Kind.ORIGIN_POOL, "default", "pool"))).map(Versioned::object).hasValue(pool("pool"));
        assertThat(store.get(ObjectKey.of(Kind.SITE, "nara"))).isEmpty();
    }

    @Test
    void listsByKindOrderedByKey() {
        store.put(site("osaka", 1));
        store.put(lb("b"));
        store.put(site("kyoto", 2));
        store.put(lb("a"));

        assertThat(store.list(Kind.SITE)).extracting(v -> v.object().name()).containsExactly("kyoto", "osaka");
        assertThat(store.list(Kind.LOAD_BALANCER)).extracting(v -> v.object().name()).containsExactly("a", "b");
        assertThat(store.list(Kind.ORIGIN_POOL)).isEmpty();
    }

    @Test
    void increasesTheRevisionWithEveryWrite() {
        long start = store.revision();
        Versioned<MeshObject> first = store.put(site("osaka", 1));
        Versioned<MeshObject> second = store.put(site("osaka", 2));

        assertThat(first.modRevision()).isGreaterThan(start);
        assertThat(second.modRevision()).isGreaterThan(first.modRevision());
        assertThat(second.createRevision()).isEqualTo(first.createRevision());
        assertThat(store.revision()).isEqualTo(second.modRevision());
    }

    @Test
    void createFailsWhenTheObjectExists() {
        store.create(site("osaka", 1));
        long revision = store.revision();

        assertThatThrownBy(() -> store.create(site("osaka", 2)))
                .isInstanceOf(ConfigConflictException.class)
                .hasMessageContaining("Site/osaka");
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(ObjectKey.of(Kind.SITE, "osaka"))).map(Versioned::object).hasValue(site("osaka", 1));
    }

    @Test
    void updateIsACompareAndSetOnTheModRevision() {
        Versioned<MeshObject> created = store.create(site("osaka", 1));
        Versioned<MeshObject> updated = store.update(site("osaka", 2), created.modRevision());
        long revision = store.revision();

        assertThatThrownBy(() -> store.update(site("osaka", 3), created.modRevision()))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> {
                    assertThat(e.expectedRevision()).isEqualTo(created.modRevision());
                    assertThat(e.actualRevision()).isEqualTo(updated.modRevision());
                });
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(ObjectKey.of(Kind.SITE, "osaka"))).map(Versioned::object).hasValue(site("osaka", 2));
    }

    @Test
    void deletesUnconditionallyAndByRevision() {
        Versioned<MeshObject> osaka = store.put(site("osaka", 1));
        Versioned<MeshObject> kyoto = store.put(site("kyoto", 1));

        assertThat(store.delete(osaka.object().key())).isTrue();
        assertThat(store.delete(osaka.object().key())).isFalse();
        assertThatThrownBy(() -> store.delete(kyoto.object().key(), kyoto.modRevision() - 1))
                .isInstanceOf(ConfigConflictException.class);
        store.delete(kyoto.object().key(), kyoto.modRevision());
        assertThat(store.list(Kind.SITE)).isEmpty();
        assertThatThrownBy(() -> store.delete(kyoto.object().key(), kyoto.modRevision()))
                .isInstanceOf(ConfigConflictException.class);
    }

    @Test
    void snapshotHoldsEveryObjectAtOneRevision() {
        store.put(site("osaka", 1));
        store.put(lb("app"));

        ConfigSnapshot snapshot = store.snapshot();

        assertThat(snapshot.revision()).isEqualTo(store.revision());
        assertThat(snapshot.objects()).extracting(v -> v.object().key().toString())
                .containsExactlyInAnyOrder("Site/osaka", "LoadBalancer/default/app");
    }

    @Test
    void watchDeliversLaterChangesInOrderExactlyOnce() {
        store.put(site("osaka", 1));
        ConfigSnapshot snapshot = store.snapshot();
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        try (ConfigWatch watch = store.watch(snapshot.revision(), events::add)) {
            store.put(site("osaka", 2));
            store.put(lb("app"));
            store.delete(ObjectKey.of(Kind.SITE, "osaka"));

            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 3);
            assertThat(describe(events)).containsExactly("PUT Site/osaka", "PUT LoadBalancer/default/app",
                    "DELETE Site/osaka");
            assertThat(events).extracting(ConfigEvent::revision).isSorted().doesNotHaveDuplicates();
            assertThat(events.get(2).object()).isNull();
            assertThat(events.get(0).object().object()).isEqualTo(site("osaka", 2));
        }
    }

    @Test
    void watchFromAnOlderRevisionReplaysWhatWasMissed() {
        long start = store.revision();
        store.put(site("osaka", 1));
        store.put(site("kyoto", 1));
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        try (ConfigWatch watch = store.watch(start, events::add)) {
            store.put(site("nara", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 3);
            assertThat(describe(events)).containsExactly("PUT Site/osaka", "PUT Site/kyoto", "PUT Site/nara");
        }
    }

    @Test
    void closedWatchReceivesNothingMore() {
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        List<ConfigEvent> control = new CopyOnWriteArrayList<>();
        ConfigWatch watch = store.watch(store.revision(), events::add);
        try (ConfigWatch other = store.watch(store.revision(), control::add)) {
            store.put(site("osaka", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1 && control.size() == 1);
            watch.close();
            store.put(site("osaka", 2));
            await().atMost(Duration.ofSeconds(10)).until(() -> control.size() == 2);
            assertThat(events).hasSize(1);
        }
    }

    @Test
    void aListenerThatThrowsDoesNotStopLaterEvents() {
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        try (ConfigWatch watch = store.watch(store.revision(), e -> {
            events.add(e);
            throw new IllegalStateException("listener failure");
        })) {
            store.put(site("osaka", 1));
            store.put(site("osaka", 2));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
        }
    }

    private static List<String> describe(List<ConfigEvent> events) {
        return events.stream().map(e -> e.type() + " " + e.key()).collect(Collectors.toList());
    }
}
