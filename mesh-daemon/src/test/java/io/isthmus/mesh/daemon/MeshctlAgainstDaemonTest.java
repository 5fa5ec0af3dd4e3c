package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.daemon.cli.Meshctl;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * meshctl against a real daemon whose admin API serves TLS with the site certificate: apply, get,
 * explain, status and delete, and the errors an operator meets first.
 */
@Timeout(120)
class MeshctlAgainstDaemonTest {

    private static final String ADMIN = "admin-token-0123456789abcdef";
    private static final String READER = "reader-token-0123456789abcdef";

    @TempDir
    static Path state;

    static RouterDaemon daemon;
    static WireMockServer origin;

    @BeforeAll
    static void start() throws IOException {
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("hello from the shop")));
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + ADMIN + "\nread-only " + READER + "\n");
        Map<String, String> flags = new java.util.HashMap<>();
        flags.put("site", "tokyo");
        flags.put("routerId", "tokyo-1");
        flags.put("dev.generateCa", "true");
        flags.put("stateDir", state.resolve("tokyo").toString());
        flags.put("ingress.port", "0");
        flags.put("tunnel.port", "0");
        flags.put("admin.port", "0");
        flags.put("tokensFile", tokens.toString());
        flags.put("drain.delay", "0s");
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), flags), List.of());
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
        if (origin != null) {
            origin.stop();
        }
    }

    record Result(int code, String out, String err) {}

    private static Result meshctl(String token, String... args) {
        List<String> all = new ArrayList<>(List.of("--server", "https://127.0.0.1:" + daemon.adminAddress().getPort(),
                "--ca", state.resolve("tokyo/trust-bundle.pem").toString(),
                "--server-identity", "spiffe://dev.isthmus.local/site/tokyo", "--token", token));
        all.addAll(List.of(args));
        return raw(all.toArray(new String[0]));
    }

    private static Result raw(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Meshctl.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of("HOME", state.toString()));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Sends one HTTP/1.1 request to the router's ingress and returns the status line and body. */
    private static String viaIngress(String host, String path) throws IOException {
        InetSocketAddress ingress = daemon.ingressAddress();
        try (Socket socket = new Socket(ingress.getAddress(), ingress.getPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void appliesInspectsExplainsAndDeletesThroughTheAdminApi() throws IOException {
        Path file = state.resolve("shop.yaml");
        Files.writeString(file, "kind: OriginPool\nmetadata: {name: shop-pool}\n"
                + "spec: {site: tokyo, endpoints: [\"127.0.0.1:" + origin.port() + "\"]}\n"
                + "---\nkind: ServicePolicy\nmetadata: {name: shop-policy}\nspec:\n  rules:\n"
                + "    - {name: reads, action: ALLOW, methods: [GET]}\n  defaultAction: DENY\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: shop-app}\n"
                + "spec: {domains: [shop-app], advertiseSites: [tokyo], defaultPool: shop-pool, servicePolicies: [shop-policy]}\n");

        Result applied = meshctl(ADMIN, "apply", "-f", file.toString());
        assertThat(applied.err()).isEmpty();
        assertThat(applied.code()).isZero();
        assertThat(applied.out()).isEqualTo("originpool/default/shop-pool created\n"
                + "servicepolicy/default/shop-policy created\nloadbalancer/default/shop-app created\n");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(viaIngress("shop-app", "/cart")).startsWith("HTTP/1.1 200").contains("hello from the shop"));

        Result again = meshctl(ADMIN, "apply", "-f", file.toString());
        assertThat(again.out()).contains("loadbalancer/default/shop-app unchanged");

        Result get = meshctl(READER, "get", "lb");
        assertThat(get.code()).isZero();
        assertThat(get.out()).startsWith("NAMESPACE   NAME").contains("shop-app").contains("shop-pool");

        Result explain = meshctl(READER, "explain", "--host", "shop-app", "--method", "POST", "--path", "/cart");
        assertThat(explain.code()).isZero();
        assertThat(explain.out()).startsWith("DENIED: POST shop-app/cart").contains("policy: default/shop-policy");
        Result allowed = meshctl(READER, "explain", "--host", "shop-app", "--method", "GET", "--path", "/cart");
        assertThat(allowed.out()).startsWith("ALLOWED: GET shop-app/cart").contains("rule:   reads");

        Result status = meshctl(READER, "status");
        assertThat(status.code()).isZero();
        assertThat(status.out()).contains("tokyo");

        Result readerWrite = meshctl(READER, "delete", "lb", "shop-app");
        assertThat(readerWrite.code()).isEqualTo(4);

        Result deleted = meshctl(ADMIN, "delete", "lb", "shop-app");
        assertThat(deleted.code()).isZero();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(viaIngress("shop-app", "/cart")).startsWith("HTTP/1.1 404"));
        assertThat(meshctl(READER, "get", "lb", "shop-app").code()).isEqualTo(1);
    }

    @Test
    void refusesAnInvalidDocumentWithItsFieldPathAndWritesNothing() throws IOException {
        Path file = state.resolve("bad.yaml");
        Files.writeString(file, "kind: LoadBalancer\nmetadata: {name: bad-app}\n"
                + "spec: {domains: [bad-app], advertiseSites: [tokyo], defaultPool: no-such-pool}\n");

        Result result = meshctl(ADMIN, "apply", "-f", file.toString());

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).contains("loadBalancers[bad-app].defaultPool").contains("no-such-pool");
        assertThat(meshctl(READER, "get", "lb", "bad-app").code()).isEqualTo(1);
    }

    @Test
    void checksTheDaemonsMeshIdentity() {
        String server = "https://127.0.0.1:" + daemon.adminAddress().getPort();
        String bundle = state.resolve("tokyo/trust-bundle.pem").toString();

        Result byHostName = raw("--server", server, "--ca", bundle, "--token", READER, "status");
        Result wrongSite = raw("--server", server, "--ca", bundle, "--token", READER,
                "--server-identity", "spiffe://dev.isthmus.local/site/osaka", "status");

        assertThat(byHostName.code()).isEqualTo(3);
        assertThat(byHostName.err()).contains("hostname mismatch");
        assertThat(wrongSite.code()).isEqualTo(3);
        assertThat(wrongSite.err()).contains("server identity spiffe://dev.isthmus.local/site/tokyo (expected: "
                + "spiffe://dev.isthmus.local/site/osaka)");
    }
}
