package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Site credentials replaced on disk reach the daemon's router without failing a request. */
class CredentialsReloadTest {

    private static final String TRUST_DOMAIN = "mesh.test";

    @TempDir
    Path dir;

    @Test
    void replacedCredentialsFilesServeNewTunnelsWithoutFailedRequests() throws Exception {
        MeshCertificateAuthority ca = MeshCertificateAuthority.create(TRUST_DOMAIN);
        SiteCredentials first = ca.issueSite("tokyo");
        Path chain = dir.resolve("site.pem");
        Path key = dir.resolve("site-key.pem");
        Path bundle = dir.resolve("trust-bundle.pem");
        replace(chain, first.certificateChainPem());
        replace(key, first.privateKeyPem());
        replace(bundle, ca.trustBundle().toPem());

        WireMockServer origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(get(urlEqualTo("/ping")).willReturn(aResponse().withStatus(200).withBody("pong")));
        AtomicInteger osakaInbound = new AtomicInteger();
        Map<String, String> settings = new HashMap<>();
        settings.put("site", "tokyo");
        settings.put("routerId", "tokyo-1");
        settings.put("trustDomain", TRUST_DOMAIN);
        settings.put("credentials.certificateChain", chain.toString());
        settings.put("credentials.privateKey", key.toString());
        settings.put("credentials.trustBundle", bundle.toString());
        settings.put("credentials.reloadInterval", "100ms");
        settings.put("stateDir", dir.resolve("state").toString());
        settings.put("ingress.port", "0");
        settings.put("tunnel.port", "0");
        settings.put("admin.port", "0");
        settings.put("admin.tls.enabled", "false");
        settings.put("drain.delay", "0s");
        try (RouterDaemon tokyo = RouterDaemon.start(DaemonConfig.load(null, Map.of(), settings), List.of());
                MeshRouter osaka = MeshRouter.builder(ca.issueSite("osaka"), tokyo.store())
                        .listener(new MeshRouterListener() {
                            @Override
                            public void tunnelEstablished(SpiffeId peer, SocketAddress remote, boolean outbound) {
                                if (!outbound) {
                                    osakaInbound.incrementAndGet();
                                }
                            }
                        })
                        .build().start()) {
            tokyo.store().put(Site.builder("osaka").tunnelEndpoint(osaka.tunnelEndpoint()).build());
            tokyo.store().put(OriginPool.builder("app-pool").site("osaka")
                    .endpoint(Endpoint.of("127.0.0.1", origin.port())).build());
            tokyo.store().put(LoadBalancer.builder("app").domain("app.example").advertiseAt("tokyo")
                    .defaultPool("app-pool").build());
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .proxy(ProxySelector.of(tokyo.ingressAddress())).connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://app.example/ping"))
                    .timeout(Duration.ofSeconds(10)).build();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
            SiteCredentials osakaClient = ca.issueSite("osaka");
            assertThat(serverSerial(tokyo.tunnelAddress(), osakaClient, ca))
                    .isEqualTo(first.certificate().getSerialNumber());
            int tunnelsBefore = osakaInbound.get();

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger okAfterRotation = new AtomicInteger();
            AtomicBoolean rotated = new AtomicBoolean();
            Map<String, Integer> failures = new ConcurrentHashMap<>();
            List<CompletableFuture<Void>> load = List.of(1, 2).stream().map(w -> CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 20_000 && running.get(); i++) {
                    try {
                        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() == 200 && response.body().equals("pong")) {
                            ok.incrementAndGet();
                            if (rotated.get()) {
                                okAfterRotation.incrementAndGet();
                            }
                        } else {
                            failures.merge(response.statusCode() + " " + response.body(), 1, Integer::sum);
                        }
                    } catch (Exception e) {
                        failures.merge(e.toString(), 1, Integer::sum);
                    }
                }
            })).toList();
            await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() >= 50);

            SiteCredentials second = ca.issueSite("tokyo");
            assertThat(second.certificate().getSerialNumber()).isNotEqualTo(first.certificate().getSerialNumber());
            // One file at a time, as a renewal tool or a Secret update does: the half-replaced set is not applied.
            replace(chain, second.certificateChainPem());
            replace(key, second.privateKeyPem());
            replace(bundle, ca.trustBundle().toPem());

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(serverSerial(tokyo.tunnelAddress(), osakaClient, ca))
                            .isEqualTo(second.certificate().getSerialNumber()));
            rotated.set(true);
            await().atMost(Duration.ofSeconds(10)).until(() -> okAfterRotation.get() >= 50);
            await().atMost(Duration.ofSeconds(10)).until(() -> osakaInbound.get() > tunnelsBefore);
            running.set(false);
            CompletableFuture.allOf(load.toArray(CompletableFuture<?>[]::new)).get(30, TimeUnit.SECONDS);

            assertThat(failures).isEmpty();
            System.out.printf("%d requests succeeded, %d after the certificate was replaced; %d tunnels to osaka%n",
                    ok.get(), okAfterRotation.get(), osakaInbound.get());
        } finally {
            origin.stop();
        }
    }

    /** Writes a file beside the target and moves it in place, as a renewal tool would. */
    private static void replace(Path file, String contents) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, contents, UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Opens a new tunnel connection as site {@code client} would and returns the serial the server presents. */
    private static BigInteger serverSerial(InetSocketAddress tunnel, SiteCredentials client, MeshCertificateAuthority ca)
            throws Exception {
        char[] password = "test".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("site", client.privateKey(), password,
                client.certificateChain().toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(tunnel.getAddress(),
                tunnel.getPort())) {
            socket.setSoTimeout(5_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }
}
