package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.daemon.cli.Meshctl;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.testing.EtcdProcess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The whole platform in separate processes: a real etcd, the daemons of tokyo and osaka each in its
 * own JVM (started with {@link DaemonMain} like {@code java -jar isthmus-daemon.jar}), and an origin at
 * osaka (WireMock). The load balancer is created through tokyo's admin API; a request entering at
 * tokyo reaches osaka's origin; when osaka's daemon is killed with SIGKILL, tokyo answers 503 at once;
 * when osaka comes back on new ports, traffic recovers without touching tokyo; SIGTERM drains tokyo.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TokyoOsakaProcessesTest {

    private static final String TOKEN = "e2e-admin-token-0123456789";

    @TempDir
    Path dir;

    private EtcdProcess etcd;
    private WireMockServer origin;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        etcd = EtcdProcess.started();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(get(urlEqualTo("/orders?id=42"))
                .willReturn(aResponse().withStatus(200).withBody("Hello from Osaka's origin")));
    }

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
        origin.stop();
        etcd.close();
    }

    /** Writes a site's credentials and settings; the site itself comes from the environment (ISTHMUS_SITE). */
    private Path configure(MeshCertificateAuthority ca, String site, String drainDelay) throws IOException {
        Path state = Files.createDirectories(dir.resolve(site));
        SiteCredentials credentials = ca.issueSite(site);
        Files.writeString(state.resolve("site.pem"), credentials.certificateChainPem());
        Files.writeString(state.resolve("site-key.pem"), credentials.privateKeyPem());
        Files.writeString(state.resolve("trust-bundle.pem"), ca.trustBundle().toPem());
        Files.writeString(state.resolve("tokens"), "admin " + TOKEN + "\n");
        Path config = state.resolve("daemon.yaml");
        Files.writeString(config, String.join("\n",
                "routerId: " + site + "-1",
                "trustDomain: mesh.test",
                "credentials:",
                "  certificateChain: " + state.resolve("site.pem"),
                "  privateKey: " + state.resolve("site-key.pem"),
                "  trustBundle: " + state.resolve("trust-bundle.pem"),
                "ingress: {address: 127.0.0.1, port: 0}",
                "tunnel: {address: 127.0.0.1, port: 0}",
                "admin: {address: 127.0.0.1, port: 0, tls: {enabled: false}}",
                "tokensFile: " + state.resolve("tokens"),
                "etcd:",
                "  endpoints: [" + etcd.endpoint() + "]",
                "  requestTimeout: 2s",
                "stateDir: " + state,
                "storeCheckInterval: 500ms",
                "siteLeaseTtl: 5s",
                "drain: {delay: " + drainDelay + ", timeout: 10s}",
                ""));
        return config;
    }

    /** A started daemon process and the addresses it reported. */
    private static final class Daemon {
        final Process process;
        final Path state;
        final String adminUrl;
        final Http admin;
        final InetSocketAddress ingress;

        Daemon(Process process, Path state, JsonNode addresses) {
            this.process = process;
            this.state = state;
            this.adminUrl = addresses.path("admin").asString();
            this.admin = new Http(adminUrl, TOKEN);
            String[] ingress = addresses.path("ingress").asString().split(":");
            this.ingress = new InetSocketAddress(ingress[0], Integer.parseInt(ingress[1]));
        }
    }

    private Daemon launch(String site, Path config) throws IOException {
        Path state = config.getParent();
        Files.deleteIfExists(state.resolve("addresses.json"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), DaemonMain.class.getName(), "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(state.resolve("daemon.log").toFile()));
        builder.environment().put("ISTHMUS_SITE", site);
        Process process = builder.start();
        processes.add(process);
        JsonNode addresses = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .failFast(() -> !process.isAlive())
                .until(() -> readAddresses(state, process.pid()), a -> a != null);
        Daemon daemon = new Daemon(process, state, addresses);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(daemon.admin.get("/readyz").statusCode()).isEqualTo(200));
        return daemon;
    }

    private static @Nullable JsonNode readAddresses(Path state, long pid) {
        Path file = state.resolve("addresses.json");
        try {
            if (!Files.exists(file)) {
                return null;
            }
            JsonNode addresses = Http.JSON.readTree(Files.readString(file, UTF_8));
            return addresses.path("pid").asLong() == pid ? addresses : null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static HttpResponse<String> call(InetSocketAddress ingress) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(ingress)).connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create("http://osaka-app/orders?id=42"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String logs(Daemon... daemons) {
        StringBuilder out = new StringBuilder();
        for (Daemon d : daemons) {
            try {
                out.append("\n--- ").append(d.state.getFileName()).append(" daemon.log\n")
                        .append(Files.readString(d.state.resolve("daemon.log"), UTF_8));
            } catch (IOException e) {
                out.append(e);
            }
        }
        return out.toString();
    }

    @Test
    void requestAtTokyoReachesOsakaFailsFastWhenOsakaDiesAndRecoversWhenItReturns() throws Exception {
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.test");
        Path tokyoConfig = configure(ca, "tokyo", "1s");
        Path osakaConfig = configure(ca, "osaka", "0s");
        Daemon tokyo = launch("tokyo", tokyoConfig);
        Daemon osaka = launch("osaka", osakaConfig);
        try {
            // The load balancer is created with meshctl apply against tokyo's admin API.
            Path docs = Files.writeString(tokyo.state.resolve("osaka-app.yaml"), "kind: OriginPool\n"
                    + "metadata: {name: osaka-pool}\n"
                    + "spec: {site: osaka, endpoints: [\"127.0.0.1:" + origin.port() + "\"]}\n"
                    + "---\nkind: LoadBalancer\nmetadata: {name: osaka-app}\n"
                    + "spec: {domains: [osaka-app], advertiseSites: [tokyo], defaultPool: osaka-pool}\n");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int exit = Meshctl.run(new String[] {"--server", tokyo.adminUrl, "--token", TOKEN, "apply", "-f", docs.toString()},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                    Map.of("HOME", tokyo.state.toString()));
            assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8))
                    .isEqualTo("originpool/default/osaka-pool created\nloadbalancer/default/osaka-app created\n");
            long revision = Http.json(tokyo.admin.get("/v1/loadbalancers/default/osaka-app"))
                    .path("metadata").path("resourceVersion").asLong();

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                HttpResponse<String> response = call(tokyo.ingress);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(response.body()).isEqualTo("Hello from Osaka's origin");
            });

            // Both routers record their version and applied revision in etcd; each sees the other.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                JsonNode status = Http.json(osaka.admin.get("/v1/status"));
                assertThat(status.path("state").asString()).isEqualTo("READY");
                assertThat(status.path("appliedRevision").asLong()).isGreaterThanOrEqualTo(revision);
                assertThat(status.path("routers").valueStream().map(r -> r.path("routerId").asString()))
                        .containsExactly("osaka-1", "tokyo-1");
                assertThat(status.path("routers").get(1).path("appliedRevision").asLong()).isGreaterThanOrEqualTo(revision);
            });
            JsonNode tokyoStatus = Http.json(tokyo.admin.get("/v1/status"));
            assertThat(tokyoStatus.path("tunnels").valueStream()
                    .filter(t -> t.path("site").asString().equals("osaka")).findFirst().orElseThrow()
                    .path("state").asString()).isEqualTo("UP");

            // kill -9 osaka's daemon: tokyo answers 503 at once instead of hanging.
            osaka.process.destroyForcibly();
            assertThat(osaka.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            long start = System.nanoTime();
            HttpResponse<String> failed = call(tokyo.ingress);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(failed.statusCode()).as(failed.body()).isEqualTo(503);
            assertThat(millis).as("time to fail").isLessThan(3000);
            System.out.printf("osaka killed: tokyo answered %d in %d ms: %s%n", failed.statusCode(), millis,
                    failed.body().strip());

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(Http.json(tokyo.admin.get("/v1/status")).path("tunnels").valueStream()
                            .filter(t -> t.path("site").asString().equals("osaka"))
                            .map(t -> t.path("state").asString())).doesNotContain("UP"));

            // Osaka comes back on new ports; tokyo follows its new site record by itself.
            Daemon osaka2 = launch("osaka", osakaConfig);
            long restarted = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                HttpResponse<String> response = call(tokyo.ingress);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            });
            System.out.printf("osaka restarted: traffic recovered %d ms after it was ready%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted));
            assertThat(Http.json(osaka2.admin.get("/v1/status")).path("state").asString()).isEqualTo("READY");

            // SIGTERM drains tokyo: readiness goes 503 first, then the process exits.
            tokyo.process.destroy();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).ignoreExceptions().untilAsserted(() ->
                    assertThat(tokyo.admin.get("/readyz").body()).contains("draining"));
            assertThat(tokyo.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(tokyo.state.resolve("daemon.log"))).contains("stopped");
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(e.getMessage() + logs(tokyo, osaka), e);
        }
    }
}
