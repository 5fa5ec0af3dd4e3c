package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.daemon.cli.Meshctl;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.pki.TrustBundle;
import io.isthmus.mesh.testing.EtcdProcess;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new site joins with a token, end to end in one JVM: the CA daemon {@code tokyo} (development CA,
 * admin API over TLS), {@code meshctl token create kyoto}, a daemon {@code kyoto} started with the
 * printed command line, and a request entering at tokyo served by an origin at kyoto through the
 * tunnel. Both daemons share a real etcd.
 */
class JoinSiteEndToEndTest {

    private static final String TRUST_DOMAIN = "dev.isthmus.local";

    @TempDir
    Path dir;

    private EtcdProcess etcd;
    private WireMockServer origin;
    private RouterDaemon tokyo;
    private RouterDaemon kyoto;

    @BeforeEach
    void setUp() {
        etcd = EtcdProcess.started();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(get(urlEqualTo("/orders?id=42")).willReturn(aResponse().withStatus(200)
                .withBody("order 42 from kyoto")));
    }

    @AfterEach
    void tearDown() {
        if (kyoto != null) {
            kyoto.close();
        }
        if (tokyo != null) {
            tokyo.close();
        }
        origin.stop();
        etcd.close();
    }

    private Map<String, String> common(String site) throws Exception {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        Map<String, String> flags = AdminApiTest.settings(dir.resolve(site), tokens);
        flags.put("site", site);
        flags.put("routerId", site + "-1");
        flags.put("etcd.endpoints", etcd.endpoint().toString());
        flags.put("storeCheckInterval", "200ms");
        flags.put("siteLeaseTtl", "5s");
        return flags;
    }

    private record Run(int code, String out, String err) {}

    private Run meshctl(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Map<String, String> env = Map.of("HOME", dir.resolve("home").toString());
        int code = Meshctl.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                env);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Turns the printed daemon command line into settings, the way {@code DaemonMain} reads its flags. */
    private static Map<String, String> settingsOf(String commandLine) {
        List<String> words = Arrays.asList(commandLine.replace("\\\n", " ").trim().split("\\s+"));
        assertThat(words.subList(0, 3)).containsExactly("java", "-jar", "isthmus-daemon.jar");
        Map<String, String> byFlag = new HashMap<>();
        for (String setting : DaemonConfig.settings()) {
            byFlag.put(DaemonConfig.flagName(setting), setting);
        }
        Map<String, String> settings = new HashMap<>();
        for (int i = 3; i < words.size(); i += 2) {
            String setting = byFlag.get(words.get(i));
            assertThat(setting).as("flag %s of %s", words.get(i), commandLine).isNotNull();
            settings.put(setting, words.get(i + 1));
        }
        return settings;
    }

    private static HttpResponse<String> viaIngress(InetSocketAddress ingress, String url) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(ingress)).connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aSiteJoinsWithATokenFromMeshctlAndServesRequestsEnteringAtTheCaSite() throws Exception {
        Map<String, String> tokyoFlags = common("tokyo");
        tokyoFlags.put("dev.generateCa", "true");
        tokyoFlags.put("admin.tls.enabled", "true");
        tokyo = RouterDaemon.start(DaemonConfig.load(null, Map.of(), tokyoFlags), List.of());
        Path caBundle = dir.resolve("tokyo/trust-bundle.pem");
        String adminUrl = "https://127.0.0.1:" + tokyo.adminAddress().getPort();
        String[] connection = {"--server", adminUrl, "--ca", caBundle.toString(),
            "--server-identity", "spiffe://" + TRUST_DOMAIN + "/site/tokyo", "--token", AdminApiTest.ADMIN};

        Run created = meshctl("", concat(connection, "token", "create", "kyoto", "--ttl", "10m"));

        assertThat(created.code()).as(created.err()).isZero();
        List<String> lines = created.out().lines().toList();
        String token = lines.get(0);
        assertThat(token).matches("[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}");
        int start = created.out().indexOf("java -jar isthmus-daemon.jar");
        assertThat(start).as(created.out()).isPositive();
        Map<String, String> printed = settingsOf(created.out().substring(start));
        assertThat(printed).containsEntry("site", "kyoto").containsEntry("trustDomain", TRUST_DOMAIN)
                .containsEntry("join.token", token).containsEntry("join.server", adminUrl)
                .containsEntry("join.caBundle", caBundle.toString())
                .containsEntry("join.serverIdentity", "spiffe://" + TRUST_DOMAIN + "/site/tokyo");

        Map<String, String> kyotoFlags = common("kyoto");
        kyotoFlags.remove("dev.generateCa");
        kyotoFlags.putAll(printed);
        kyoto = RouterDaemon.start(DaemonConfig.load(null, Map.of(), kyotoFlags), List.of());

        Path kyotoState = dir.resolve("kyoto");
        SiteCredentials joined = SiteCredentials.fromFiles(TRUST_DOMAIN, kyotoState.resolve("site.pem"),
                kyotoState.resolve("site-key.pem"), kyotoState.resolve("trust-bundle.pem"));
        assertThat(joined.spiffeId()).isEqualTo(SpiffeId.parse("spiffe://dev.isthmus.local/site/kyoto"));
        TrustBundle tokyoBundle = TrustBundle.fromPem(TRUST_DOMAIN, Files.readString(caBundle));
        assertThat(tokyoBundle.verify(joined.certificateChain())).isEqualTo(joined.spiffeId());
        assertThat(Files.getPosixFilePermissions(kyotoState.resolve("site-key.pem")))
                .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));

        String docs = "kind: OriginPool\nmetadata: {name: kyoto-pool}\n"
                + "spec: {site: kyoto, endpoints: [\"127.0.0.1:" + origin.port() + "\"]}\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: kyoto-app}\n"
                + "spec: {domains: [kyoto-app], advertiseSites: [tokyo], defaultPool: kyoto-pool}\n";
        Run applied = meshctl(docs, concat(connection, "apply", "-f", "-"));
        assertThat(applied.code()).as(applied.err()).isZero();

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> routed = viaIngress(tokyo.ingressAddress(), "http://kyoto-app/orders?id=42");
            assertThat(routed.statusCode()).as(routed.body()).isEqualTo(200);
            assertThat(routed.body()).isEqualTo("order 42 from kyoto");
        });

        // The token is used up; a restart of kyoto uses the credentials it keeps in its state directory.
        String chain = Files.readString(kyotoState.resolve("site.pem"));
        kyoto.close();
        kyoto = null;
        kyoto = RouterDaemon.start(DaemonConfig.load(null, Map.of(), kyotoFlags), List.of());
        assertThat(Files.readString(kyotoState.resolve("site.pem"))).isEqualTo(chain);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> routed = viaIngress(tokyo.ingressAddress(), "http://kyoto-app/orders?id=42");
            assertThat(routed.statusCode()).as(routed.body()).isEqualTo(200);
            assertThat(routed.body()).isEqualTo("order 42 from kyoto");
        });
    }

    @Test
    void aDaemonWithAnUsedTokenAndNoStoredCredentialsDoesNotStart() throws Exception {
        Map<String, String> tokyoFlags = common("tokyo");
        tokyoFlags.put("dev.generateCa", "true");
        tokyo = RouterDaemon.start(DaemonConfig.load(null, Map.of(), tokyoFlags), List.of());
        String adminUrl = "http://127.0.0.1:" + tokyo.adminAddress().getPort();
        Run created = meshctl("", "--server", adminUrl, "--token", AdminApiTest.ADMIN, "token", "create", "kyoto");
        assertThat(created.code()).as(created.err()).isZero();
        String token = created.out().lines().findFirst().orElseThrow();

        Map<String, String> first = common("kyoto");
        first.remove("dev.generateCa");
        first.put("trustDomain", TRUST_DOMAIN);
        first.put("join.token", token);
        first.put("join.server", adminUrl);
        kyoto = RouterDaemon.start(DaemonConfig.load(null, Map.of(), first), List.of());
        kyoto.close();
        kyoto = null;

        Map<String, String> elsewhere = new HashMap<>(first);
        elsewhere.put("stateDir", dir.resolve("kyoto-elsewhere").toString());
        DaemonConfig config = DaemonConfig.load(null, Map.of(), elsewhere);
        assertThatThrownBy(() -> RouterDaemon.start(config, List.of()))
                .hasMessageContaining("HTTP 401 invalid token")
                .hasMessageContaining("meshctl token create kyoto");
        assertThat(dir.resolve("kyoto-elsewhere/site-key.pem")).doesNotExist();
    }

    private static String[] concat(String[] first, String... rest) {
        String[] all = Arrays.copyOf(first, first.length + rest.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        return all;
    }
}
