package io.isthmus.mesh.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class RoutingModelTest {

    private static void assertRejected(ThrowingCallable build, String fieldPath, String message) {
        assertThatThrownBy(build)
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(message);
    }

    private static LoadBalancer.Builder lb() {
        return LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo").defaultPool("osaka-pool");
    }

    @Test
    void keepsTheDefaultsOfASimpleLoadBalancer() {
        LoadBalancer lb = lb().build();

        assertThat(lb.type()).isEqualTo(LoadBalancer.Type.HTTP);
        assertThat(lb.port()).isEqualTo(80);
        assertThat(lb.routes()).isEmpty();
        assertThat(lb.servicePolicies()).isEmpty();
        assertThat(lb.advertiseSelector()).isEmpty();
        assertThat(lb.poolNames()).containsExactly("osaka-pool");
        assertThat(lb.toBuilder().build()).isEqualTo(lb);
    }

    @Test
    void requiresAPortForATcpLoadBalancerAndRefusesItsRoutes() {
        assertRejected(() -> lb().type(LoadBalancer.Type.TCP).build(), "loadBalancers[osaka-app].port",
                "loadBalancers[osaka-app].port: is required (expected: 1-65535 for a TCP load balancer)");
        assertRejected(() -> lb().type(LoadBalancer.Type.TCP).port(5432).route(Route.builder().forward("p").build()).build(),
                "loadBalancers[osaka-app].routes",
                "loadBalancers[osaka-app].routes: 1 routes (expected: none for a TCP load balancer; it forwards to its"
                        + " default pool)");
        assertRejected(() -> lb().port(0).build(), "loadBalancers[osaka-app].port",
                "loadBalancers[osaka-app].port: 0 (expected: 1-65535)");
        assertThat(lb().type(LoadBalancer.Type.TCP).port(5432).build().port()).isEqualTo(5432);
    }

    @Test
    void rejectsAnInvalidRegexNamingTheField() {
        assertRejected(() -> StringMatch.regex("["), "", "\"[\" (expected: a valid regex)");
        assertRejected(() -> RouteMatch.builder().path(StringMatch.exact("orders")).build(), "path",
                "path: \"orders\" (expected: a path starting with \"/\")");
        assertRejected(() -> RouteMatch.builder().path(StringMatch.present()).build(), "path",
                "path: present (expected: exact, prefix or regex)");
        assertRejected(() -> RouteMatch.builder().methods("get").build(), "methods[0]",
                "methods[0]: \"get\" (expected: an upper-case HTTP method such as GET)");
        assertRejected(() -> RouteMatch.builder().header("bad header", StringMatch.present()).build(),
                "headers[bad header]", "headers[bad header]: \"bad header\" (expected: a name of 1-100 token characters)");
    }

    @Test
    void rejectsBadActionsNamingTheField() {
        assertRejected(() -> RouteAction.forward(List.of()), "pools", "pools: [] (expected: at least one pool)");
        assertRejected(() -> RouteAction.forward(WeightedPool.of("a"), WeightedPool.of("a", 2)), "pools[1].pool",
                "pools[1].pool: \"a\" (expected: each pool once)");
        assertRejected(() -> WeightedPool.of("a", 0), "weight", "weight: 0 (expected: 1-10000)");
        assertRejected(() -> WeightedPool.of("Pool A"), "pool", "pool: \"Pool A\" (expected: a lowercase DNS label)");
        assertRejected(() -> new RouteAction.Redirect("ftp", null, null, 301), "scheme",
                "scheme: \"ftp\" (expected: http or https)");
        assertRejected(() -> new RouteAction.Redirect("https", null, null, 200), "status",
                "status: 200 (expected: 301, 302, 303, 307 or 308)");
        assertRejected(() -> new RouteAction.Redirect(null, null, null, 301), "",
                "nothing to change (expected: at least one of scheme, host, path)");
        assertRejected(() -> RouteAction.directResponse(99, ""), "status", "status: 99 (expected: 200-599)");
    }

    @Test
    void rejectsBadRouteTimeoutsAndRetries() {
        assertRejected(() -> Route.builder().forward("p").timeout(Duration.ZERO).build(), "timeout",
                "timeout: 0s (expected: > 0 and <= 1h)");
        assertRejected(() -> Route.builder().build(), "action", "action: is required");
        assertRejected(() -> Route.builder().action(RouteAction.directResponse(503, "")).retry(RetryPolicy.builder().build())
                .build(), "retry", "retry: set on a route that does not forward (expected: none)");
        assertRejected(() -> RetryPolicy.builder().attempts(11).build(), "attempts", "attempts: 11 (expected: 1-10)");
        assertRejected(() -> RetryPolicy.builder().retryOn(List.of()).build(), "retryOn",
                "retryOn: [] (expected: at least one condition)");
        assertRejected(() -> RetryPolicy.builder().perTryTimeout(Duration.ofMillis(-5)).build(), "perTryTimeout",
                "perTryTimeout: PT-0.005S (expected: > 0 and <= 1h)");
        assertRejected(() -> RetryPolicy.RetryOn.parse("4xx", "retryOn[0]"), "retryOn[0]",
                "retryOn[0]: \"4xx\" (expected: one of connect-failure, reset, gateway-error, 5xx, timeout)");
    }

    @Test
    void retriesOnlyIdempotentMethodsByDefault() {
        RetryPolicy retry = RetryPolicy.builder().build();

        assertThat(retry.attempts()).isEqualTo(2);
        assertThat(retry.retryOn()).containsExactlyInAnyOrder(RetryPolicy.RetryOn.CONNECT_FAILURE,
                RetryPolicy.RetryOn.RESET, RetryPolicy.RetryOn.GATEWAY_ERROR);
        assertThat(retry.retries("GET")).isTrue();
        assertThat(retry.retries("PUT")).isTrue();
        assertThat(retry.retries("POST")).isFalse();
        assertThat(RetryPolicy.builder().retryNonIdempotent(true).build().retries("POST")).isTrue();
    }

    @Test
    void rejectsDuplicateRouteNamesAndServicePoliciesWithTheLoadBalancersPath() {
        Route api = Route.builder().name("api").forward("p").build();

        assertRejected(() -> lb().route(api).route(api).build(), "loadBalancers[osaka-app].routes[1].name",
                "loadBalancers[osaka-app].routes[1].name: \"api\" (expected: each route name once)");
        assertRejected(() -> lb().servicePolicy("a").servicePolicy("a").build(), "loadBalancers[osaka-app].servicePolicies[1]",
                "loadBalancers[osaka-app].servicePolicies[1]: \"a\" (expected: each policy once)");
        assertRejected(() -> lb().servicePolicy("No").build(), "loadBalancers[osaka-app].servicePolicies[0]",
                "loadBalancers[osaka-app].servicePolicies[0]: \"No\" (expected: a lowercase DNS label)");
    }

    @Test
    void advertisesAtNamedSitesAndAtSitesWhoseLabelsMatchTheSelector() {
        LoadBalancer lb = lb().advertiseSelector(Map.of("region", "kanto", "tier", "edge")).build();

        assertThat(lb.isAdvertisedAt(Site.of("tokyo"))).isTrue();
        assertThat(lb.isAdvertisedAt(Site.builder("chiba").label("region", "kanto").label("tier", "edge")
                .label("extra", "x").build())).isTrue();
        assertThat(lb.isAdvertisedAt(Site.builder("yokohama").label("region", "kanto").build())).isFalse();
        assertThat(lb.isAdvertisedAt(Site.builder("osaka").label("region", "kansai").label("tier", "edge").build()))
                .isFalse();
        assertThat(lb().build().isAdvertisedAt(Site.builder("chiba").label("region", "kanto").build())).isFalse();
    }

    @Test
    void groupsOriginsByPriorityAndResolvesTheirSites() {
        Origin osakaA = Origin.builder().kubernetesService("orders", "shop", 8080).weight(3).build();
        Origin osakaB = Origin.of(Endpoint.of("10.0.1.21", 8080));
        Origin kyoto = Origin.builder().kubernetesService("orders", "shop", 8080).site("kyoto").priority(1).build();
        Origin nara = Origin.builder().endpoint(Endpoint.of("10.0.3.1", 80)).site("nara").priority(2).build();
        OriginPool pool = OriginPool.builder("orders").site("osaka").origin(nara).origin(kyoto).origin(osakaA)
                .origin(osakaB).build();

        assertThat(pool.originsByPriority()).containsExactly(List.of(osakaA, osakaB), List.of(kyoto), List.of(nara));
        assertThat(pool.sites()).containsExactly("nara", "kyoto", "osaka");
        assertThat(osakaA.endpoint()).isEqualTo(Endpoint.of("orders.shop.svc.cluster.local", 8080));
        assertThat(osakaA.address()).isEqualTo("orders.shop:8080");
        assertThat(kyoto.siteIn(pool)).isEqualTo("kyoto");
        assertThat(osakaB.siteIn(pool)).isEqualTo("osaka");
        assertThat(pool.endpoints()).hasSize(4);
        assertThat(pool.toBuilder().build()).isEqualTo(pool);
    }

    @Test
    void rejectsBadPoolsWithThePoolsPath() {
        OriginPool.Builder pool = OriginPool.builder("p").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80));

        assertRejected(() -> OriginPool.builder("p").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80))
                .endpoint(Endpoint.of("10.0.0.1", 80)).build(), "originPools[p].origins[1]",
                "originPools[p].origins[1]: \"10.0.0.1:80\" at site osaka (expected: each origin once per site)");
        assertRejected(() -> pool.algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).build(), "originPools[p].hashKey",
                "originPools[p].hashKey: is required (expected: a header, cookie or source IP for CONSISTENT_HASH)");
        assertRejected(() -> OriginPool.builder("p").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80))
                .hashKey(HashKey.sourceIp()).build(), "originPools[p].hashKey",
                "originPools[p].hashKey: HashKey[type=SOURCE_IP, name=null] (expected: none for ROUND_ROBIN)");
        assertThat(OriginPool.builder("p").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80))
                .origin(Origin.builder().endpoint(Endpoint.of("10.0.0.1", 80)).site("kyoto").build()).build().origins())
                .as("the same address at two sites").hasSize(2);
    }

    @Test
    void rejectsBadOriginsAndPoolSettingsNamingTheField() {
        assertRejected(() -> Origin.builder().build(), "", "no address (expected: an endpoint or a Kubernetes service)");
        assertRejected(() -> Origin.builder().kubernetesService("orders", "Shop", 80).build(), "service.namespace",
                "service.namespace: \"Shop\" (expected: a lowercase DNS label)");
        assertRejected(() -> Origin.builder().kubernetesService("orders", "shop", 0).build(), "service.port",
                "service.port: 0 (expected: 1-65535)");
        assertRejected(() -> Origin.builder().endpoint(Endpoint.of("h", 1)).priority(101).build(), "priority",
                "priority: 101 (expected: 0-100)");
        assertRejected(() -> Origin.builder().endpoint(Endpoint.of("h", 1)).weight(0).build(), "weight",
                "weight: 0 (expected: 1-10000)");
        assertRejected(() -> HealthCheck.builder().path("healthz").build(), "path",
                "path: \"healthz\" (expected: a path starting with \"/\")");
        assertRejected(() -> HealthCheck.builder().interval(Duration.ofSeconds(1)).timeout(Duration.ofSeconds(2)).build(),
                "timeout", "timeout: PT2S (expected: at most the interval, PT1S)");
        assertRejected(() -> HealthCheck.builder().unhealthyThreshold(0).build(), "unhealthyThreshold",
                "unhealthyThreshold: 0 (expected: 1-100)");
        assertRejected(() -> OutlierDetection.builder().maxEjectionPercent(101).build(), "maxEjectionPercent",
                "maxEjectionPercent: 101 (expected: 0-100)");
        assertRejected(() -> OutlierDetection.builder().baseEjectionTime(Duration.ZERO).build(), "baseEjectionTime",
                "baseEjectionTime: 0s (expected: > 0 and <= 1h)");
        assertRejected(() -> OriginTls.builder().trustPem("not a pem").build(), "trustPem",
                "trustPem: no certificate (expected: PEM text with at least one \"-----BEGIN CERTIFICATE-----\" block)");
        assertRejected(() -> HashKey.header("bad header"), "name", "name: \"bad header\" (expected: a header name)");
        assertThat(OriginTls.system().trustsSystemRoots()).isTrue();
    }
}
