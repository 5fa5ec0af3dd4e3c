package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.testing.EtcdProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** A daemon on a real etcd: readiness before and after the first snapshot, and the last-good file. */
class DaemonEtcdTest {

    @TempDir
    Path dir;

    private EtcdProcess etcd;
    private WireMockServer origin;

    @BeforeEach
    void setUp() {
        etcd = EtcdProcess.started();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(get(urlEqualTo("/hello")).willReturn(aResponse().withStatus(200).withBody("hello from the origin")));
    }

    @AfterEach
    void tearDown() {
        origin.stop();
        etcd.close();
    }

    private RouterDaemon daemon(Path stateDir) throws IOException {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        Map<String, String> flags = AdminApiTest.settings(stateDir, tokens);
        flags.put("etcd.endpoints", etcd.endpoint().toString());
        flags.put("etcd.requestTimeout", "1s");
        flags.put("storeCheckInterval", "200ms");
        flags.put("siteLeaseTtl", "5s");
        return RouterDaemon.start(DaemonConfig.load(null, Map.of(), flags), List.of());
    }

    private static Http admin(RouterDaemon daemon) {
        return new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
    }

    private static HttpResponse<String> viaIngress(InetSocketAddress ingress, String url) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(ingress)).connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void isNotReadyUntilTheFirstSnapshotIsLive() throws Exception {
        etcd.stop();
        try (RouterDaemon daemon = daemon(dir.resolve("state"))) {
            Http admin = admin(daemon);
            HttpResponse<String> notReady = admin.get("/readyz");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("no configuration yet").contains("last-good.yaml");
            assertThat(Http.json(admin.get("/v1/status")).path("state").asString()).isEqualTo("STARTING");
            assertThat(admin.get("/healthz").statusCode()).isEqualTo(200);

            etcd.start();
            await().atMost(Duration.ofSeconds(45)).untilAsserted(() ->
                    assertThat(admin.get("/readyz").statusCode()).isEqualTo(200));
            assertThat(daemon.state()).isEqualTo(DaemonState.READY);
            // Once the store is reachable, the daemon registers its site there.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(Http.json(admin.get("/v1/sites/tokyo")).path("spec").path("tunnelEndpoints").get(0)
                            .asString()).isEqualTo("127.0.0.1:" + daemon.tunnelAddress().getPort()));
        }
    }

    @Test
    void routesOnTheLastGoodFileWhenEtcdIsDownAtStart() throws Exception {
        Path state = dir.resolve("state");
        String docs = "kind: OriginPool\nmetadata: {name: local-pool}\n"
                + "spec: {site: tokyo, endpoints: [\"127.0.0.1:" + origin.port() + "\"]}\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: local-app}\n"
                + "spec: {domains: [local-app], advertiseSites: [tokyo], defaultPool: local-pool}\n";
        long applied;
        try (RouterDaemon first = daemon(state)) {
            Http admin = admin(first);
            HttpResponse<String> apply = admin.post("/v1/apply", "application/yaml", docs);
            assertThat(apply.statusCode()).isEqualTo(200);
            long rv = Http.json(apply).path("results").get(1).path("resourceVersion").asLong();
            await().atMost(Duration.ofSeconds(10)).until(() -> first.appliedRevision() >= rv);
            assertThat(viaIngress(first.ingressAddress(), "http://local-app/hello").body()).isEqualTo("hello from the origin");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(Files.readString(state.resolve("last-good.yaml"))).contains("name: local-app"));
            applied = first.appliedRevision();
        }
        etcd.stop();

        try (RouterDaemon second = daemon(state)) {
            Http admin = admin(second);
            assertThat(second.state()).isEqualTo(DaemonState.DEGRADED);
            assertThat(admin.get("/readyz").statusCode()).isEqualTo(200);
            JsonNode status = Http.json(admin.get("/v1/status"));
            assertThat(status.path("state").asString()).isEqualTo("DEGRADED");
            assertThat(status.path("appliedRevision").asLong()).isEqualTo(applied);
            HttpResponse<String> routed = viaIngress(second.ingressAddress(), "http://local-app/hello");
            assertThat(routed.statusCode()).isEqualTo(200);
            assertThat(routed.body()).isEqualTo("hello from the origin");
            // Writes need the store: they fail with 503, not 500, while it is down.
            assertThat(admin.delete("/v1/loadbalancers/default/local-app", null).statusCode()).isEqualTo(503);

            etcd.start();
            await().atMost(Duration.ofSeconds(45)).until(() -> second.state() == DaemonState.READY);
        }
    }

}
