package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.HashKey;
import io.isthmus.mesh.model.HealthCheck;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.LoadBalancingAlgorithm;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.OriginTls;
import io.isthmus.mesh.model.OutlierDetection;
import io.isthmus.mesh.model.RetryPolicy;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.RouteMatch;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.model.StringMatch;
import io.isthmus.mesh.model.WeightedPool;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every field of every kind through YAML, JSON and maps, and the errors of the routing fields. */
class RoutingCodecTest {

    private static final MeshObjectCodec codec = MeshObjectCodec.create();

    static final String PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUB\n-----END CERTIFICATE-----\n";

    /** A load balancer with every option set. */
    static final LoadBalancer FULL_LB = LoadBalancer.builder("shop").namespace("shop").type(LoadBalancer.Type.HTTP)
            .port(8080).domain("shop").domain("*.shop.example").advertiseAt("tokyo").advertiseAt("nagoya")
            .advertiseSelector("region", "kanto").advertiseSelector("tier", "123")
            .route(Route.builder().name("legacy")
                    .match(RouteMatch.builder().path(StringMatch.prefix("/old/")).build())
                    .action(new RouteAction.Redirect("https", "shop.example", "/new/", 308)).build())
            .route(Route.builder().name("canary")
                    .match(RouteMatch.builder().path(StringMatch.regex("/orders/[0-9]+")).methods("GET", "HEAD")
                            .header("x-canary", StringMatch.exact("1")).header("x-user", StringMatch.present())
                            .queryParam("debug", StringMatch.prefix("y")).queryParam("trace", StringMatch.regex("on|yes"))
                            .build())
                    .forward(WeightedPool.of("orders", 90), WeightedPool.of("orders-next", 10))
                    .timeout(Duration.ofMillis(1500))
                    .retry(RetryPolicy.builder().attempts(3).retryOn(RetryPolicy.RetryOn.values())
                            .perTryTimeout(Duration.ofMillis(500)).retryNonIdempotent(true).build())
                    .build())
            .route(Route.builder().match(RouteMatch.builder().path(StringMatch.exact("/down")).build())
                    .action(RouteAction.directResponse(503, "down: for \"maintenance\"\nback soon")).build())
            .route(Route.builder().forward("orders").timeout(Duration.ofMinutes(2)).build())
            .defaultPool("orders").servicePolicy("only-mesh").servicePolicy("rate-limit").build();

    static final LoadBalancer TCP_LB = LoadBalancer.builder("db").type(LoadBalancer.Type.TCP).port(5432).domain("db")
            .advertiseAt("tokyo").defaultPool("db-pool").build();

    /** A pool with every option set. */
    static final OriginPool FULL_POOL = OriginPool.builder("orders").namespace("shop").site("osaka")
            .origin(Origin.builder().kubernetesService("orders", "shop", 8080).weight(3).build())
            .origin(Origin.of(Endpoint.of("::1", 8081)))
            .origin(Origin.builder().kubernetesService("orders", "shop", 8080).site("kyoto").priority(1).weight(2).build())
            .algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).hashKey(HashKey.cookie("session"))
            .healthCheck(HealthCheck.builder().path("/healthz").interval(Duration.ofSeconds(5))
                    .timeout(Duration.ofMillis(750)).healthyThreshold(4).unhealthyThreshold(6).build())
            .outlierDetection(OutlierDetection.builder().consecutive5xx(7).baseEjectionTime(Duration.ofHours(1))
                    .maxEjectionPercent(50).build())
            .tls(OriginTls.builder().sni("orders.internal").trustPem(PEM).build()).build();

    static Stream<MeshObject> objects() {
        return Stream.of(FULL_LB, TCP_LB, FULL_POOL,
                OriginPool.builder("p").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80))
                        .algorithm(LoadBalancingAlgorithm.LEAST_REQUEST).tls(OriginTls.system()).build(),
                OriginPool.builder("h").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80))
                        .algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).hashKey(HashKey.sourceIp()).build(),
                OriginPool.builder("x").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80))
                        .algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).hashKey(HashKey.header("x-user")).build(),
                Site.builder("osaka").tunnelEndpoint(Endpoint.of("10.0.1.10", 4443)).label("region", "kansai").build());
    }

    private static void assertRejected(Executable read, String fieldPath, String message) {
        assertThatThrownBy(read::execute)
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(message);
    }

    @ParameterizedTest
    @MethodSource("objects")
    void roundTripsEveryFieldThroughYamlJsonAndMaps(MeshObject object) {
        String yaml = codec.toYaml(object);

        assertThat(codec.fromYaml(yaml)).as(yaml).isEqualTo(object);
        assertThat(codec.toYaml(codec.fromYaml(yaml))).isEqualTo(yaml);
        assertThat(codec.fromJson(codec.toJson(object))).isEqualTo(object);
        assertThat(codec.fromMap(codec.toMap(object))).isEqualTo(object);
    }

    @Test
    void writesTheFullLoadBalancerAsReadableYaml() {
        String yaml = codec.toYaml(FULL_LB);

        assertThat(yaml).contains("  port: 8080\n", "        path:\n          regex: \"/orders/[0-9]+\"\n",
                "  - pool: orders\n", "    weight: 90\n", "    timeout: 1500ms\n", "    perTryTimeout: 500ms\n",
                "      - 5xx\n", "    retryNonIdempotent: true\n", "      present: true\n", "  servicePolicies:\n");
        assertThat(codec.toYaml(TCP_LB)).startsWith("kind: LoadBalancer\nmetadata:\n  name: db\n  namespace: default\n"
                + "spec:\n  type: TCP\n  port: 5432\n");
    }

    @Test
    void writesPlainPoolsWithTheEndpointsShorthand() {
        OriginPool plain = OriginPool.builder("p").site("osaka").endpoint(Endpoint.of("10.0.0.1", 80)).build();

        assertThat(codec.toJson(plain)).isEqualTo("{\"kind\":\"OriginPool\",\"metadata\":{\"name\":\"p\","
                + "\"namespace\":\"default\"},\"spec\":{\"site\":\"osaka\",\"endpoints\":[\"10.0.0.1:80\"]}}");
        assertThat(codec.toJson(FULL_POOL)).contains("\"origins\":[{\"service\":\"orders.shop:8080\",\"weight\":3},"
                + "{\"endpoint\":\"[::1]:8081\"},{\"service\":\"orders.shop:8080\",\"site\":\"kyoto\",\"weight\":2,"
                + "\"priority\":1}]");
    }

    @Test
    void reportsABadRegexWithTheRoutesPath() {
        String yaml = "kind: LoadBalancer\nmetadata: {name: osaka-app}\nspec:\n  domains: [osaka-app]\n"
                + "  defaultPool: p\n  routes:\n    - pools: [{pool: p}]\n    - pools: [{pool: p}]\n"
                + "    - match: {path: {regex: \"[\"}}\n      pools: [{pool: p}]\n";

        assertRejected(() -> codec.fromYaml(yaml), "loadBalancers[osaka-app].routes[2].match.path",
                "loadBalancers[osaka-app].routes[2].match.path: \"[\" (expected: a valid regex)");
    }

    @Test
    void reportsTheSameProblemAsTheBuilders() {
        ConfigValidationException fromBuilder = catchValidation(() -> RouteMatch.builder().methods("get").build());
        ConfigValidationException fromCodec = catchValidation(() -> codec.fromYaml(lbWithRoute(
                "{match: {methods: [get]}, pools: [{pool: p}]}")));

        assertThat(fromBuilder).hasMessage("methods[0]: \"get\" (expected: an upper-case HTTP method such as GET)");
        assertThat(fromCodec).hasMessage("loadBalancers[a].routes[0].match." + fromBuilder.getMessage());
    }

    private static ConfigValidationException catchValidation(Executable run) {
        try {
            run.execute();
        } catch (ConfigValidationException e) {
            return e;
        } catch (Throwable t) {
            throw new AssertionError("expected a ConfigValidationException", t);
        }
        throw new AssertionError("expected a ConfigValidationException");
    }

    private static String lbWithRoute(String route) {
        return "kind: LoadBalancer\nmetadata: {name: a}\nspec:\n  domains: [a]\n  defaultPool: p\n  routes:\n    - "
                + route + "\n";
    }

    private static String pool(String spec) {
        return "kind: OriginPool\nmetadata: {name: p}\nspec: " + spec + "\n";
    }

    @Test
    void rejectsBadRouteDocumentsNamingTheField() {
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: [{pool: p}], redirect: {scheme: https}}")),
                "loadBalancers[a].routes[0].redirect",
                "loadBalancers[a].routes[0].redirect: a second action (expected: exactly one of pools, redirect,"
                        + " directResponse)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{match: {path: {prefix: /a}}}")), "loadBalancers[a].routes[0]",
                "loadBalancers[a].routes[0]: no action (expected: exactly one of pools, redirect, directResponse)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: []}")), "loadBalancers[a].routes[0].pools",
                "loadBalancers[a].routes[0].pools: [] (expected: at least one pool)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: [{pool: p, weight: \"90\"}]}")),
                "loadBalancers[a].routes[0].pools[0].weight",
                "loadBalancers[a].routes[0].pools[0].weight: \"90\" (expected: an integer)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: [{pool: p, weight: 0}]}")),
                "loadBalancers[a].routes[0].pools[0].weight",
                "loadBalancers[a].routes[0].pools[0].weight: 0 (expected: 1-10000)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: [{pool: p}], timeout: soon}")),
                "loadBalancers[a].routes[0].timeout", "loadBalancers[a].routes[0].timeout: \"soon\" (expected: a"
                        + " duration such as 250ms, 5s, 2m, 1h or PT1.5S)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: [{pool: p}], retry: {retryOn: [5xx, 4xx]}}")),
                "loadBalancers[a].routes[0].retry.retryOn[1]", "loadBalancers[a].routes[0].retry.retryOn[1]: \"4xx\""
                        + " (expected: one of connect-failure, reset, gateway-error, 5xx, timeout)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{match: {headers: {x-a: {exact: a, prefix: b}}}, pools: [{pool: p}]}")),
                "loadBalancers[a].routes[0].match.headers[x-a]", "loadBalancers[a].routes[0].match.headers[x-a]:"
                        + " {\"exact\":\"a\",\"prefix\":\"b\"} (expected: exactly one of exact, prefix, regex, present)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{match: {queryParams: {q: {present: false}}}, pools: [{pool: p}]}")),
                "loadBalancers[a].routes[0].match.queryParams[q].present",
                "loadBalancers[a].routes[0].match.queryParams[q].present: false (expected: true)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{directResponse: {status: 700}}")),
                "loadBalancers[a].routes[0].directResponse.status",
                "loadBalancers[a].routes[0].directResponse.status: 700 (expected: 200-599)");
        assertRejected(() -> codec.fromYaml("kind: LoadBalancer\nmetadata: {name: a}\nspec: {type: UDP, domains: [a],"
                + " defaultPool: p}\n"), "loadBalancers[a].type", "loadBalancers[a].type: \"UDP\" (expected: one of HTTP, TCP)");
    }

    @Test
    void rejectsUnknownNestedFieldsWithTheirDocumentPath() {
        assertRejected(() -> codec.fromYaml(lbWithRoute("{match: {path: {prefix: /a}, host: x}, pools: [{pool: p}]}")),
                "loadBalancers[a].spec.routes[0].match.host",
                "loadBalancers[a].spec.routes[0].match.host: (unknown field; expected one of: path, methods, headers,"
                        + " queryParams)");
        assertRejected(() -> codec.fromYaml(lbWithRoute("{pools: [{pool: p, share: 1}]}")),
                "loadBalancers[a].spec.routes[0].pools[0].share",
                "loadBalancers[a].spec.routes[0].pools[0].share: (unknown field; expected one of: pool, weight)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, endpoints: ['h:1'], healthCheck: {every: 5s}}")),
                "originPools[p].spec.healthCheck.every", "originPools[p].spec.healthCheck.every: (unknown field;"
                        + " expected one of: path, interval, timeout, healthyThreshold, unhealthyThreshold)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, origins: [{endpoint: 'h:1', zone: a}]}")),
                "originPools[p].spec.origins[0].zone", "originPools[p].spec.origins[0].zone: (unknown field; expected"
                        + " one of: endpoint, service, site, weight, priority)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, endpoints: ['h:1'], tls: {insecureSkipVerify: true}}")),
                "originPools[p].spec.tls.insecureSkipVerify",
                "originPools[p].spec.tls.insecureSkipVerify: (unknown field; expected one of: sni, trustPem)");
    }

    @Test
    void rejectsBadPoolDocumentsNamingTheField() {
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, origins: [{endpoint: 'h:1', service: 'a.b:1'}]}")),
                "originPools[p].origins[0]", "originPools[p].origins[0]: {\"endpoint\":\"h:1\",\"service\":\"a.b:1\"}"
                        + " (expected: exactly one of endpoint, service)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, origins: [{service: 'orders:80'}]}")),
                "originPools[p].origins[0].service", "originPools[p].origins[0].service: \"orders:80\" (expected:"
                        + " name.namespace:port of a Kubernetes service)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, origins: [{endpoint: 'h:0'}]}")),
                "originPools[p].origins[0].endpoint.port", "originPools[p].origins[0].endpoint.port: 0 (expected: 1-65535)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, origins: [{endpoint: 'h:1', priority: -1}]}")),
                "originPools[p].origins[0].priority", "originPools[p].origins[0].priority: -1 (expected: 0-100)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, endpoints: ['h:1'], algorithm: RANDOM}")),
                "originPools[p].algorithm", "originPools[p].algorithm: \"RANDOM\" (expected: one of ROUND_ROBIN,"
                        + " LEAST_REQUEST, CONSISTENT_HASH)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, endpoints: ['h:1'], healthCheck: {interval: 0s}}")),
                "originPools[p].healthCheck.interval", "originPools[p].healthCheck.interval: 0s (expected: > 0 and <= 10m)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, endpoints: ['h:1'], algorithm: consistent-hash,"
                + " hashKey: {header: a, cookie: b}}")), "originPools[p].hashKey", "originPools[p].hashKey:"
                        + " {\"header\":\"a\",\"cookie\":\"b\"} (expected: exactly one of header, cookie, sourceIp)");
        assertRejected(() -> codec.fromYaml(pool("{site: osaka, endpoints: ['h:1'], outlierDetection: {consecutive5xx: 1.5}}")),
                "originPools[p].outlierDetection.consecutive5xx",
                "originPools[p].outlierDetection.consecutive5xx: 1.5 (expected: an integer)");
    }
}
