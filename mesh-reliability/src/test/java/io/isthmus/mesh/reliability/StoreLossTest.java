package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.k8s.etcd.EtcdConfigStore;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.testing.EtcdProcess;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Losing the config store: tokyo and osaka follow a real etcd through their own {@link
 * EtcdConfigStore}s while tokyo's applications call osaka. Stopping etcd adds no error on the data
 * plane, a write fails with a {@link ConfigStoreException}, and once etcd is back a change made after
 * it returns reaches both routers within 30 s. A load balancer with a bad domain written straight into
 * etcd is refused: the routers keep routing by the previous object and the stores count the refusal.
 */
class StoreLossTest {

    private static final String LB_KEY = EtcdConfigStore.DEFAULT_NAMESPACE + "/LoadBalancer/default/osaka-app";

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void dataPlaneRidesOutAnEtcdOutageAndRefusesInvalidObjects() throws Exception {
        MeshCertificateAuthority ca = MeshCertificateAuthority.create(MeshFixture.TRUST_DOMAIN);
        try (EtcdProcess etcd = EtcdProcess.started(); CountingOrigin origin = new CountingOrigin();
                EtcdConfigStore admin = store(etcd); EtcdConfigStore tokyoStore = store(etcd);
                EtcdConfigStore osakaStore = store(etcd);
                MeshRouter tokyo = router(ca, "tokyo", tokyoStore); MeshRouter osaka = router(ca, "osaka", osakaStore);
                Client raw = Client.builder().endpoints(etcd.endpoints()).build()) {
            admin.put(Site.builder("tokyo").tunnelEndpoint(tokyo.tunnelEndpoint()).build());
            admin.put(Site.builder("osaka").tunnelEndpoint(osaka.tunnelEndpoint()).build());
            admin.put(OriginPool.builder("osaka-app-pool").site("osaka").endpoint(MeshFixture.endpoint(origin.address()))
                    .build());
            LoadBalancer osakaApp = LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                    .defaultPool("osaka-app-pool").build();
            admin.put(osakaApp);
            awaitApplied(admin.revision(), Duration.ofSeconds(10), tokyo, osaka);

            List<SteadyLoad.Result> results;
            long outageMillis;
            long propagationMillis;
            String writeFailure;
            try (SteadyLoad load = new SteadyLoad(tokyo, "http://osaka-app/store", 2, 50_000,
                    Duration.ofSeconds(120))) {
                awaitMore(load, 200);
                long stoppedAt = System.nanoTime();
                etcd.stop();
                awaitMore(load, 400);
                ConfigStoreException failure = (ConfigStoreException) catchWrite(admin);
                writeFailure = failure.getMessage();
                awaitMore(load, 200);
                etcd.start();
                outageMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt);

                // A change made after etcd returns: a second load balancer, written once the admin store reconnects.
                long changedAt = System.nanoTime();
                AtomicLong revision = new AtomicLong();
                await().atMost(Duration.ofSeconds(30)).ignoreException(ConfigStoreException.class).until(() -> {
                    revision.set(admin.put(LoadBalancer.builder("late-app").domain("late-app").advertiseAt("tokyo")
                            .defaultPool("osaka-app-pool").build()).modRevision());
                    return true;
                });
                awaitApplied(revision.get(), Duration.ofSeconds(30), tokyo, osaka);
                propagationMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - changedAt);
                assertThat(MeshFixture.get(tokyo, "http://late-app/after-outage").statusCode()).isEqualTo(200);
                awaitMore(load, 200);

                // An invalid object written straight into etcd, bypassing the store's checks.
                long rejectedBefore = tokyoStore.rejectedObjects();
                String bad = MeshObjectCodec.create().toJson(osakaApp)
                        .replace("\"osaka-app\"]", "\"not a domain!\"]").replace("\"domain\":\"osaka-app\"",
                                "\"domain\":\"not a domain!\"");
                assertThat(bad).contains("not a domain!");
                raw.getKVClient().put(ByteSequence.from(LB_KEY, StandardCharsets.UTF_8),
                        ByteSequence.from(bad, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(10)).until(() -> tokyoStore.rejectedObjects() > rejectedBefore);
                awaitMore(load, 200);
                results = load.stop();
            }
            long failed = results.stream().filter(r -> !r.ok()).count();
            System.out.printf("store-loss: %d requests, %d failed; etcd down for %d ms; write while down: %s; change "
                    + "after the restart applied by both routers in %d ms; invalid object refused (rejected: tokyo %d, "
                    + "osaka %d)%n", results.size(), failed, outageMillis, writeFailure, propagationMillis,
                    tokyoStore.rejectedObjects(), osakaStore.rejectedObjects());
            assertThat(results.stream().filter(r -> !r.ok()).limit(5).toList()).as("failed requests").isEmpty();
            assertThat(writeFailure).isNotBlank();
            assertThat(propagationMillis).isLessThan(30_000);
            assertThat(tokyoStore.rejectedObjects()).isPositive();
            assertThat(MeshFixture.get(tokyo, "http://osaka-app/after-invalid").statusCode()).isEqualTo(200);
        }
    }

    private static Throwable catchWrite(ConfigStore admin) {
        Throwable[] thrown = new Throwable[1];
        assertThatThrownBy(() -> admin.put(LoadBalancer.builder("during-outage").domain("during-outage")
                .advertiseAt("tokyo").defaultPool("osaka-app-pool").build()))
                .isInstanceOf(ConfigStoreException.class)
                .satisfies(e -> thrown[0] = e);
        return thrown[0];
    }

    private static EtcdConfigStore store(EtcdProcess etcd) {
        return EtcdConfigStore.builder(etcd.endpoints()).requestTimeout(Duration.ofSeconds(2)).build();
    }

    private static MeshRouter router(MeshCertificateAuthority ca, String site, ConfigStore store) {
        return MeshRouter.builder(ca.issueSite(site), store).ioThreads(1).connectTimeout(Duration.ofSeconds(2))
                .responseTimeout(Duration.ofSeconds(10)).build().start();
    }

    private static void awaitApplied(long revision, Duration within, MeshRouter... routers) {
        for (MeshRouter router : routers) {
            await().atMost(within).until(() -> router.appliedRevision() >= revision);
        }
    }

    private static void awaitMore(SteadyLoad load, int requests) {
        int target = load.count() + requests;
        await().atMost(Duration.ofSeconds(30)).until(() -> load.count() >= target);
    }
}
