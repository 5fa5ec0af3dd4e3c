package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.HashKey;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.LoadBalancingAlgorithm;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pool's algorithm spreads requests over the endpoints of its active priority. */
class LoadBalancingTest {

    private MeshFixture mesh;
    private WireMockServer a;
    private WireMockServer b;
    private MeshRouter tokyo;
    private java.net.http.HttpClient client;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        a = origin("a");
        b = origin("b");
        tokyo = mesh.site("tokyo");
        client = MeshFixture.clientOf(tokyo);
    }

    private static WireMockServer origin(String name) {
        WireMockServer server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody(name)));
        server.stubFor(any(urlEqualTo("/hold")).willReturn(aResponse().withStatus(200).withFixedDelay(1_500)
                .withBody(name)));
        return server;
    }

    private static Endpoint endpoint(WireMockServer server) {
        return Endpoint.of("127.0.0.1", server.port());
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        a.stop();
        b.stop();
    }

    private void pool(OriginPool.Builder pool) {
        mesh.store.put(pool.build());
        mesh.store.put(LoadBalancer.builder("app").domain("app").advertiseAt("tokyo").defaultPool("app-pool").build());
        mesh.awaitApplied(tokyo);
    }

    private String call(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://app" + path))
                .timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void roundRobinFollowsTheOriginWeights() throws Exception {
        pool(OriginPool.builder("app-pool").site("tokyo")
                .origin(Origin.builder().endpoint(endpoint(a)).weight(3).build())
                .origin(Origin.builder().endpoint(endpoint(b)).weight(1).build()));

        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            counts.merge(call("/"), 1, Integer::sum);
        }

        assertThat(counts).containsEntry("a", 30).containsEntry("b", 10);
    }

    @Test
    void consistentHashOnAHeaderSendsTheSameKeyToTheSameOriginAndSpreadsKeys() throws Exception {
        pool(OriginPool.builder("app-pool").site("tokyo").endpoint(endpoint(a)).endpoint(endpoint(b))
                .algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).hashKey(HashKey.header("x-user")));

        Set<String> seen = new HashSet<>();
        for (int user = 0; user < 20; user++) {
            String first = call("/", "x-user", "user-" + user);
            for (int i = 0; i < 2; i++) {
                assertThat(call("/", "x-user", "user-" + user)).as("user-" + user).isEqualTo(first);
            }
            seen.add(first);
        }

        assertThat(seen).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void consistentHashOnACookieKeepsASessionOnOneOrigin() throws Exception {
        pool(OriginPool.builder("app-pool").site("tokyo").endpoint(endpoint(a)).endpoint(endpoint(b))
                .algorithm(LoadBalancingAlgorithm.CONSISTENT_HASH).hashKey(HashKey.cookie("session")));

        Set<String> seen = new HashSet<>();
        for (int s = 0; s < 20; s++) {
            String cookie = "theme=dark; session=s" + s;
            String first = call("/", "cookie", cookie);
            assertThat(call("/", "cookie", cookie)).isEqualTo(first);
            seen.add(first);
        }

        assertThat(seen).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void leastRequestAvoidsTheOriginWithARequestInFlight() throws Exception {
        pool(OriginPool.builder("app-pool").site("tokyo").endpoint(endpoint(a)).endpoint(endpoint(b))
                .algorithm(LoadBalancingAlgorithm.LEAST_REQUEST));

        CompletableFuture<HttpResponse<String>> held = MeshFixture.clientOf(tokyo).sendAsync(
                HttpRequest.newBuilder(URI.create("http://app/hold")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(5)).until(() ->
                a.findAll(getRequestedFor(urlEqualTo("/hold"))).size() + b.findAll(getRequestedFor(urlEqualTo("/hold"))).size() == 1);
        String busy = a.findAll(getRequestedFor(urlEqualTo("/hold"))).isEmpty() ? "b" : "a";

        for (int i = 0; i < 4; i++) {
            assertThat(call("/")).isNotEqualTo(busy);
        }
        assertThat(held.get(10, TimeUnit.SECONDS).body()).isEqualTo(busy);
    }
}
