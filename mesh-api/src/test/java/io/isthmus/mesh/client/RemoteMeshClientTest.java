package io.isthmus.mesh.client;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigEvent;
import io.isthmus.mesh.config.ConfigListener;
import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.ConfigWatch;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SiteCredentials;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RemoteMeshClientTest {

    static final String LB_DOC = "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\",\"namespace\":\"default\","
            + "\"resourceVersion\":\"7\"},\"spec\":{\"domains\":[\"osaka-app\"],\"advertiseSites\":[\"tokyo\"],"
            + "\"defaultPool\":\"osaka-pool\"}}";
    static final String POOL_DOC = "{\"kind\":\"OriginPool\",\"metadata\":{\"name\":\"osaka-pool\",\"namespace\":\"default\","
            + "\"resourceVersion\":\"5\"},\"spec\":{\"site\":\"osaka\",\"endpoints\":[\"10.0.0.7:8080\"]}}";
    static final String SITE_DOC = "{\"kind\":\"Site\",\"metadata\":{\"name\":\"osaka\",\"resourceVersion\":\"3\"},"
            + "\"spec\":{\"tunnelEndpoints\":[\"127.0.0.1:4443\"],\"labels\":{}}}";

    static final LoadBalancer LB = LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
            .defaultPool("osaka-pool").build();

    private WireMockServer server;
    private MeshAdmin admin;

    @BeforeEach
    void start() {
        server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        admin = MeshAdmin.connect(MeshConnection.builder(URI.create(server.baseUrl())).bearerToken("s3cret")
                .requestTimeout(Duration.ofSeconds(10)).build());
    }

    @AfterEach
    void stop() {
        admin.close();
        server.stop();
    }

    @Test
    void getsObjectWithItsResourceVersionAndBearerToken() {
        server.stubFor(get("/v1/loadbalancers/default/osaka-app").willReturn(okJson(LB_DOC)));

        Optional<Versioned<MeshObject>> found = admin.store().get(LB.key());

        assertThat(found).isPresent();
        assertThat(found.get().object()).isEqualTo(LB);
        assertThat(found.get().modRevision()).isEqualTo(7);
        server.verify(getRequestedFor(urlEqualTo("/v1/loadbalancers/default/osaka-app"))
                .withHeader("Authorization", equalTo("Bearer s3cret")));
    }

    @Test
    void getsClusterScopedSiteWithoutNamespaceInPath() {
        server.stubFor(get("/v1/sites/osaka").willReturn(okJson(SITE_DOC)));

        assertThat(admin.store().get(ObjectKey.of(Kind.SITE, "osaka")).map(v -> v.object().name())).contains("osaka");
    }

    @Test
    void getReturnsEmptyWhenServerAnswers404() {
        server.stubFor(get("/v1/loadbalancers/default/nope").willReturn(aResponse().withStatus(404)
                .withBody("{\"error\":\"loadbalancer default/nope not found\"}")));

        assertThat(admin.store().get(ObjectKey.of(Kind.LOAD_BALANCER, "default", "nope"))).isEmpty();
    }

    @Test
    void listsObjectsOrderedByKey() {
        String second = LB_DOC.replace("osaka-app\",\"namespace", "aaa-app\",\"namespace");
        server.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":9,\"items\":[" + LB_DOC + "," + second + "]}")));

        List<Versioned<MeshObject>> items = admin.store().list(Kind.LOAD_BALANCER);

        assertThat(items).extracting(v -> v.object().name()).containsExactly("aaa-app", "osaka-app");
    }

    @Test
    void snapshotReadsEveryKindAtOneRevision() {
        server.stubFor(get("/v1/sites").willReturn(okJson("{\"revision\":9,\"items\":[" + SITE_DOC + "]}")));
        server.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":9,\"items\":[" + LB_DOC + "]}")));
        server.stubFor(get("/v1/originpools").willReturn(okJson("{\"revision\":9,\"items\":[" + POOL_DOC + "]}")));
        server.stubFor(get("/v1/servicepolicies").willReturn(okJson("{\"revision\":9,\"items\":[]}")));
        server.stubFor(get("/v1/networkfirewalls").willReturn(okJson("{\"revision\":9,\"items\":[]}")));

        ConfigSnapshot snapshot = admin.store().snapshot();

        assertThat(snapshot.revision()).isEqualTo(9);
        assertThat(snapshot.objects()).extracting(v -> v.object().kind())
                .containsExactly(Kind.SITE, Kind.LOAD_BALANCER, Kind.ORIGIN_POOL);
    }

    @Test
    void snapshotRereadsWhenTheStoreMovedBetweenLists() {
        server.stubFor(get("/v1/sites").inScenario("moving").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"revision\":8,\"items\":[]}")).willSetStateTo("moved"));
        server.stubFor(get("/v1/sites").inScenario("moving").whenScenarioStateIs("moved")
                .willReturn(okJson("{\"revision\":9,\"items\":[]}")));
        server.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":9,\"items\":[]}")));
        server.stubFor(get("/v1/originpools").willReturn(okJson("{\"revision\":9,\"items\":[]}")));
        server.stubFor(get("/v1/servicepolicies").willReturn(okJson("{\"revision\":9,\"items\":[]}")));
        server.stubFor(get("/v1/networkfirewalls").willReturn(okJson("{\"revision\":9,\"items\":[]}")));

        assertThat(admin.store().snapshot().revision()).isEqualTo(9);
        server.verify(2, getRequestedFor(urlEqualTo("/v1/sites")));
    }

    @Test
    void revisionComesFromStatus() {
        server.stubFor(get("/v1/status").willReturn(okJson(StatusJson.STATUS)));

        assertThat(admin.store().revision()).isEqualTo(42);
    }

    @Test
    void putSendsTheCodecDocumentWithoutCompareAndSet() {
        server.stubFor(put("/v1/loadbalancers/default/osaka-app").willReturn(aResponse().withStatus(201)
                .withHeader("Content-Type", "application/json").withBody(LB_DOC)));

        Versioned<MeshObject> stored = admin.store().put(LB);

        assertThat(stored.modRevision()).isEqualTo(7);
        server.verify(putRequestedFor(urlEqualTo("/v1/loadbalancers/default/osaka-app"))
                .withHeader("Content-Type", equalTo("application/json"))
                .withoutHeader("If-Match")
                .withRequestBody(equalToJson("{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\","
                        + "\"namespace\":\"default\"},\"spec\":{\"domains\":[\"osaka-app\"],\"advertiseSites\":[\"tokyo\"],"
                        + "\"defaultPool\":\"osaka-pool\"}}")));
    }

    @Test
    void updateSendsIfMatchAndMaps409ToConflictWithCurrentVersion() {
        server.stubFor(put("/v1/loadbalancers/default/osaka-app").willReturn(aResponse().withStatus(409)
                .withBody("{\"error\":\"conflict\",\"currentResourceVersion\":\"12\"}")));

        assertThatThrownBy(() -> admin.store().update(LB, 7))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> {
                    assertThat(e.key()).isEqualTo(LB.key());
                    assertThat(e.expectedRevision()).isEqualTo(7);
                    assertThat(e.actualRevision()).isEqualTo(12);
                });
        server.verify(putRequestedFor(urlEqualTo("/v1/loadbalancers/default/osaka-app"))
                .withHeader("If-Match", equalTo("\"7\"")));
    }

    @Test
    void createSendsIfMatchZero() {
        server.stubFor(put("/v1/loadbalancers/default/osaka-app").willReturn(aResponse().withStatus(201).withBody(LB_DOC)));

        admin.store().create(LB);

        server.verify(putRequestedFor(urlEqualTo("/v1/loadbalancers/default/osaka-app"))
                .withHeader("If-Match", equalTo("\"0\"")));
    }

    @Test
    void maps422ToValidationExceptionWithTheFieldPath() {
        server.stubFor(put("/v1/loadbalancers/default/osaka-app").willReturn(aResponse().withStatus(422)
                .withBody("{\"error\":\"loadBalancers[osaka-app].defaultPool: \\\"Bad\\\" (expected: a DNS label)\","
                        + "\"field\":\"loadBalancers[osaka-app].defaultPool\",\"value\":\"Bad\"}")));

        assertThatThrownBy(() -> admin.store().put(LB))
                .isInstanceOfSatisfying(ConfigValidationException.class, e -> {
                    assertThat(e.fieldPath()).isEqualTo("loadBalancers[osaka-app].defaultPool");
                    assertThat(e.getMessage()).isEqualTo(
                            "loadBalancers[osaka-app].defaultPool: \"Bad\" (expected: a DNS label)");
                });
    }

    @Test
    void maps401ToAdminExceptionNamingStatusAndUrl() {
        server.stubFor(get("/v1/loadbalancers").willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Bearer").withBody("{\"error\":\"invalid bearer token\"}")));

        assertThatThrownBy(() -> admin.store().list(Kind.LOAD_BALANCER))
                .isInstanceOfSatisfying(MeshAdminException.class, e -> {
                    assertThat(e.status()).isEqualTo(401);
                    assertThat(e.isAuthenticationFailure()).isTrue();
                    assertThat(e.getMessage()).contains("GET " + server.baseUrl() + "/v1/loadbalancers", "HTTP 401",
                            "invalid bearer token");
                });
    }

    @Test
    void maps403And500ToAdminException() {
        server.stubFor(delete("/v1/sites/osaka").willReturn(aResponse().withStatus(403)
                .withBody("{\"error\":\"role read-only may not DELETE\"}")));
        server.stubFor(get("/v1/sites").willReturn(aResponse().withStatus(500).withBody("boom")));

        assertThatThrownBy(() -> admin.store().delete(ObjectKey.of(Kind.SITE, "osaka")))
                .isInstanceOfSatisfying(MeshAdminException.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThatThrownBy(() -> admin.store().list(Kind.SITE))
                .isInstanceOfSatisfying(MeshAdminException.class, e -> {
                    assertThat(e.status()).isEqualTo(500);
                    assertThat(e.getMessage()).contains("boom");
                });
    }

    @Test
    void deleteReportsWhetherAnObjectExisted() {
        server.stubFor(delete("/v1/sites/osaka").willReturn(okJson("{\"deleted\":" + SITE_DOC + "}")));
        server.stubFor(delete("/v1/sites/gone").willReturn(aResponse().withStatus(404).withBody("{\"error\":\"not found\"}")));

        assertThat(admin.store().delete(ObjectKey.of(Kind.SITE, "osaka"))).isTrue();
        assertThat(admin.store().delete(ObjectKey.of(Kind.SITE, "gone"))).isFalse();
    }

    @Test
    void compareAndSetDeleteSendsIfMatchAndFailsOnMissingObject() {
        server.stubFor(delete("/v1/sites/osaka").willReturn(okJson("{\"deleted\":" + SITE_DOC + "}")));
        server.stubFor(delete("/v1/sites/gone").willReturn(aResponse().withStatus(404).withBody("{\"error\":\"not found\"}")));

        admin.store().delete(ObjectKey.of(Kind.SITE, "osaka"), 3);

        server.verify(deleteRequestedFor(urlEqualTo("/v1/sites/osaka")).withHeader("If-Match", equalTo("\"3\"")));
        assertThatThrownBy(() -> admin.store().delete(ObjectKey.of(Kind.SITE, "gone"), 3))
                .isInstanceOfSatisfying(ConfigConflictException.class, e -> assertThat(e.actualRevision()).isZero());
    }

    @Test
    void appliesObjectsAsJsonArrayAndReadsResults() {
        server.stubFor(post("/v1/apply").willReturn(okJson("{\"results\":["
                + "{\"kind\":\"LoadBalancer\",\"namespace\":\"default\",\"name\":\"osaka-app\",\"action\":\"created\",\"resourceVersion\":\"10\"},"
                + "{\"kind\":\"Site\",\"name\":\"osaka\",\"action\":\"unchanged\",\"resourceVersion\":\"3\"}]}")));
        Site osaka = Site.builder("osaka").tunnelEndpoint(Endpoint.parse("127.0.0.1:4443")).build();

        List<ApplyResult> results = admin.apply(List.of(LB, osaka));

        assertThat(results).containsExactly(
                new ApplyResult(LB.key(), ApplyResult.Action.CREATED, 10),
                new ApplyResult(osaka.key(), ApplyResult.Action.UNCHANGED, 3));
        server.verify(postRequestedFor(urlEqualTo("/v1/apply")).withHeader("Content-Type", equalTo("application/json"))
                .withRequestBody(equalToJson("[{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\","
                        + "\"namespace\":\"default\"},\"spec\":{\"domains\":[\"osaka-app\"],\"advertiseSites\":[\"tokyo\"],"
                        + "\"defaultPool\":\"osaka-pool\"}},{\"kind\":\"Site\",\"metadata\":{\"name\":\"osaka\"},"
                        + "\"spec\":{\"tunnelEndpoints\":[\"127.0.0.1:4443\"],\"labels\":{}}}]")));
    }

    @Test
    void applyRejectionCarriesTheFieldPath() {
        server.stubFor(post("/v1/apply").willReturn(aResponse().withStatus(422).withBody(
                "{\"error\":\"pool osaka-pool does not exist\",\"field\":\"loadBalancers[osaka-app].defaultPool\",\"value\":\"osaka-pool\"}")));

        assertThatThrownBy(() -> admin.apply(List.of(LB)))
                .isInstanceOfSatisfying(ConfigValidationException.class, e ->
                        assertThat(e.getMessage()).isEqualTo("loadBalancers[osaka-app].defaultPool: pool osaka-pool does not exist"));
    }

    @Test
    void readsStatus() {
        server.stubFor(get("/v1/status").willReturn(okJson(StatusJson.STATUS)));

        MeshStatus status = admin.status();

        assertThat(status.site()).isEqualTo("tokyo");
        assertThat(status.state()).isEqualTo("READY");
        assertThat(status.appliedRevision()).isEqualTo(41);
        assertThat(status.tunnels()).containsExactly(new MeshStatus.Tunnel("osaka", "UP",
                "spiffe://demo.isthmus.io/site/osaka", "127.0.0.1:4443"));
        assertThat(status.routers()).extracting(MeshStatus.Router::routerId).containsExactly("tokyo-1", "osaka-1");
    }

    @Test
    void explainsARequest() {
        server.stubFor(post("/v1/explain").willReturn(okJson("{\"allowed\":false,\"policy\":\"default/osaka-policy\","
                + "\"rule\":\"deny-admin\",\"reason\":\"path /admin is denied\",\"trace\":[\"lb default/osaka-app\",\"rule deny-admin matched\"]}")));

        ExplainResult result = admin.explain(ExplainRequest.builder().host("osaka-app").method("get").path("/admin")
                .header("X-Team", "checkout").clientIp("10.1.2.3").sourceSite("tokyo").build());

        assertThat(result).isEqualTo(new ExplainResult(false, "default/osaka-policy", "deny-admin", "path /admin is denied",
                List.of("lb default/osaka-app", "rule deny-admin matched")));
        server.verify(postRequestedFor(urlEqualTo("/v1/explain")).withRequestBody(equalToJson("{\"host\":\"osaka-app\","
                + "\"method\":\"GET\",\"path\":\"/admin\",\"headers\":{\"x-team\":\"checkout\"},\"clientIp\":\"10.1.2.3\","
                + "\"sourceSite\":\"tokyo\"}")));
    }

    @Test
    void explainNotImplementedIsAnAdminException() {
        server.stubFor(post("/v1/explain").willReturn(aResponse().withStatus(501)
                .withBody("{\"error\":\"the policy engine is not available in this daemon\"}")));

        assertThatThrownBy(() -> admin.explain(ExplainRequest.builder().host("osaka-app").build()))
                .isInstanceOfSatisfying(MeshAdminException.class, e -> {
                    assertThat(e.status()).isEqualTo(501);
                    assertThat(e.getMessage()).contains("policy engine is not available");
                });
    }

    @Test
    void responseThatIsNotJsonIsReportedWithTheUrl() {
        server.stubFor(get("/v1/status").willReturn(aResponse().withStatus(200).withBody("<html>proxy</html>")));

        assertThatThrownBy(() -> admin.status())
                .isInstanceOf(MeshAdminException.class)
                .hasMessageContaining(server.baseUrl() + "/v1/status").hasMessageContaining("not a JSON object");
    }

    @Test
    void watchDeliversEventsAndResumesFromTheLastRevisionAfterTheServerClosesTheStream() {
        server.stubFor(get(urlPathEqualTo("/v1/watch")).withQueryParam("fromRevision", equalTo("5"))
                .willReturn(aResponse().withHeader("Content-Type", "application/x-ndjson").withBody(
                        "{\"type\":\"PUT\",\"revision\":6,\"object\":" + POOL_DOC.replace("\"5\"", "\"6\"") + "}\n"
                        + "{\"type\":\"HEARTBEAT\",\"revision\":6}\n"
                        + "{\"type\":\"PUT\",\"revision\":7,\"object\":" + LB_DOC + "}\n")));
        server.stubFor(get(urlPathEqualTo("/v1/watch")).withQueryParam("fromRevision", equalTo("7"))
                .willReturn(aResponse().withHeader("Content-Type", "application/x-ndjson").withBody(
                        "{\"type\":\"PUT\",\"revision\":7,\"object\":" + LB_DOC + "}\n"
                        + "{\"type\":\"DELETE\",\"revision\":8,\"object\":" + POOL_DOC + "}\n")));
        server.stubFor(get(urlPathEqualTo("/v1/watch")).withQueryParam("fromRevision", equalTo("8"))
                .willReturn(aResponse().withHeader("Content-Type", "application/x-ndjson").withBody(
                        "{\"type\":\"HEARTBEAT\",\"revision\":8}\n")));
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();

        try (ConfigWatch watch = admin.store().watch(5, events::add)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 3);
            assertThat(events).extracting(ConfigEvent::toString).containsExactly(
                    "PUT OriginPool/default/osaka-pool@6", "PUT LoadBalancer/default/osaka-app@7",
                    "DELETE OriginPool/default/osaka-pool@8");
            assertThat(events.get(1).object().object()).isEqualTo(LB);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> server.verify(
                    getRequestedFor(urlPathEqualTo("/v1/watch")).withQueryParam("fromRevision", equalTo("8"))));
        }
    }

    @Test
    void watchReconnectsWhenTheStreamGoesQuietForLongerThanTheIdleTimeout() throws Exception {
        // A raw HTTP server: the first stream sends one event and then nothing, not even a heartbeat, while
        // keeping the connection open (a half-dead connection); the second sends the next event.
        String first = "{\"type\":\"PUT\",\"revision\":6,\"object\":" + POOL_DOC.replace("\"5\"", "\"6\"") + "}\n";
        String second = "{\"type\":\"PUT\",\"revision\":7,\"object\":" + LB_DOC + "}\n";
        List<String> requestLines = new CopyOnWriteArrayList<>();
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        try (ServerSocket listener = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress())) {
            Thread serverThread = new Thread(() -> {
                List<java.net.Socket> open = new ArrayList<>();
                try {
                    for (int i = 0; i < 2; i++) {
                        java.net.Socket socket = listener.accept();
                        open.add(socket);
                        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                                socket.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII));
                        requestLines.add(in.readLine());
                        String body = i == 0 ? first : second;
                        String head = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                                + (i == 0 ? "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(body.length()) + "\r\n"
                                        + body + "\r\n" : "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
                        socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                        socket.getOutputStream().flush();
                    }
                    Thread.currentThread().join(20_000); // keeps the first connection open and quiet
                } catch (Exception e) {
                    // The test ends.
                } finally {
                    open.forEach(socket -> {
                        try {
                            socket.close();
                        } catch (java.io.IOException e) {
                            // Closing anyway.
                        }
                    });
                }
            }, "quiet-watch-server");
            serverThread.setDaemon(true);
            serverThread.start();

            try (MeshAdmin quick = MeshAdmin.connect(MeshConnection.builder(URI.create("http://127.0.0.1:"
                    + listener.getLocalPort())).watchIdleTimeout(Duration.ofMillis(600)).build());
                    ConfigWatch watch = quick.store().watch(5, events::add)) {
                await().atMost(Duration.ofSeconds(8)).until(() -> events.size() >= 2);
                assertThat(events).extracting(ConfigEvent::revision).containsExactly(6L, 7L);
                assertThat(requestLines).containsExactly("GET /v1/watch?fromRevision=5 HTTP/1.1",
                        "GET /v1/watch?fromRevision=6 HTTP/1.1");
            } finally {
                serverThread.interrupt();
            }
        }
    }

    @Test
    void watchEndsWithOnErrorWhenTheServerRefusesIt() {
        server.stubFor(get(urlPathEqualTo("/v1/watch")).willReturn(aResponse().withStatus(403)
                .withBody("{\"error\":\"role none may not watch\"}")));
        AtomicReference<Throwable> error = new AtomicReference<>();

        try (ConfigWatch watch = admin.store().watch(0, new ConfigListener() {
            @Override
            public void onEvent(ConfigEvent event) {}

            @Override
            public void onError(Throwable cause) {
                error.set(cause);
            }
        })) {
            await().atMost(Duration.ofSeconds(10)).until(() -> error.get() != null);
            assertThat(error.get()).isInstanceOf(MeshAdminException.class).hasMessageContaining("HTTP 403");
        }
    }

    @Test
    void closingAWatchStopsAQuietStream() throws Exception {
        server.stubFor(get(urlPathEqualTo("/v1/watch")).willReturn(aResponse()
                .withHeader("Content-Type", "application/x-ndjson").withFixedDelay(30_000).withBody("")));
        List<ConfigEvent> events = new CopyOnWriteArrayList<>();
        ConfigWatch watch = admin.store().watch(0, events::add);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                server.verify(getRequestedFor(urlPathEqualTo("/v1/watch"))));

        long start = System.nanoTime();
        watch.close();
        admin.close();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(events).isEmpty();
    }

    @Test
    void clientConnectsAndListsServicesThroughTheAdminApi() {
        server.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":9,\"items\":[" + LB_DOC + "]}")));

        try (MeshClient client = MeshClient.connect(
                MeshConnection.builder(URI.create("http://127.0.0.1:" + server.port())).build())) {
            assertThat(client.ingress()).isEqualTo(URI.create("http://127.0.0.1:8080"));
            assertThat(client.services()).extracting(MeshService::domain).containsExactly("osaka-app");
        }
    }

    @Test
    void refusedConnectionNamesTheUrl() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (MeshAdmin closed = MeshAdmin.connect(MeshConnection.builder(URI.create("http://127.0.0.1:" + closedPort)).build())) {
            assertThatThrownBy(closed::status)
                    .isInstanceOfSatisfying(MeshAdminException.class, e -> {
                        assertThat(e.isTransportFailure()).isTrue();
                        assertThat(e.getMessage()).startsWith("cannot connect to http://127.0.0.1:" + closedPort
                                + "/v1/status: connection refused");
                    });
        }
    }

    @Test
    void rejectsMalformedConnectionSettings() {
        assertThatThrownBy(() -> MeshConnection.builder(URI.create("ftp://host")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("adminUrl: ftp://host (expected:");
        assertThatThrownBy(() -> MeshConnection.builder(URI.create("http://h")).bearerToken("two words"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: non-empty, printable ASCII");
        assertThatThrownBy(() -> MeshConnection.builder(URI.create("http://h")).requestTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("requestTimeout: PT0S (expected: > 0)");
        assertThatThrownBy(() -> MeshConnection.builder(URI.create("http://h")).trustedCertificatesPem("junk").build())
                .isInstanceOf(MeshIdentityException.class).hasMessageStartingWith("trusted certificates:");
        assertThatThrownBy(() -> MeshConnection.builder(URI.create("https://h")).trustedCertificatesPem("x")
                .insecureSkipTlsVerify(true).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("insecureSkipTlsVerify");
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("demo.isthmus.io");
        SiteCredentials tokyo = ca.issueSite("tokyo");
        SiteCredentials osaka = ca.issueSite("osaka");
        assertThatThrownBy(() -> MeshConnection.builder(URI.create("https://h"))
                .clientCredentials(tokyo.certificateChainPem(), osaka.privateKeyPem()).build())
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("does not match the client certificate");
    }

    @Test
    void connectionDescriptionHidesSecrets() {
        MeshConnection connection = MeshConnection.builder(URI.create("https://10.0.0.5:9443/")).bearerToken("s3cret").build();

        assertThat(connection.adminUrl()).isEqualTo(URI.create("https://10.0.0.5:9443"));
        assertThat(connection.ingress()).isEqualTo(URI.create("http://10.0.0.5:8080"));
        assertThat(connection.toString()).contains("bearer token").doesNotContain("s3cret");
    }

    /** The status document of the admin API used by several tests. */
    static final class StatusJson {
        static final String STATUS = "{\"site\":\"tokyo\",\"routerId\":\"tokyo-1\",\"version\":\"0.1.0\","
                + "\"appliedRevision\":41,\"storeRevision\":42,\"state\":\"READY\","
                + "\"tunnels\":[{\"site\":\"osaka\",\"state\":\"UP\",\"peer\":\"spiffe://demo.isthmus.io/site/osaka\","
                + "\"address\":\"127.0.0.1:4443\"}],"
                + "\"routers\":[{\"site\":\"tokyo\",\"routerId\":\"tokyo-1\",\"version\":\"0.1.0\",\"appliedRevision\":41,"
                + "\"lastSeen\":\"2026-11-25T06:30:00Z\"},{\"site\":\"osaka\",\"routerId\":\"osaka-1\",\"version\":\"0.1.0\","
                + "\"appliedRevision\":40,\"lastSeen\":\"2026-11-25T06:29:58Z\"}]}";

        private StatusJson() {}
    }

}
