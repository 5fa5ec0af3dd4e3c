package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.MeshObjectCodec;
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
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new site joins with a token, end to end in one JVM: the CA daemon {@code tokyo} (development CA,
 * admin API over TLS), {@code meshctl token create kyoto}, a daemon {@code kyoto} started with the
 * printed command line, and a request entering at tokyo served by an origin at kyoto through the
 * tunnel. Both daemons share a real etcd.
 *
 * <p>The joined site then renews its certificate at the CA daemon: with site certificates valid for
 * {@code VALIDITY}, kyoto renews before the first expires, stores the new files and its tunnel listener
 * and admin API present the new certificate; requests entering at tokyo still reach kyoto's origin past
 * the first certificate's expiry and after a restart.
 */
class JoinSiteEndToEndTest {

    private static final String TRUST_DOMAIN = "dev.isthmus.local";
    /** Long enough for a restart on a loaded machine to finish before a renewed certificate expires. */
    private static final Duration VALIDITY = Duration.ofSeconds(24);

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

    /** The certificate a TLS listener presents; the handshake may then fail for want of a client certificate. */
    private static X509Certificate presented(InetSocketAddress address) throws Exception {
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        X509TrustManager capture = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen.set(chain[0]);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {capture}, null);
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", address.getPort()), 5_000);
            plain.setSoTimeout(5_000);
            try (SSLSocket tls = (SSLSocket) context.getSocketFactory()
                    .createSocket(plain, "127.0.0.1", address.getPort(), false)) {
                tls.startHandshake();
            } catch (java.io.IOException e) {
                // without a client certificate the listener may end the handshake; the server's certificate came first
            }
        }
        assertThat(seen.get()).as("certificate presented by %s", address).isNotNull();
        return seen.get();
    }

    @Test
    void aJoinedSiteRenewsBeforeExpiryAndKeepsServingThroughTheTunnel() throws Exception {
        Map<String, String> tokyoFlags = common("tokyo");
        tokyoFlags.put("admin.tls.enabled", "true");
        tokyoFlags.put("ca.siteCertificateValidity", VALIDITY.toSeconds() + "s");
        tokyo = RouterDaemon.start(DaemonConfig.load(null, Map.of(), tokyoFlags), List.of());
        Path caBundle = dir.resolve("tokyo/trust-bundle.pem");
        String adminUrl = "https://127.0.0.1:" + tokyo.adminAddress().getPort();
        HttpClient admin = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(MeshConnection.builder(URI.create(adminUrl)).trustedCertificatesPem(Files.readString(caBundle))
                        .serverIdentity(SpiffeId.ofSite(TRUST_DOMAIN, "tokyo")).build().sslContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> issued = admin.send(HttpRequest.newBuilder(URI.create(adminUrl + "/v1/join-tokens"))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + AdminApiTest.ADMIN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"site\":\"kyoto\",\"ttl\":\"10m\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);

        Map<String, String> kyotoFlags = common("kyoto");
        kyotoFlags.remove("dev.generateCa");
        kyotoFlags.put("trustDomain", TRUST_DOMAIN);
        kyotoFlags.put("join.token", Http.json(issued).path("token").asString());
        kyotoFlags.put("join.server", adminUrl);
        kyotoFlags.put("join.caBundle", caBundle.toString());
        kyotoFlags.put("join.serverIdentity", "spiffe://" + TRUST_DOMAIN + "/site/tokyo");
        kyotoFlags.put("admin.tls.enabled", "true");
        kyoto = RouterDaemon.start(DaemonConfig.load(null, Map.of(), kyotoFlags), List.of());

        Path kyotoState = dir.resolve("kyoto");
        SiteCredentials first = stored(kyotoState);
        assertThat(presented(kyoto.tunnelAddress()).getSerialNumber())
                .isEqualTo(first.certificate().getSerialNumber());
        MeshObjectCodec codec = MeshObjectCodec.create();
        ConfigStore store = tokyo.store();
        codec.readYaml("kind: OriginPool\nmetadata: {name: kyoto-pool}\n"
                + "spec: {site: kyoto, endpoints: [\"127.0.0.1:" + origin.port() + "\"]}\n"
                + "---\nkind: LoadBalancer\nmetadata: {name: kyoto-app}\n"
                + "spec: {domains: [kyoto-app], advertiseSites: [tokyo], defaultPool: kyoto-pool}\n")
                .forEach(store::put);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> routed = viaIngress(tokyo.ingressAddress(), "http://kyoto-app/orders?id=42");
            assertThat(routed.statusCode()).as(routed.body()).isEqualTo(200);
        });

        // Renewed before the first certificate expires: new files, a new key, and the router presents them.
        AtomicReference<SiteCredentials> latest = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
            SiteCredentials now = stored(kyotoState);
            assertThat(now.certificate().getSerialNumber()).isNotEqualTo(first.certificate().getSerialNumber());
            latest.set(now);
        });
        SiteCredentials renewed = latest.get();
        // Issued (its expiry less the validity) while the first certificate was still valid.
        assertThat(renewed.notAfter().minus(VALIDITY)).isBefore(first.notAfter());
        assertThat(renewed.spiffeId()).isEqualTo(first.spiffeId());
        assertThat(renewed.notAfter()).isAfter(first.notAfter());
        assertThat(renewed.certificate().getPublicKey()).isNotEqualTo(first.certificate().getPublicKey());
        TrustBundle bundle = TrustBundle.fromPem(TRUST_DOMAIN, Files.readString(caBundle));
        assertThat(bundle.verify(renewed.certificateChain())).isEqualTo(first.spiffeId());
        assertThat(Files.getPosixFilePermissions(kyotoState.resolve("site-key.pem")))
                .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        assertThat(kyotoState.resolve("site.pem.tmp")).doesNotExist();
        assertThat(kyotoState.resolve("site-key.pem.tmp")).doesNotExist();

        // Past the first certificate's expiry: kyoto's tunnel listener presents a valid, renewed certificate
        // and requests entering at tokyo still reach kyoto's origin.
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            assertThat(Instant.now()).isAfter(first.notAfter());
            X509Certificate served = presented(kyoto.tunnelAddress());
            assertThat(served.getSerialNumber()).isNotEqualTo(first.certificate().getSerialNumber());
            served.checkValidity();
            assertThat(bundle.verify(List.of(served))).isEqualTo(first.spiffeId());
            // kyoto's admin API (TLS) presents the renewed certificate too.
            X509Certificate adminCertificate = presented(kyoto.adminAddress());
            assertThat(adminCertificate.getSerialNumber()).isNotEqualTo(first.certificate().getSerialNumber());
            adminCertificate.checkValidity();
            HttpResponse<String> routed = viaIngress(tokyo.ingressAddress(), "http://kyoto-app/orders?id=42");
            assertThat(routed.statusCode()).as(routed.body()).isEqualTo(200);
            assertThat(routed.body()).isEqualTo("order 42 from kyoto");
        });

        // A restart uses the renewed files (the token is used up) and serves again.
        kyoto.close();
        kyoto = null;
        kyoto = RouterDaemon.start(DaemonConfig.load(null, Map.of(), kyotoFlags), List.of());
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() ->
                assertThat(stored(kyotoState).notAfter()).isAfter(first.notAfter()));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> routed = viaIngress(tokyo.ingressAddress(), "http://kyoto-app/orders?id=42");
            assertThat(routed.statusCode()).as(routed.body()).isEqualTo(200);
            assertThat(routed.body()).isEqualTo("order 42 from kyoto");
        });
    }

    private static SiteCredentials stored(Path stateDir) {
        return SiteCredentials.fromFiles(TRUST_DOMAIN, stateDir.resolve("site.pem"), stateDir.resolve("site-key.pem"),
                stateDir.resolve("trust-bundle.pem"));
    }
}
