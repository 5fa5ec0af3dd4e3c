package io.isthmus.mesh.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.RetryPolicy;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.RouteMatch;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.model.StringMatch;
import io.isthmus.mesh.model.WeightedPool;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MeshSnapshotTest {

    private static OriginPool pool(String name) {
        return OriginPool.builder(name).namespace("shop").site("osaka").endpoint(Endpoint.of("10.0.0.7", 8080)).build();
    }

    private static Route route(String name, RouteMatch match) {
        return Route.builder().name(name).match(match).action(RouteAction.directResponse(200, name)).build();
    }

    private static final LoadBalancer SHOP = LoadBalancer.builder("shop").namespace("shop").domain("shop")
            .domain("*.shop.example").advertiseAt("tokyo")
            .route(route("exact", RouteMatch.builder().path(StringMatch.exact("/exact")).build()))
            .route(route("regex", RouteMatch.builder().path(StringMatch.regex("/orders/[0-9]+")).build()))
            .route(route("post-api", RouteMatch.builder().path(StringMatch.prefix("/api/")).methods("POST", "PUT").build()))
            .route(route("canary", RouteMatch.builder().path(StringMatch.prefix("/api/"))
                    .header("x-canary", StringMatch.exact("1")).build()))
            .route(route("debug", RouteMatch.builder().queryParam("debug", StringMatch.present())
                    .queryParam("lang", StringMatch.regex("ja|en")).build()))
            .route(Route.builder().name("api").match(RouteMatch.builder().path(StringMatch.prefix("/api/")).build())
                    .forward(WeightedPool.of("main", 3), WeightedPool.of("next", 1)).timeout(Duration.ofSeconds(5))
                    .retry(RetryPolicy.builder().build()).build())
            .defaultPool("main").build();

    private static MeshSnapshot tokyo(MeshObject... extra) {
        List<MeshObject> objects = new java.util.ArrayList<>(List.of(pool("main"), pool("next"), SHOP));
        objects.addAll(List.of(extra));
        return MeshSnapshot.compile("tokyo", 7, objects);
    }

    private static Map<String, String> headers(String... nameValues) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            map.put(nameValues[i], nameValues[i + 1]);
        }
        return map;
    }

    private static String routeName(MeshSnapshot snapshot, String method, String target, Map<String, String> headers) {
        CompiledRoute decision = snapshot.route("www.shop.example", method, target, headers::get);
        assertThat(decision).isNotNull();
        return decision.isDefault() ? "default" : decision.route().name();
    }

    @Test
    void triesRoutesInOrderAndFallsBackToTheDefaultPool() {
        MeshSnapshot s = tokyo();

        assertThat(routeName(s, "GET", "/exact", headers())).isEqualTo("exact");
        assertThat(routeName(s, "GET", "/exact?x=1", headers())).isEqualTo("exact");
        assertThat(routeName(s, "GET", "/exact/more", headers())).isEqualTo("default");
        assertThat(routeName(s, "GET", "/orders/42", headers())).isEqualTo("regex");
        assertThat(routeName(s, "GET", "/orders/42x", headers())).as("a regex matches the whole path").isEqualTo("default");
        assertThat(routeName(s, "POST", "/api/orders", headers("x-canary", "1"))).as("first match wins").isEqualTo("post-api");
        assertThat(routeName(s, "GET", "/api/orders", headers("x-canary", "1"))).isEqualTo("canary");
        assertThat(routeName(s, "GET", "/api/orders", headers("x-canary", "2"))).isEqualTo("api");
        assertThat(routeName(s, "GET", "/other?lang=ja&debug", headers())).isEqualTo("debug");
        assertThat(routeName(s, "GET", "/other?debug=1&lang=ja", headers())).isEqualTo("debug");
        assertThat(routeName(s, "GET", "/other?debug=1&lang=fr", headers())).isEqualTo("default");
        assertThat(routeName(s, "GET", "/other?debugx=1&lang=ja", headers())).isEqualTo("default");
        assertThat(routeName(s, "GET", "/", headers())).isEqualTo("default");
    }

    @Test
    void returnsTheSameDecisionObjectForEveryMatchingRequest() {
        MeshSnapshot s = tokyo();

        CompiledRoute first = s.route("shop", "GET", "/api/a", HeaderLookup.NONE);
        CompiledRoute second = s.route("shop.shop.svc.cluster.local", "GET", "/api/b", HeaderLookup.NONE);

        assertThat(second).isSameAs(first);
        assertThat(first.index()).isEqualTo(5);
        assertThat(first.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(first.retry()).isEqualTo(RetryPolicy.builder().build());
        assertThat(first.loadBalancer()).isSameAs(SHOP);
    }

    @Test
    void defaultRouteForwardsToTheDefaultPool() {
        CompiledRoute decision = tokyo().route("shop", "GET", "/", HeaderLookup.NONE);

        assertThat(decision.isDefault()).isTrue();
        assertThat(decision.action()).isEqualTo(RouteAction.forward(WeightedPool.of("main")));
        assertThat(decision.pickPool(new Random(1)).pool().name()).isEqualTo("main");
        assertThat(decision.timeout()).isNull();
    }

    @Test
    void spreadsRequestsOverPoolsByWeightForAFixedSeed() {
        CompiledRoute api = tokyo().route("shop", "GET", "/api/x", HeaderLookup.NONE);
        Random random = new Random(42);
        Map<String, Integer> counts = new HashMap<>();
        int n = 40_000;

        for (int i = 0; i < n; i++) {
            counts.merge(api.pickPool(random).pool().name(), 1, Integer::sum);
        }

        assertThat(counts.get("main") / (double) n).isCloseTo(0.75, within(0.01));
        assertThat(counts.get("next") / (double) n).isCloseTo(0.25, within(0.01));
    }

    @Test
    void routesOnlyHostsOfLoadBalancersAdvertisedAtItsSite() {
        LoadBalancer kyotoOnly = LoadBalancer.builder("kyoto-app").namespace("shop").domain("kyoto-app")
                .advertiseAt("kyoto").defaultPool("main").build();
        LoadBalancer byLabel = LoadBalancer.builder("kanto-app").namespace("shop").domain("kanto-app")
                .advertiseSelector("region", "kanto").defaultPool("main").build();
        Site tokyoSite = Site.builder("tokyo").label("region", "kanto").build();

        MeshSnapshot withoutSite = tokyo(kyotoOnly, byLabel);
        MeshSnapshot withSite = tokyo(kyotoOnly, byLabel, tokyoSite);

        assertThat(withoutSite.route("kyoto-app", "GET", "/", HeaderLookup.NONE)).isNull();
        assertThat(withoutSite.loadBalancer(kyotoOnly.key())).as("kept for tunnel traffic").isNotNull();
        assertThat(withoutSite.route("kanto-app", "GET", "/", HeaderLookup.NONE)).as("labels unknown").isNull();
        assertThat(withSite.route("kanto-app.shop", "GET", "/", HeaderLookup.NONE).loadBalancer()).isEqualTo(byLabel);
        assertThat(MeshSnapshot.compile("kyoto", 1, List.of(pool("main"), pool("next"), SHOP, kyotoOnly))
                .route("kyoto-app", "GET", "/", HeaderLookup.NONE)).isNotNull();
    }

    @Test
    void findsTcpLoadBalancersByPort() {
        LoadBalancer db = LoadBalancer.builder("db").namespace("shop").type(LoadBalancer.Type.TCP).port(5432)
                .domain("db").advertiseAt("tokyo").defaultPool("main").build();
        MeshSnapshot s = tokyo(db);

        assertThat(s.tcpLoadBalancer(5432).loadBalancer()).isEqualTo(db);
        assertThat(s.tcpLoadBalancer(5433)).isNull();
        assertThat(s.route("db", "GET", "/", HeaderLookup.NONE)).as("not an HTTP host").isNull();
    }

    @Test
    void groupsAPoolsOriginsByPriorityForFailoverAcrossSites() {
        Origin osakaA = Origin.builder().kubernetesService("orders", "shop", 8080).weight(3).build();
        Origin osakaB = Origin.of(Endpoint.of("10.0.1.21", 8080));
        Origin kyoto = Origin.builder().kubernetesService("orders", "shop", 8080).site("kyoto").priority(1).build();
        OriginPool orders = OriginPool.builder("orders").namespace("shop").site("osaka").origin(kyoto).origin(osakaA)
                .origin(osakaB).build();

        CompiledPool compiled = MeshSnapshot.compile("tokyo", 1, List.of(orders))
                .pool(ObjectKey.of(Kind.ORIGIN_POOL, "shop", "orders"));

        assertThat(compiled.priorities()).extracting(CompiledPool.PriorityGroup::priority).containsExactly(0, 1);
        assertThat(compiled.priorities().get(0).origins()).containsExactly(osakaA, osakaB);
        assertThat(compiled.priorities().get(0).sites()).containsExactly("osaka");
        assertThat(compiled.priorities().get(1).origins()).containsExactly(kyoto);
        assertThat(compiled.priorities().get(1).sites()).containsExactly("kyoto");
        Random random = new Random(7);
        int a = 0;
        for (int i = 0; i < 20_000; i++) {
            Origin picked = compiled.pickOrigin(random);
            assertThat(picked).isNotEqualTo(kyoto);
            a += picked == osakaA ? 1 : 0;
        }
        assertThat(a / 20_000.0).isCloseTo(0.75, within(0.015));
    }

    @Test
    void leavesOutPoolsMissingFromTheObjects() {
        MeshSnapshot s = MeshSnapshot.compile("tokyo", 3, List.of(pool("next"), SHOP));

        CompiledRoute api = s.route("shop", "GET", "/api/x", HeaderLookup.NONE);
        assertThat(api.pools().items()).extracting(p -> p.pool().name()).containsExactly("next");
        CompiledRoute fallback = s.route("shop", "GET", "/", HeaderLookup.NONE);
        assertThat(fallback.pools().isEmpty()).isTrue();
        assertThat(fallback.pickPool(new Random(1))).isNull();
    }

    @Test
    void compilesFromAStoreSnapshot() {
        try (ConfigStore store = ConfigStore.inMemory()) {
            store.put(pool("main"));
            store.put(pool("next"));
            store.put(SHOP);

            MeshSnapshot s = MeshSnapshot.compile("tokyo", store.snapshot());

            assertThat(s.revision()).isEqualTo(3);
            assertThat(s.site()).isEqualTo("tokyo");
            assertThat(s.loadBalancers()).containsOnlyKeys(SHOP.key());
            assertThat(s.pools()).hasSize(2);
            assertThat(MeshSnapshot.empty("tokyo").route("shop", "GET", "/", HeaderLookup.NONE)).isNull();
        }
    }

    @Test
    void readsTheFirstRawValueOfAQueryParameter() {
        String target = "/p?a=1&b&a=2&c=x%20y#frag&d=1";
        int q = target.indexOf('?');

        assertThat(CompiledRoute.queryParam(target, q, "a")).isEqualTo("1");
        assertThat(CompiledRoute.queryParam(target, q, "b")).isEqualTo("");
        assertThat(CompiledRoute.queryParam(target, q, "c")).isEqualTo("x%20y");
        assertThat(CompiledRoute.queryParam(target, q, "d")).isNull();
        assertThat(CompiledRoute.queryParam("/p", -1, "a")).isNull();
    }

    @Test
    void picksByTicketAtTheWeightBoundaries() {
        WeightedChoice<String> c = WeightedChoice.of(List.of("a", "b", "c"), s -> s.equals("b") ? 3 : 1);

        assertThat(c.totalWeight()).isEqualTo(5);
        assertThat(List.of(c.pick(0), c.pick(1), c.pick(3), c.pick(4))).containsExactly("a", "b", "b", "c");
        assertThatThrownBy(() -> c.pick(5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ticket: 5 (expected: 0-4)");
        assertThatThrownBy(() -> WeightedChoice.of(List.of("a"), s -> 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("weight of a: 0 (expected: > 0)");
        assertThatThrownBy(() -> WeightedChoice.of(List.<String>of(), s -> 1).pick(new Random(1)))
                .isInstanceOf(IllegalStateException.class);
    }
}
