package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The admin API of a daemon on the embedded store, over plain HTTP on loopback, with bearer tokens. */
class AdminApiTest {

    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String READER = "reader-token-0123456789abcdef";
    static final String JSON = "application/json";
    static final String YAML = "application/yaml";

    @TempDir
    static Path state;

    static RouterDaemon daemon;
    static Http admin;

    @BeforeAll
    static void start() throws IOException {
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "# role token\nadmin " + ADMIN + "\nread-only " + READER + "\n");
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), settings(state, tokens)), java.util.List.of());
        admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), ADMIN);
    }

    static Map<String, String> settings(Path stateDir, Path tokens) {
        Map<String, String> flags = new HashMap<>();
        flags.put("site", "tokyo");
        flags.put("routerId", "tokyo-1");
        flags.put("dev.generateCa", "true");
        flags.put("stateDir", stateDir.toString());
        flags.put("ingress.port", "0");
        flags.put("tunnel.port", "0");
        flags.put("admin.port", "0");
        flags.put("admin.tls.enabled", "false");
        flags.put("tokensFile", tokens.toString());
        flags.put("drain.delay", "0s");
        flags.put("admin.watchHeartbeat", "300ms");
        return flags;
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    static String pool(String name, String site) {
        return "{\"kind\":\"OriginPool\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"default\"},"
                + "\"spec\":{\"site\":\"" + site + "\",\"endpoints\":[\"127.0.0.1:9\"]}}";
    }

    @Test
    void healthReadinessAndMetricsNeedNoCredentials() {
        Http anonymous = admin.withToken(null);
        assertThat(anonymous.get("/healthz").statusCode()).isEqualTo(200);
        assertThat(anonymous.get("/healthz").body()).isEqualTo("ok\n");
        assertThat(anonymous.get("/readyz").statusCode()).isEqualTo(200);
        HttpResponse<String> metrics = anonymous.get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
        assertThat(metrics.body()).contains("isthmus_daemon_ready{site=\"tokyo\"} 1.0").contains("jvm_memory_used_bytes");
    }

    @Test
    void rejectsMissingOrInvalidTokensWith401() {
        HttpResponse<String> none = admin.withToken(null).get("/v1/sites");
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(Http.json(none).path("error").asString()).startsWith("authentication required");
        assertThat(admin.withToken("wrong-token-0123456789abcdef").get("/v1/sites").statusCode()).isEqualTo(401);
    }

    @Test
    void readOnlyTokenMayReadButNotWrite() {
        Http reader = admin.withToken(READER);
        assertThat(reader.get("/v1/originpools").statusCode()).isEqualTo(200);
        assertThat(reader.get("/v1/status").statusCode()).isEqualTo(200);
        HttpResponse<String> write = reader.put("/v1/originpools/default/ro-pool", JSON, pool("ro-pool", "tokyo"), null);
        assertThat(write.statusCode()).isEqualTo(403);
        assertThat(Http.json(write).path("error").asString()).contains("expected role: admin");
        assertThat(daemon.store().get(ObjectKey.of(Kind.ORIGIN_POOL, "default", "ro-pool"))).isEmpty();
    }

    @Test
    void createsReadsUpdatesListsAndDeletesAnObject() {
        HttpResponse<String> created = admin.put("/v1/originpools/default/crud-pool", JSON, pool("crud-pool", "osaka"), null);
        assertThat(created.statusCode()).isEqualTo(201);
        String rv = Http.json(created).path("metadata").path("resourceVersion").asString();
        assertThat(Long.parseLong(rv)).isPositive();

        HttpResponse<String> read = admin.get("/v1/originpools/default/crud-pool");
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(Http.json(read).path("spec").path("site").asString()).isEqualTo("osaka");
        assertThat(Http.json(read).path("metadata").path("resourceVersion").asString()).isEqualTo(rv);

        String yaml = "kind: OriginPool\nmetadata:\n  name: crud-pool\n  namespace: default\nspec:\n  site: kyoto\n"
                + "  endpoints: [\"127.0.0.1:10\"]\n";
        HttpResponse<String> updated = admin.put("/v1/originpools/default/crud-pool", YAML, yaml, null);
        assertThat(updated.statusCode()).isEqualTo(200);
        assertThat(Http.json(updated).path("spec").path("site").asString()).isEqualTo("kyoto");

        JsonNode list = Http.json(admin.get("/v1/originpools?namespace=default"));
        assertThat(list.path("revision").asLong()).isGreaterThanOrEqualTo(Long.parseLong(rv));
        assertThat(list.path("items").valueStream().map(i -> i.path("metadata").path("name").asString()))
                .contains("crud-pool");
        assertThat(Http.json(admin.get("/v1/originpools?namespace=other")).path("items").size()).isZero();

        HttpResponse<String> deleted = admin.delete("/v1/originpools/default/crud-pool", null);
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(Http.json(deleted).path("deleted").path("metadata").path("name").asString()).isEqualTo("crud-pool");
        assertThat(admin.get("/v1/originpools/default/crud-pool").statusCode()).isEqualTo(404);
        assertThat(admin.delete("/v1/originpools/default/crud-pool", null).statusCode()).isEqualTo(404);
    }

    @Test
    void rejectsAnInvalidObjectWith422NamingTheField() {
        String bad = "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"bad-lb\"},"
                + "\"spec\":{\"domains\":[\"ok.example\",\"Bad Domain\"],\"advertiseSites\":[\"tokyo\"],\"defaultPool\":\"p\"}}";
        HttpResponse<String> response = admin.put("/v1/loadbalancers/default/bad-lb", JSON, bad, null);
        assertThat(response.statusCode()).isEqualTo(422);
        JsonNode body = Http.json(response);
        assertThat(body.path("field").asString()).isEqualTo("loadBalancers[bad-lb].domains[1]");
        assertThat(body.path("value").asString()).isEqualTo("Bad Domain");
        assertThat(body.path("error").asString()).startsWith("loadBalancers[bad-lb].domains[1]: ");
        assertThat(daemon.store().get(ObjectKey.of(Kind.LOAD_BALANCER, "default", "bad-lb"))).isEmpty();

        HttpResponse<String> unknownField = admin.put("/v1/originpools/default/p2", JSON,
                pool("p2", "tokyo").replace("\"site\"", "\"sight\""), null);
        assertThat(unknownField.statusCode()).isEqualTo(422);
        assertThat(Http.json(unknownField).path("field").asString()).isEqualTo("originPools[p2].spec.sight");
    }

    @Test
    void answersBadRequestsWithSpecificErrors() {
        HttpResponse<String> malformed = admin.put("/v1/originpools/default/x", JSON, "{\"kind\": ", null);
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(Http.json(malformed).path("error").asString()).startsWith("malformed JSON");

        HttpResponse<String> mismatch = admin.put("/v1/originpools/default/other-name", JSON, pool("x", "tokyo"), null);
        assertThat(mismatch.statusCode()).isEqualTo(400);
        assertThat(Http.json(mismatch).path("error").asString()).contains("the path names OriginPool/default/other-name");

        HttpResponse<String> type = admin.put("/v1/originpools/default/x", "text/plain", pool("x", "tokyo"), null);
        assertThat(type.statusCode()).isEqualTo(415);

        HttpResponse<String> kind = admin.get("/v1/foo");
        assertThat(kind.statusCode()).isEqualTo(404);
        assertThat(Http.json(kind).path("error").asString())
                .isEqualTo("unknown kind \"foo\" (expected: one of sites, loadbalancers, originpools, servicepolicies, "
                        + "networkfirewalls)");

        HttpResponse<String> method = admin.post("/v1/originpools/default/x", JSON, pool("x", "tokyo"));
        assertThat(method.statusCode()).isEqualTo(405);
        assertThat(method.headers().firstValue("Allow")).hasValue("GET, PUT, DELETE");
        assertThat(Http.json(method).has("error")).isTrue();
    }

    @Test
    void compareAndSetConflictsWith409AndTheCurrentVersion() {
        String rv1 = Http.json(admin.put("/v1/originpools/default/cas-pool", JSON, pool("cas-pool", "tokyo"), null))
                .path("metadata").path("resourceVersion").asString();
        String rv2 = Http.json(admin.put("/v1/originpools/default/cas-pool", JSON, pool("cas-pool", "osaka"),
                "\"" + rv1 + "\"")).path("metadata").path("resourceVersion").asString();
        assertThat(Long.parseLong(rv2)).isGreaterThan(Long.parseLong(rv1));

        HttpResponse<String> stale = admin.put("/v1/originpools/default/cas-pool", JSON, pool("cas-pool", "kyoto"),
                "\"" + rv1 + "\"");
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(Http.json(stale).path("currentResourceVersion").asString()).isEqualTo(rv2);

        String withVersion = pool("cas-pool", "kyoto").replace("\"namespace\":\"default\"",
                "\"namespace\":\"default\",\"resourceVersion\":\"" + rv1 + "\"");
        assertThat(admin.put("/v1/originpools/default/cas-pool", JSON, withVersion, null).statusCode()).isEqualTo(409);
        assertThat(admin.delete("/v1/originpools/default/cas-pool", "\"" + rv1 + "\"").statusCode()).isEqualTo(409);
        assertThat(admin.get("/v1/originpools/default/cas-pool").body()).contains("\"osaka\"");
        assertThat(admin.delete("/v1/originpools/default/cas-pool", "\"" + rv2 + "\"").statusCode()).isEqualTo(200);
    }

    @Test
    void appliesSeveralDocumentsOrNoneWhenOneIsInvalid() {
        String docs = "kind: OriginPool\nmetadata: {name: apply-pool}\nspec: {site: tokyo, endpoints: [\"127.0.0.1:9\"]}\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: apply-lb}\n"
                + "spec: {domains: [apply.example], advertiseSites: [tokyo], defaultPool: apply-pool}\n";
        HttpResponse<String> first = admin.post("/v1/apply", YAML, docs);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(Http.json(first).path("results").valueStream().map(r -> r.path("action").asString()))
                .containsExactly("created", "created");
        assertThat(Http.json(first).path("results").get(1).path("namespace").asString()).isEqualTo("default");
        HttpResponse<String> again = admin.post("/v1/apply", YAML, docs);
        assertThat(Http.json(again).path("results").valueStream().map(r -> r.path("action").asString()))
                .containsExactly("unchanged", "unchanged");

        String oneBad = "[" + pool("apply-pool-2", "tokyo") + "," + pool("Bad_Name", "tokyo") + "]";
        HttpResponse<String> bad = admin.post("/v1/apply", JSON, oneBad);
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(Http.json(bad).path("error").asString()).startsWith("document 2: ");
        assertThat(daemon.store().get(ObjectKey.of(Kind.ORIGIN_POOL, "default", "apply-pool-2"))).isEmpty();

        assertThat(admin.post("/v1/apply", YAML, "kind: [unclosed").statusCode()).isEqualTo(400);
    }

    @Test
    void watchStreamsChangesAfterTheGivenRevision() throws Exception {
        long from = Http.json(admin.get("/v1/originpools")).path("revision").asLong();
        HttpResponse<InputStream> stream = admin.client().sendAsync(
                        admin.builder("/v1/watch?fromRevision=" + from + "&kind=originpools").GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream())
                .get(10, TimeUnit.SECONDS);
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(stream.headers().firstValue("Content-Type")).hasValue("application/x-ndjson");
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            admin.put("/v1/loadbalancers/default/watch-lb", JSON, "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":"
                    + "\"watch-lb\"},\"spec\":{\"domains\":[\"w.example\"],\"advertiseSites\":[\"tokyo\"],"
                    + "\"defaultPool\":\"watch-pool\"}}", null);
            admin.put("/v1/originpools/default/watch-pool", JSON, pool("watch-pool", "tokyo"), null);
            admin.delete("/v1/originpools/default/watch-pool", null);
            JsonNode put = nextEvent(lines);
            assertThat(put.path("type").asString()).isEqualTo("PUT");
            assertThat(put.path("revision").asLong()).isGreaterThan(from);
            assertThat(put.path("object").path("metadata").path("name").asString()).isEqualTo("watch-pool");
            JsonNode delete = nextEvent(lines);
            assertThat(delete.path("type").asString()).isEqualTo("DELETE");
            assertThat(delete.path("object").path("kind").asString()).isEqualTo("OriginPool");
        }
    }

    /** Returns the next line that is not a heartbeat; at most 100 lines are skipped. */
    private static JsonNode nextEvent(BufferedReader lines) throws Exception {
        for (int i = 0; i < 100; i++) {
            JsonNode line = Http.JSON.readTree(readLine(lines));
            if (!line.path("type").asString().equals("HEARTBEAT")) {
                return line;
            }
        }
        throw new AssertionError("100 heartbeats and no event");
    }

    @Test
    void watchSendsHeartbeatsWhileNothingChanges() throws Exception {
        long now = Http.json(admin.get("/v1/sites")).path("revision").asLong();
        HttpResponse<InputStream> stream = admin.client().sendAsync(
                        admin.builder("/v1/watch?kind=sites").GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream())
                .get(10, TimeUnit.SECONDS);
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
            JsonNode heartbeat = Http.JSON.readTree(readLine(lines));
            assertThat(heartbeat.path("type").asString()).isEqualTo("HEARTBEAT");
            assertThat(heartbeat.path("revision").asLong()).isGreaterThanOrEqualTo(now);
        }
        assertThat(admin.withToken(READER).get("/v1/watch?fromRevision=-1").statusCode()).isEqualTo(400);
    }

    private static String readLine(BufferedReader lines) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return lines.readLine();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void reportsStatusWithAppliedRevision() {
        long rv = Http.json(admin.put("/v1/originpools/default/status-pool", JSON, pool("status-pool", "tokyo"), null))
                .path("metadata").path("resourceVersion").asLong();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode status = Http.json(admin.get("/v1/status"));
            assertThat(status.path("site").asString()).isEqualTo("tokyo");
            assertThat(status.path("routerId").asString()).isEqualTo("tokyo-1");
            assertThat(status.path("state").asString()).isEqualTo("READY");
            assertThat(status.path("version").asString()).isNotBlank();
            assertThat(status.path("appliedRevision").asLong()).isGreaterThanOrEqualTo(rv);
            assertThat(status.path("routers").get(0).path("routerId").asString()).isEqualTo("tokyo-1");
            assertThat(status.path("tunnels").isArray()).isTrue();
        });
        // The last-good file follows the applied configuration.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Files.readString(state.resolve("last-good.yaml"))).contains("name: status-pool"));
    }

    @Test
    void appliesALoadBalancerBeforeItsPoolInOneRequestAndRefusesADanglingReferenceWhole() {
        String lbFirst = "kind: LoadBalancer\nmetadata: {name: order-app}\n"
                + "spec: {domains: [order-app], advertiseSites: [tokyo], defaultPool: order-pool}\n"
                + "---\nkind: OriginPool\nmetadata: {name: order-pool}\nspec: {site: osaka, endpoints: [\"127.0.0.1:9\"]}\n";
        HttpResponse<String> applied = admin.post("/v1/apply", YAML, lbFirst);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        JsonNode results = Http.json(applied).path("results");
        assertThat(results.get(0).path("name").asString()).isEqualTo("order-app");
        assertThat(results.get(1).path("name").asString()).isEqualTo("order-pool");

        String dangling = "kind: OriginPool\nmetadata: {name: lonely-pool}\nspec: {site: osaka, endpoints: [\"127.0.0.1:9\"]}\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: lonely-app}\n"
                + "spec: {domains: [lonely-app], advertiseSites: [tokyo], defaultPool: missing-pool}\n";
        HttpResponse<String> refused = admin.post("/v1/apply", YAML, dangling);
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(Http.json(refused).path("field").asString()).isEqualTo("loadBalancers[lonely-app].defaultPool");
        assertThat(admin.get("/v1/originpools/default/lonely-pool").statusCode()).isEqualTo(404);
    }

    @Test
    void explainsWhichPolicyAndRuleDecideARequest() {
        String docs = "kind: OriginPool\nmetadata: {name: explain-pool}\nspec: {site: osaka, endpoints: [\"127.0.0.1:9\"]}\n"
                + "---\nkind: ServicePolicy\nmetadata: {name: explain-policy}\nspec:\n  rules:\n"
                + "    - {name: tokyo-reads, action: ALLOW, sourceSites: [tokyo], methods: [GET]}\n"
                + "  defaultAction: DENY\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: explain-app}\nspec: {domains: [explain-app], "
                + "advertiseSites: [tokyo], defaultPool: explain-pool, servicePolicies: [explain-policy]}\n";
        assertThat(admin.post("/v1/apply", YAML, docs).statusCode()).isEqualTo(200);
        Http reader = admin.withToken(READER);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> allowed = reader.post("/v1/explain", JSON,
                    "{\"host\":\"explain-app\",\"method\":\"GET\",\"path\":\"/x\",\"sourceSite\":\"tokyo\"}");
            assertThat(allowed.statusCode()).isEqualTo(200);
            JsonNode decision = Http.json(allowed);
            assertThat(decision.path("allowed").asBoolean()).isTrue();
            assertThat(decision.path("policy").asString()).isEqualTo("default/explain-policy");
            assertThat(decision.path("rule").asString()).isEqualTo("tokyo-reads");
            assertThat(decision.path("trace").size()).isPositive();
        });

        JsonNode denied = Http.json(reader.post("/v1/explain", JSON,
                "{\"loadBalancer\":\"default/explain-app\",\"method\":\"POST\",\"path\":\"/x\",\"sourceSite\":\"tokyo\"}"));
        assertThat(denied.path("allowed").asBoolean()).isFalse();
        assertThat(denied.path("rule").isNull()).isTrue();

        HttpResponse<String> unknownHost = reader.post("/v1/explain", JSON, "{\"host\":\"nowhere-app\"}");
        assertThat(unknownHost.statusCode()).isEqualTo(400);
        assertThat(Http.json(unknownHost).path("error").asString())
                .contains("host: \"nowhere-app\" (expected: a domain of a load balancer advertised at site tokyo)");
        HttpResponse<String> badIp = reader.post("/v1/explain", JSON, "{\"host\":\"explain-app\",\"clientIp\":\"osaka\"}");
        assertThat(badIp.statusCode()).isEqualTo(400);
        assertThat(Http.json(badIp).path("error").asString()).contains("clientIp: \"osaka\" (expected: an IPv4 or IPv6 address)");
    }

    @Test
    void writesItsBoundAddressesToTheStateDirectory() throws IOException {
        JsonNode addresses = Http.JSON.readTree(Files.readString(state.resolve("addresses.json")));
        assertThat(addresses.path("admin").asString()).isEqualTo("http://127.0.0.1:" + daemon.adminAddress().getPort());
        assertThat(addresses.path("ingress").asString()).isEqualTo("127.0.0.1:" + daemon.ingressAddress().getPort());
        assertThat(addresses.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
    }
}
