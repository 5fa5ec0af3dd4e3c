package io.isthmus.mesh.k8s.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.testing.EtcdProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The etcd store checks references like the in-memory store, atomically with the write, also when
 * several stores (several daemons) write to one etcd cluster at once.
 */
class EtcdConfigStoreValidationTest {

    @RegisterExtension
    static final EtcdProcess etcd = new EtcdProcess();

    private final String prefix = "/validation-" + UUID.randomUUID();
    private EtcdConfigStore store;
    private EtcdConfigStore other;

    @BeforeEach
    void openStores() {
        store = EtcdConfigStore.builder(etcd.endpoints()).namespace(prefix).build();
        other = EtcdConfigStore.builder(etcd.endpoints()).namespace(prefix).build();
    }

    @AfterEach
    void closeStores() {
        store.close();
        other.close();
    }

    private static OriginPool pool(String name) {
        return OriginPool.builder(name).site("osaka").endpoint(Endpoint.of("10.0.0.7", 8080)).build();
    }

    private static LoadBalancer loadBalancer(String name, String pool) {
        return LoadBalancer.builder(name).domain(name).advertiseAt("tokyo").defaultPool(pool).build();
    }

    @Test
    void refusesALoadBalancerThatNamesAnUnknownPoolAndWritesNothing() {
        long revision = store.revision();

        assertThatThrownBy(() -> store.put(loadBalancer("shop", "no-such-pool")))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("loadBalancers[shop].defaultPool")
                .hasMessageContaining("no-such-pool");
        assertThatThrownBy(() -> store.create(loadBalancer("shop", "no-such-pool")))
                .isInstanceOf(ConfigValidationException.class);

        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(ObjectKey.of(Kind.LOAD_BALANCER, "default", "shop"))).isEmpty();
    }

    @Test
    void refusesAnUpdateThatPointsAnExistingLoadBalancerAtAnUnknownPool() {
        store.put(pool("shop-pool"));
        Versioned<MeshObject> lb = store.put(loadBalancer("shop", "shop-pool"));
        long revision = store.revision();

        assertThatThrownBy(() -> store.update(loadBalancer("shop", "gone-pool"), lb.modRevision()))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("gone-pool");

        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(lb.object().key())).hasValue(lb);
    }

    @Test
    void refusesToDeleteAPoolWhileALoadBalancerUsesIt() {
        Versioned<MeshObject> pool = store.put(pool("shop-pool"));
        store.put(loadBalancer("shop", "shop-pool"));
        long revision = store.revision();

        assertThatThrownBy(() -> store.delete(pool.object().key()))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("originPools[shop-pool]")
                .hasMessageContaining("loadBalancers[shop]");
        assertThatThrownBy(() -> store.delete(pool.object().key(), pool.modRevision()))
                .isInstanceOf(ConfigValidationException.class);

        assertThat(store.revision()).isEqualTo(revision);
        assertThat(store.get(pool.object().key())).hasValue(pool);
    }

    @Test
    void deletesAPoolOnceNoLoadBalancerUsesItAnyMore() {
        Versioned<MeshObject> pool = store.put(pool("shop-pool"));
        Versioned<MeshObject> lb = store.put(loadBalancer("shop", "shop-pool"));

        assertThat(other.delete(lb.object().key())).isTrue();
        assertThat(store.delete(pool.object().key())).isTrue();
        assertThat(store.delete(pool.object().key())).isFalse();
    }

    @Test
    void refusesASecondLoadBalancerClaimingTheSameDomain() {
        store.put(pool("shop-pool"));
        store.put(loadBalancer("shop", "shop-pool"));

        LoadBalancer clash = LoadBalancer.builder("shop-2").domain("shop").advertiseAt("tokyo")
                .defaultPool("shop-pool").build();
        assertThatThrownBy(() -> other.put(clash))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("loadBalancers[shop-2].domains");
    }

    /**
     * Two stores race, many rounds: one puts a load balancer using a pool, the other deletes that pool.
     * Whatever order etcd commits them in, the store never ends with the load balancer naming a missing
     * pool; exactly one of the two writes wins each round.
     */
    @Test
    void aLoadBalancerPutRacingAPoolDeleteNeverLeavesADanglingReference() throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(2);
        List<String> outcomes = new ArrayList<>();
        try {
            for (int round = 0; round < 25; round++) {
                String poolName = "pool-" + round;
                String lbName = "app-" + round;
                store.put(pool(poolName));
                CountDownLatch start = new CountDownLatch(1);
                Future<String> put = executor.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try {
                        store.put(loadBalancer(lbName, poolName));
                        return "put";
                    } catch (ConfigValidationException e) {
                        return "put refused";
                    }
                });
                Future<String> delete = executor.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try {
                        return other.delete(pool(poolName).key()) ? "delete" : "delete found nothing";
                    } catch (ConfigValidationException e) {
                        return "delete refused";
                    }
                });
                start.countDown();
                String putOutcome = put.get(30, TimeUnit.SECONDS);
                String deleteOutcome = delete.get(30, TimeUnit.SECONDS);
                outcomes.add(putOutcome + "/" + deleteOutcome);

                boolean lbExists = store.get(loadBalancer(lbName, poolName).key()).isPresent();
                boolean poolExists = store.get(pool(poolName).key()).isPresent();
                assertThat(!lbExists || poolExists)
                        .as("round %s (%s, %s): load balancer %s, pool %s", round, putOutcome, deleteOutcome,
                                lbExists, poolExists)
                        .isTrue();
                assertThat(List.of(putOutcome, deleteOutcome)).as("round %s", round)
                        .isIn(List.of("put", "delete refused"), List.of("put refused", "delete"));
            }
        } finally {
            executor.shutdownNow();
        }
        // Both orders are legal; the point is that no round left a dangling reference.
        assertThat(outcomes).hasSize(25);
    }

    @Test
    void concurrentCheckedWritesFromManyStoresAllCommit() throws Exception {
        store.put(pool("shared-pool"));
        List<CompletableFuture<Versioned<MeshObject>>> writes = new ArrayList<>();
        ExecutorService executor = Executors.newFixedThreadPool(6);
        try {
            for (int i = 0; i < 6; i++) {
                EtcdConfigStore writer = i % 2 == 0 ? store : other;
                String name = "lb-" + i;
                writes.add(CompletableFuture.supplyAsync(() -> writer.put(loadBalancer(name, "shared-pool")),
                        executor));
            }
            CompletableFuture.allOf(writes.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        } finally {
            executor.shutdownNow();
        }
        assertThat(store.list(Kind.LOAD_BALANCER)).hasSize(6);
    }
}
