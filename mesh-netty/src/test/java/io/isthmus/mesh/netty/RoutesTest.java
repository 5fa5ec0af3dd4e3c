package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteAction;
import io.isthmus.mesh.model.RouteMatch;
import io.isthmus.mesh.model.StringMatch;
import io.isthmus.mesh.model.WeightedPool;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ingress routes by the compiled snapshot: routes in order (path exact, prefix and regex, methods,
 * headers, query parameters), weighted pools, redirects, direct responses and per-route timeouts, with
 * WireMock servers as the origins and real sockets on 127.0.0.1.
 */
class RoutesTest {

    private MeshFixture mesh;
    private WireMockServer blue;
    private WireMockServer green;
    private MeshRouter tokyo;
    private MeshRouter osaka;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        blue = origin("blue");
        green = origin("green");
        tokyo = mesh.site("tokyo");
        osaka = mesh.site("osaka");
        mesh.store.put(OriginPool.builder("blue").site("tokyo").endpoint(endpoint(blue)).build());
        mesh.store.put(OriginPool.builder("green").site("tokyo").endpoint(endpoint(green)).build());
        mesh.store.put(OriginPool.builder("green-osaka").site("osaka").endpoint(endpoint(green)).build());
    }

    private static WireMockServer origin(String name) {
        WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody(name)));
        return server;
    }

    private static Endpoint endpoint(WireMockServer server) {
        return Endpoint.of("127.0.0.1", server.port());
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        blue.stop();
        green.stop();
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return MeshFixture.clientOf(tokyo).send(request.timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder get(String url) {
        return HttpRequest.newBuilder(URI.create(url));
    }

    @Test
    void triesRoutesInOrderByPathMethodHeaderAndQueryAndFallsBackToTheDefaultPool() throws Exception {
        mesh.store.put(LoadBalancer.builder("shop").domain("shop").advertiseAt("tokyo").defaultPool("blue")
                .route(Route.builder().name("exact").match(RouteMatch.builder().path(StringMatch.exact("/green")).build())
                        .forward("green").build())
                .route(Route.builder().name("canary").match(RouteMatch.builder().path(StringMatch.prefix("/api/"))
                        .header("x-canary", StringMatch.exact("yes")).build()).forward("green").build())
                .route(Route.builder().name("writes").match(RouteMatch.builder().path(StringMatch.regex("/orders/[0-9]+"))
                        .methods("DELETE").build()).forward("green").build())
                .route(Route.builder().name("beta").match(RouteMatch.builder().queryParam("beta", StringMatch.exact("1"))
                        .build()).forward("green").build())
                .build());
        mesh.awaitApplied(tokyo);

        assertThat(send(get("http://shop/green")).body()).isEqualTo("green");
        assertThat(send(get("http://shop/green/more")).body()).isEqualTo("blue");
        assertThat(send(get("http://shop/api/items").header("x-canary", "yes")).body()).isEqualTo("green");
        assertThat(send(get("http://shop/api/items").header("x-canary", "no")).body()).isEqualTo("blue");
        assertThat(send(get("http://shop/orders/42").DELETE()).body()).isEqualTo("green");
        assertThat(send(get("http://shop/orders/42")).body()).isEqualTo("blue");
        assertThat(send(get("http://shop/orders/abc").DELETE()).body()).isEqualTo("blue");
        assertThat(send(get("http://shop/anything?x=2&beta=1")).body()).isEqualTo("green");
        assertThat(send(get("http://shop/anything?beta=10")).body()).isEqualTo("blue");
    }

    @Test
    void spreadsRequestsOverWeightedPoolsInProportion() throws Exception {
        mesh.store.put(LoadBalancer.builder("shop").domain("shop").advertiseAt("tokyo").defaultPool("blue")
                .route(Route.builder().match(RouteMatch.any())
                        .forward(WeightedPool.of("blue", 3), WeightedPool.of("green", 1)).build())
                .build());
        mesh.awaitApplied(tokyo);

        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < 200; i++) {
            counts.merge(send(get("http://shop/")).body(), 1, Integer::sum);
        }

        // 150 expected at blue, 50 at green; the bounds are more than five standard deviations wide.
        assertThat(counts.get("blue")).isBetween(115, 185);
        assertThat(counts.get("green")).isBetween(15, 85);
    }

    @Test
    void answersRedirectsWithTheirStatusAndLocation() throws Exception {
        mesh.store.put(LoadBalancer.builder("shop").domain("shop").advertiseAt("tokyo").defaultPool("blue")
                .route(Route.builder().match(RouteMatch.builder().path(StringMatch.prefix("/old")).build())
                        .action(RouteAction.redirect(new RouteAction.Redirect("https", "new.example", "/new", 308)))
                        .build())
                .route(Route.builder().match(RouteMatch.builder().path(StringMatch.prefix("/plain")).build())
                        .action(RouteAction.Redirect.toScheme("https")).build())
                .build());
        mesh.awaitApplied(tokyo);

        HttpResponse<String> moved = send(get("http://shop/old/page?id=7"));
        assertThat(moved.statusCode()).isEqualTo(308);
        assertThat(moved.headers().firstValue("location")).hasValue("https://new.example/new?id=7");

        HttpResponse<String> secure = send(get("http://shop/plain/x"));
        assertThat(secure.statusCode()).isEqualTo(301);
        assertThat(secure.headers().firstValue("location")).hasValue("https://shop/plain/x");
        assertThat(blue.getAllServeEvents()).isEmpty();
    }

    @Test
    void answersDirectResponsesWithTheirStatusAndBody() throws Exception {
        mesh.store.put(LoadBalancer.builder("shop").domain("shop").advertiseAt("tokyo").defaultPool("blue")
                .route(Route.builder().match(RouteMatch.builder().path(StringMatch.exact("/maintenance")).build())
                        .action(RouteAction.directResponse(503, "down for maintenance")).build())
                .build());
        mesh.awaitApplied(tokyo);

        HttpResponse<String> response = send(get("http://shop/maintenance"));

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).isEqualTo("down for maintenance");
        assertThat(send(get("http://shop/other")).body()).isEqualTo("blue");
        assertThat(blue.getAllServeEvents()).hasSize(1);
    }

    @Test
    void appliesTheRouteTimeoutLocallyAndAtThePoolsSite() throws Exception {
        green.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withFixedDelay(5_000).withBody("slow")));
        mesh.store.put(LoadBalancer.builder("shop").domain("shop").advertiseAt("tokyo").defaultPool("blue")
                .route(Route.builder().match(RouteMatch.builder().path(StringMatch.prefix("/local")).build())
                        .forward("green").timeout(Duration.ofMillis(300)).build())
                .route(Route.builder().match(RouteMatch.builder().path(StringMatch.prefix("/remote")).build())
                        .forward("green-osaka").timeout(Duration.ofMillis(300)).build())
                .build());
        mesh.awaitApplied(tokyo, osaka);

        for (String path : new String[] {"/local", "/remote"}) {
            long start = System.nanoTime();
            HttpResponse<String> response = send(get("http://shop" + path));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(response.statusCode()).as(path).isEqualTo(504);
            assertThat(millis).as(path).isLessThan(3_000);
        }
    }

    @Test
    void answersUnknownHostsWith404NamingTheHost() throws Exception {
        mesh.store.put(LoadBalancer.builder("shop").domain("shop").advertiseAt("tokyo").defaultPool("blue").build());
        mesh.awaitApplied(tokyo);

        HttpResponse<String> response = send(get("http://nowhere/"));

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("no load balancer serves host \"nowhere\"").contains("tokyo");
    }
}
