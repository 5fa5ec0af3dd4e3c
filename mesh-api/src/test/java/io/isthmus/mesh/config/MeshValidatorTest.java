package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.model.WeightedPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** References between objects, checked by the validator alone and by the in-memory store on every write. */
class MeshValidatorTest {

    private final ConfigStore store = ConfigStore.inMemory();

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static OriginPool pool(String namespace, String name) {
        return OriginPool.builder(name).namespace(namespace).site("osaka").endpoint(Endpoint.of("10.0.0.7", 8080)).build();
    }

    private static LoadBalancer.Builder lb(String namespace, String name) {
        return LoadBalancer.builder(name).namespace(namespace).domain(name).advertiseAt("tokyo").defaultPool("osaka-pool");
    }

    private void assertRejectedUnchanged(Executable write, String fieldPath, String message) {
        ConfigSnapshot before = store.snapshot();
        assertThatThrownBy(write::execute)
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(message);
        ConfigSnapshot after = store.snapshot();
        assertThat(after.revision()).as("revision").isEqualTo(before.revision());
        assertThat(after.objects()).as("objects").isEqualTo(before.objects());
    }

    @Test
    void acceptsTheDemoOrderOfSitesThenPoolThenLoadBalancer() {
        store.put(Site.builder("osaka").tunnelEndpoint(Endpoint.of("127.0.0.1", 4443)).build());
        store.put(Site.builder("tokyo").tunnelEndpoint(Endpoint.of("127.0.0.1", 4444)).build());
        store.put(OriginPool.builder("osaka-pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", 8080)).build());
        store.put(LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo").defaultPool("osaka-pool")
                .build());

        assertThat(store.revision()).isEqualTo(4);
        assertThat(store.delete(ObjectKey.of(Kind.LOAD_BALANCER, "default", "osaka-app"))).isTrue();
        assertThat(store.delete(ObjectKey.of(Kind.ORIGIN_POOL, "default", "osaka-pool"))).isTrue();
        assertThat(store.delete(ObjectKey.of(Kind.SITE, "osaka"))).isTrue();
    }

    @Test
    void rejectsALoadBalancerWhoseDefaultPoolIsMissingAndChangesNothing() {
        store.put(pool("shop", "osaka-pool"));
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        long revision = store.revision();
        store.watch(revision, events::add);

        assertRejectedUnchanged(() -> store.put(lb("default", "osaka-app").build()), "loadBalancers[osaka-app].defaultPool",
                "loadBalancers[osaka-app].defaultPool: \"osaka-pool\" (expected: an origin pool in namespace default)");
        assertRejectedUnchanged(() -> store.create(lb("default", "osaka-app").build()),
                "loadBalancers[osaka-app].defaultPool",
                "loadBalancers[osaka-app].defaultPool: \"osaka-pool\" (expected: an origin pool in namespace default)");

        store.put(Site.of("sentinel"));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
        assertThat(events).extracting(e -> e.key().toString()).containsExactly("Site/sentinel");
    }

    @Test
    void rejectsARouteNamingAMissingPool() {
        store.put(pool("default", "osaka-pool"));
        store.put(pool("default", "kyoto-pool"));
        LoadBalancer lb = lb("default", "osaka-app")
                .route(Route.builder().action(RouteAction.directResponse(503, "")).build())
                .route(Route.builder().forward(WeightedPool.of("kyoto-pool", 9), WeightedPool.of("nara-pool", 1)).build())
                .build();

        assertRejectedUnchanged(() -> store.put(lb), "loadBalancers[osaka-app].routes[1].pools[1].pool",
                "loadBalancers[osaka-app].routes[1].pools[1].pool: \"nara-pool\" (expected: an origin pool in namespace"
                        + " default)");

        store.put(pool("default", "nara-pool"));
        assertThat(store.put(lb).object()).isEqualTo(lb);
    }

    @Test
    void rejectsADomainClaimedByAnotherLoadBalancerOfTheNamespace() {
        store.put(pool("shop", "osaka-pool"));
        store.put(pool("default", "osaka-pool"));
        store.put(lb("shop", "cart").domain("*.shop.example").build());

        assertRejectedUnchanged(() -> store.put(lb("shop", "orders").domain("*.shop.example").build()),
                "loadBalancers[orders].domains[1]", "loadBalancers[orders].domains[1]: \"*.shop.example\" (expected: a"
                        + " domain no other load balancer of namespace shop claims; claimed by loadBalancers[cart])");

        // Replacing the claimant itself, and the same domain in another namespace, are fine.
        store.put(lb("shop", "cart").domain("*.shop.example").advertiseAt("osaka").build());
        store.put(lb("default", "orders").domain("*.shop.example").build());
        assertThat(store.list(Kind.LOAD_BALANCER)).hasSize(2);
    }

    @Test
    void rejectsDeletingAPoolInUseAndKeepsIt() {
        store.put(pool("default", "osaka-pool"));
        store.put(pool("default", "kyoto-pool"));
        store.put(lb("default", "a-app").build());
        store.put(lb("default", "b-app").defaultPool("kyoto-pool").route(Route.builder().forward("osaka-pool").build())
                .build());
        ObjectKey osakaPool = ObjectKey.of(Kind.ORIGIN_POOL, "default", "osaka-pool");
        long modRevision = store.get(osakaPool).orElseThrow().modRevision();

        assertRejectedUnchanged(() -> store.delete(osakaPool), "originPools[osaka-pool]", "originPools[osaka-pool]: in use"
                + " by loadBalancers[a-app], loadBalancers[b-app] in namespace default (expected: no load balancer using"
                + " the pool; change or delete them first)");
        assertRejectedUnchanged(() -> store.delete(osakaPool, modRevision), "originPools[osaka-pool]",
                "originPools[osaka-pool]: in use by loadBalancers[a-app], loadBalancers[b-app] in namespace default"
                        + " (expected: no load balancer using the pool; change or delete them first)");

        store.delete(ObjectKey.of(Kind.LOAD_BALANCER, "default", "a-app"));
        store.put(lb("default", "b-app").defaultPool("kyoto-pool").build());
        assertThat(store.delete(osakaPool)).isTrue();
    }

    @Test
    void allowsLoadBalancersAndPoolsAtSitesNotYetInTheStore() {
        store.put(OriginPool.builder("p").site("nowhere").endpoint(Endpoint.of("10.0.0.1", 80)).build());
        store.put(LoadBalancer.builder("a").domain("a").advertiseAt("unknown-site").advertiseSelector("region", "mars")
                .defaultPool("p").servicePolicy("not-written-yet").build());

        assertThat(store.list(Kind.LOAD_BALANCER)).hasSize(1);
    }

    @Test
    void checksAWholeSetWithoutAStore() {
        List<MeshObject> objects = new ArrayList<>(List.of(pool("default", "osaka-pool"), lb("default", "a").build()));
        MeshValidator.checkAll(objects);

        objects.add(lb("default", "b").domain("a").build());
        assertThatThrownBy(() -> MeshValidator.checkAll(objects)).isInstanceOf(ConfigValidationException.class)
                .hasMessageStartingWith("loadBalancers[a].domains[0]: \"a\" (expected: a domain no other load balancer");
        objects.remove(2);
        objects.add(pool("default", "osaka-pool"));
        assertThatThrownBy(() -> MeshValidator.checkAll(objects)).isInstanceOf(ConfigValidationException.class)
                .hasMessage("originPools[osaka-pool]: twice in namespace default (expected: each object once)");
        assertThatThrownBy(() -> MeshValidator.checkAll(List.of(lb("default", "a").build())))
                .hasMessage("loadBalancers[a].defaultPool: \"osaka-pool\" (expected: an origin pool in namespace default)");
    }
}
