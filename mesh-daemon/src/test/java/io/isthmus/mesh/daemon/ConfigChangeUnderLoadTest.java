package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration applied through the admin API while requests flow: none of them fails. */
class ConfigChangeUnderLoadTest {

    @TempDir
    Path state;

    @Test
    void appliesChangesWithoutDroppingRequests() throws Exception {
        WireMockServer origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(get(urlEqualTo("/ping")).willReturn(aResponse().withStatus(200).withBody("pong")));
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        try (RouterDaemon daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(),
                AdminApiTest.settings(state.resolve("state"), tokens)), List.of())) {
            Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
            String pool = "kind: OriginPool\nmetadata: {name: load-pool}\nspec: {site: tokyo, endpoints: [\"127.0.0.1:"
                    + origin.port() + "\"]}\n";
            assertThat(admin.post("/v1/apply", "application/yaml", pool + "---\n" + lb(0)).statusCode()).isEqualTo(200);
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .proxy(ProxySelector.of(daemon.ingressAddress())).connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://load.example/ping"))
                    .timeout(Duration.ofSeconds(10)).build();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200);

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            Map<String, Integer> failures = new ConcurrentHashMap<>();
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 5000 && running.get(); i++) {
                    try {
                        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() == 200 && response.body().equals("pong")) {
                            ok.incrementAndGet();
                        } else {
                            failures.merge(response.statusCode() + " " + response.body(), 1, Integer::sum);
                        }
                    } catch (Exception e) {
                        failures.merge(e.toString(), 1, Integer::sum);
                    }
                }
            });
            long before = daemon.appliedRevision();
            for (int change = 1; change <= 20; change++) {
                assertThat(admin.post("/v1/apply", "application/yaml", lb(change)).statusCode()).isEqualTo(200);
            }
            long last = Http.json(admin.get("/v1/loadbalancers")).path("revision").asLong();
            await().atMost(Duration.ofSeconds(10)).until(() -> daemon.appliedRevision() >= last);
            running.set(false);
            load.get(30, TimeUnit.SECONDS);
            assertThat(daemon.appliedRevision()).isGreaterThan(before);
            assertThat(failures).isEmpty();
            assertThat(ok.get()).isPositive();
            System.out.printf("%d requests succeeded while 20 changes were applied%n", ok.get());
        } finally {
            origin.stop();
        }
    }

    /** The load balancer with {@code n} extra domains: each apply changes it. */
    private static String lb(int n) {
        StringBuilder domains = new StringBuilder("load.example");
        for (int i = 0; i < n; i++) {
            domains.append(", extra-").append(i).append(".example");
        }
        return "kind: LoadBalancer\nmetadata: {name: load-lb}\nspec: {domains: [" + domains
                + "], advertiseSites: [tokyo], defaultPool: load-pool}\n";
    }
}
