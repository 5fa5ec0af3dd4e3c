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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ConfigStore} must have. A store implementation's test extends this class
 * and returns a new, empty store from {@link #newStore()}; every test gets its own store, closed by
 * {@link #closeStore(ConfigStore)} afterwards.
 *
 * <pre>{@code
 * class MyConfigStoreTest extends ConfigStoreContractTest {
 *     @Override
 *     protected ConfigStore newStore() {
 *         return MyConfigStore.connect(server.address(), "/test-" + UUID.randomUUID()); // an empty store
 *     }
 * }
 * }</pre>
 *
 * <p>The store must be the only writer of what it holds while a test runs: the tests assert that the
 * revision grows by exactly one per write. Waits are bounded by {@link #eventTimeout()}.
 */
public abstract class ConfigStoreContractTest {

    private final List<ConfigWatch> watches = new CopyOnWriteArrayList<>();

    /** The store under test: new and empty for each test. */
    protected ConfigStore store;

    /**
     * Returns a new, empty store; called before each test.
     *
     * @return the store, which {@link #closeStore(ConfigStore)} closes after the test
     */
    protected abstract ConfigStore newStore();

    /**
     * Releases a store after a test; override to also remove what the test wrote, stop a server, ...
     *
     * @param store the store returned by {@link #newStore()}
     */
    protected void closeStore(ConfigStore store) {
        store.close();
    }

    /**
     * Returns how long to wait for a watch event; override for a store with slow notifications.
     *
     * @return the timeout
     */
    protected Duration eventTimeout() {
        return Duration.ofSeconds(10);
    }

    @BeforeEach
    final void openStoreUnderTest() {
        store = newStore();
    }

    @AfterEach
    final void closeStoreUnderTest() {
        try {
            watches.forEach(ConfigWatch::close);
        } finally {
            closeStore(store);
        }
    }

    // ---- fixtures

    /**
     * Returns a site with one tunnel endpoint; different ports give different versions of a site.
     *
     * @param name the site name
     * @param port the tunnel port
     * @return the site
     */
    protected static Site site(String name, int port) {
        return Site.builder(name).tunnelEndpoint(Endpoint.of("127.0.0.1", port)).label("region", "kansai").build();
    }

    /**
     * Returns an origin pool.
     *
     * @param namespace the namespace
     * @param name the pool name
     * @return the pool
     */
    protected static OriginPool pool(String namespace, String name) {
        return OriginPool.builder(name).namespace(namespace).site("osaka")
                .endpoint(Endpoint.of("10.0.0.7", 8080)).build();
    }

    /**
     * Returns a load balancer.
     *
     * @param namespace the namespace
     * @param name the name, also its domain
     * @return the load balancer
     */
    protected static LoadBalancer loadBalancer(String namespace, String name) {
        return LoadBalancer.builder(name).namespace(namespace).domain(name).advertiseAt("tokyo")
                .defaultPool("osaka-pool").build();
    }

    /**
     * Starts a watch that the test closes, or that is closed after the test.
     *
     * @param afterRevision the last revision already seen
     * @param listener the listener
     * @return the watch
     */
    protected final ConfigWatch watch(long afterRevision, ConfigListener listener) {
        ConfigWatch watch = store.watch(afterRevision, listener);
        watches.add(watch);
        return watch;
    }

    /** Records the events of a watch. */
    protected final class Recorder implements ConfigListener {

        private final List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        private final List<Throwable> errors = new CopyOnWriteArrayList<>();

        /** Creates a recorder with no events yet. */
        public Recorder() {}

        @Override
        public void onEvent(ConfigEvent event) {
            events.add(event);
        }

        @Override
        public void onError(Throwable cause) {
            errors.add(cause);
        }

        /**
         * Waits until at least {@code count} events arrived and returns all events so far.
         *
         * @param count the number of events to wait for
         * @return the events
         */
        public List<ConfigEvent> await(int count) {
            org.awaitility.Awaitility.await().atMost(eventTimeout()).until(() -> events.size() >= count);
            return List.copyOf(events);
        }

        /** @return the events so far */
        public List<ConfigEvent> events() {
            return List.copyOf(events);
        }

        /** @return the errors so far */
        public List<Throwable> errors() {
            return List.copyOf(errors);
        }
    }

    private static List<String> describe(List<ConfigEvent> events) {
        return events.stream().map(e -> e.type() + " " + e.key() + "@" + e.revision()).collect(Collectors.toList());
    }

    // ---- reads and writes

    @Test
    void readsBackWhatWasPut() {
        Site osaka = site("osaka", 4443);
        OriginPool pool = pool("shop", "osaka-pool");
        LoadBalancer lb = loadBalancer("shop", "osaka-app");

        Versioned<MeshObject> stored = store.put(osaka);
        store.put(pool);
        store.put(lb);

        assertThat(stored.object()).isEqualTo(osaka);
        assertThat(stored.createRevision()).isEqualTo(stored.modRevision());
        assertThat(store.get(osaka.key())).hasValue(stored);
        assertThat(store.get(pool.key())).map(Versioned::object).hasValue(pool);
        assertThat(store.get(lb.key())).map(Versioned::object).hasValue(lb);
    }

    @Test
    void getsNothingForAMissingKey() {
        store.put(pool("shop", "osaka-pool"));
        store.put(loadBalancer("shop", "osaka-app"));

        assertThat(store.get(ObjectKey.of(Kind.SITE, "nara"))).isEmpty();
        assertThat(store.get(ObjectKey.of(Kind.LOAD_BALANCER, "default", "osaka-app"))).isEmpty();
        assertThat(store.get(ObjectKey.of(Kind.ORIGIN_POOL, "shop", "osaka-app"))).isEmpty();
    }

    @Test
    void listsOneKindOrderedByKey() {
        store.put(site("osaka", 1));
        store.put(pool("shop", "osaka-pool"));
        store.put(loadBalancer("shop", "b-app"));
        store.put(pool("default", "osaka-pool"));
        store.put(loadBalancer("default", "z-app"));
        store.put(site("kyoto", 2));
        store.put(loadBalancer("shop", "a-app"));

        assertThat(store.list(Kind.SITE)).extracting(v -> v.object().key().toString())
                .containsExactly("Site/kyoto", "Site/osaka");
        assertThat(store.list(Kind.LOAD_BALANCER)).extracting(v -> v.object().key().toString())
                .containsExactly("LoadBalancer/default/z-app", "LoadBalancer/shop/a-app", "LoadBalancer/shop/b-app");
        assertThat(store.list(Kind.ORIGIN_POOL)).extracting(v -> v.object().key().toString())
                .containsExactly("OriginPool/default/osaka-pool", "OriginPool/shop/osaka-pool");
    }

    @Test
    void listsNothingForAKindWithoutObjects() {
        store.put(site("osaka", 1));

        assertThat(store.list(Kind.LOAD_BALANCER)).isEmpty();
    }

    @Test
    void incrementsTheRevisionByOnePerWrite() {
        long start = store.revision();

        Versioned<MeshObject> first = store.put(site("osaka", 1));
        Versioned<MeshObject> second = store.put(site("kyoto", 1));
        Versioned<MeshObject> third = store.update(site("osaka", 2), first.modRevision());
        store.delete(ObjectKey.of(Kind.SITE, "kyoto"));
        Versioned<MeshObject> fifth = store.create(pool("default", "osaka-pool"));

        assertThat(first.modRevision()).isEqualTo(start + 1);
        assertThat(second.modRevision()).isEqualTo(start + 2);
        assertThat(third.modRevision()).isEqualTo(start + 3);
        assertThat(fifth.modRevision()).isEqualTo(start + 5);
        assertThat(store.revision()).isEqualTo(start + 5);
    }

    @Test
    void putReplacesAnObjectAndKeepsItsCreateRevision() {
        Versioned<MeshObject> created = store.put(site("osaka", 1));
        store.put(site("kyoto", 1));

        Versioned<MeshObject> replaced = store.put(site("osaka", 2));

        assertThat(replaced.createRevision()).isEqualTo(created.createRevision());
        assertThat(replaced.modRevision()).isEqualTo(store.revision()).isGreaterThan(created.modRevision());
        assertThat(store.get(created.object().key())).hasValue(replaced);
    }

    @Test
    void createFailsWhenTheObjectExists() {
        Versioned<MeshObject> existing = store.create(site("osaka", 1));
        long revision = store.revision();

        assertThatThrownBy(() -> store.create(site("osaka", 2)))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> {
                    assertThat(e.key()).isEqualTo(existing.object().key());
                    assertThat(e.expectedRevision()).isZero();
                    assertThat(e.actualRevision()).isEqualTo(existing.modRevision());
                });
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(existing.object().key())).hasValue(existing);
    }

    @Test
    void updateWithTheReadModRevisionSucceeds() {
        Versioned<MeshObject> created = store.create(site("osaka", 1));
        store.put(site("kyoto", 1));

        Versioned<MeshObject> updated = store.update(site("osaka", 2), created.modRevision());
        Versioned<MeshObject> again = store.update(site("osaka", 3), updated.modRevision());

        assertThat(updated.object()).isEqualTo(site("osaka", 2));
        assertThat(updated.modRevision()).isEqualTo(created.modRevision() + 2);
        assertThat(again.modRevision()).isEqualTo(updated.modRevision() + 1);
        assertThat(again.createRevision()).isEqualTo(updated.createRevision()).isEqualTo(created.createRevision());
        assertThat(store.get(created.object().key())).hasValue(again);
    }

    @Test
    void updateWithAStaleModRevisionFailsAndWritesNothing() {
        Versioned<MeshObject> created = store.create(site("osaka", 1));
        Versioned<MeshObject> updated = store.update(site("osaka", 2), created.modRevision());
        long revision = store.revision();

        assertThatThrownBy(() -> store.update(site("osaka", 3), created.modRevision()))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> {
                    assertThat(e.key()).isEqualTo(created.object().key());
                    assertThat(e.expectedRevision()).isEqualTo(created.modRevision());
                    assertThat(e.actualRevision()).isEqualTo(updated.modRevision());
                });
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(created.object().key())).hasValue(updated);
    }

    @Test
    void updateOfAMissingObjectFails() {
        store.put(site("kyoto", 1));
        long revision = store.revision();

        assertThatThrownBy(() -> store.update(site("osaka", 1), revision))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> {
                    assertThat(e.expectedRevision()).isEqualTo(revision);
                    assertThat(e.actualRevision()).isZero();
                });
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(ObjectKey.of(Kind.SITE, "osaka"))).isEmpty();
    }

    @Test
    void onlyOneOfConcurrentUpdatesFromTheSameRevisionWins() throws Exception {
        Versioned<MeshObject> created = store.create(site("osaka", 1));
        int writers = 8;
        ExecutorService executor = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                int port = 100 + i;
                results.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await(10, TimeUnit.SECONDS);
                        store.update(site("osaka", port), created.modRevision());
                        return true;
                    } catch (ConfigConflictException e) {
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }, executor));
            }
            start.countDown();
            CompletableFuture.allOf(results.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);

            assertThat(results).filteredOn(CompletableFuture::join).hasSize(1);
            assertThat(store.revision()).isEqualTo(created.modRevision() + 1);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void deletesUnconditionally() {
        Versioned<MeshObject> osaka = store.put(site("osaka", 1));
        long revision = store.revision();

        assertThat(store.delete(osaka.object().key())).isTrue();
        assertThat(store.revision()).isEqualTo(revision + 1);
        assertThat(store.get(osaka.object().key())).isEmpty();

        assertThat(store.delete(osaka.object().key())).isFalse();
        assertThat(store.revision()).isEqualTo(revision + 1);
    }

    @Test
    void deletesOnlyWithTheReadModRevision() {
        Versioned<MeshObject> created = store.put(site("osaka", 1));
        Versioned<MeshObject> updated = store.put(site("osaka", 2));
        long revision = store.revision();

        assertThatThrownBy(() -> store.delete(created.object().key(), created.modRevision()))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> {
                    assertThat(e.expectedRevision()).isEqualTo(created.modRevision());
                    assertThat(e.actualRevision()).isEqualTo(updated.modRevision());
                });
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(created.object().key())).hasValue(updated);

        store.delete(created.object().key(), updated.modRevision());
        assertThat(store.get(created.object().key())).isEmpty();
        assertThat(store.revision()).isEqualTo(revision + 1);

        assertThatThrownBy(() -> store.delete(created.object().key(), updated.modRevision()))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> assertThat(e.actualRevision()).isZero());
        assertThat(store.revision()).isEqualTo(revision + 1);
    }

    @Test
    void recreatingADeletedObjectStartsANewCreateRevision() {
        Versioned<MeshObject> first = store.create(site("osaka", 1));
        store.delete(first.object().key());

        Versioned<MeshObject> second = store.create(site("osaka", 2));

        assertThat(second.createRevision()).isEqualTo(second.modRevision()).isEqualTo(first.createRevision() + 2);
    }

    @Test
    void snapshotHoldsEveryObjectAtOneRevisionOrderedByKey() {
        store.put(site("osaka", 1));
        store.put(pool("default", "osaka-pool"));
        store.put(loadBalancer("default", "osaka-app"));
        store.put(site("kyoto", 1));
        store.delete(ObjectKey.of(Kind.SITE, "kyoto"));

        ConfigSnapshot snapshot = store.snapshot();
        store.put(site("nara", 1));
        store.put(site("osaka", 2));

        assertThat(snapshot.revision()).isEqualTo(store.revision() - 2);
        assertThat(snapshot.objects()).extracting(v -> v.object().key().toString())
                .containsExactly("Site/osaka", "LoadBalancer/default/osaka-app", "OriginPool/default/osaka-pool");
        assertThat(snapshot.objects().get(0).object()).isEqualTo(site("osaka", 1));
        assertThat(snapshot.objects()).allSatisfy(v -> assertThat(v.modRevision()).isLessThanOrEqualTo(snapshot.revision()));
    }

    // ---- watches

    @Test
    void watchFromTheSnapshotRevisionReceivesLaterChangesInOrderExactlyOnce() {
        Versioned<MeshObject> osaka = store.put(site("osaka", 1));
        store.put(pool("default", "osaka-pool"));
        ConfigSnapshot snapshot = store.snapshot();
        Recorder recorder = new Recorder();
        watch(snapshot.revision(), recorder);

        Versioned<MeshObject> updated = store.update(site("osaka", 2), osaka.modRevision());
        Versioned<MeshObject> lb = store.put(loadBalancer("default", "osaka-app"));
        store.delete(osaka.object().key());
        long deleted = store.revision();
        // Once an event after these arrived, any duplicate or extra event would have arrived too.
        store.put(site("sentinel", 1));

        List<ConfigEvent> events = recorder.await(4);
        assertThat(describe(events)).containsExactly(
                "PUT Site/osaka@" + updated.modRevision(),
                "PUT LoadBalancer/default/osaka-app@" + lb.modRevision(),
                "DELETE Site/osaka@" + deleted,
                "PUT Site/sentinel@" + (deleted + 1));
        assertThat(events).extracting(ConfigEvent::revision)
                .containsExactlyElementsOf(LongStream.rangeClosed(snapshot.revision() + 1, snapshot.revision() + 4)
                        .boxed().collect(Collectors.toList()));
        assertThat(events.get(0).object()).isEqualTo(updated);
        assertThat(events.get(1).object()).isEqualTo(lb);
        assertThat(events.get(2).object()).isNull();
        assertThat(recorder.errors()).isEmpty();
    }

    @Test
    void watchFromAnOlderRevisionReplaysTheMissedChangesFirst() {
        long start = store.revision();
        store.put(site("osaka", 1));
        long afterFirst = store.revision();
        store.put(site("kyoto", 1));
        store.delete(ObjectKey.of(Kind.SITE, "osaka"));

        Recorder fromStart = new Recorder();
        Recorder fromMiddle = new Recorder();
        watch(start, fromStart);
        watch(afterFirst, fromMiddle);
        store.put(site("nara", 1));

        assertThat(describe(fromStart.await(4))).containsExactly(
                "PUT Site/osaka@" + (start + 1),
                "PUT Site/kyoto@" + (start + 2),
                "DELETE Site/osaka@" + (start + 3),
                "PUT Site/nara@" + (start + 4));
        assertThat(describe(fromMiddle.await(3))).containsExactly(
                "PUT Site/kyoto@" + (start + 2),
                "DELETE Site/osaka@" + (start + 3),
                "PUT Site/nara@" + (start + 4));
    }

    @Test
    void watchDeliversConcurrentWritesInRevisionOrder() throws Exception {
        long start = store.revision();
        Recorder recorder = new Recorder();
        watch(start, recorder);
        int writers = 4;
        int writesEach = 25;
        ExecutorService executor = Executors.newFixedThreadPool(writers);
        try {
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String name = "site-" + w;
                done.add(CompletableFuture.runAsync(() -> {
                    for (int i = 1; i <= writesEach; i++) {
                        store.put(site(name, i));
                    }
                }, executor));
            }
            CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        } finally {
            executor.shutdownNow();
        }

        List<ConfigEvent> events = recorder.await(writers * writesEach);
        assertThat(events).extracting(ConfigEvent::revision)
                .containsExactlyElementsOf(LongStream.rangeClosed(start + 1, start + writers * writesEach)
                        .boxed().collect(Collectors.toList()));
    }

    @Test
    void closedWatchReceivesNothingMore() {
        Recorder closed = new Recorder();
        Recorder open = new Recorder();
        ConfigWatch watch = watch(store.revision(), closed);
        watch(store.revision(), open);
        store.put(site("osaka", 1));
        closed.await(1);

        watch.close();
        watch.close();
        store.put(site("osaka", 2));
        store.put(site("kyoto", 1));

        // The open watch receives events in the same order, so when it has both, the closed one would too.
        open.await(3);
        assertThat(closed.events()).hasSize(1);
    }

    @Test
    void listenerThatThrowsDoesNotStopLaterEvents() {
        List<ConfigEvent> seen = new CopyOnWriteArrayList<>();
        watch(store.revision(), event -> {
            seen.add(event);
            throw new IllegalStateException("listener failure (expected by the test)");
        });
        Recorder other = new Recorder();
        watch(store.revision(), other);

        store.put(site("osaka", 1));
        store.put(site("osaka", 2));
        store.put(site("osaka", 3));

        await().atMost(eventTimeout()).until(() -> seen.size() == 3);
        assertThat(seen).extracting(e -> e.object().object()).containsExactly(site("osaka", 1), site("osaka", 2),
                site("osaka", 3));
        assertThat(other.await(3)).hasSize(3);
    }
}
