package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.binaryEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static io.isthmus.mesh.netty.MeshFixture.endpoint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Tokyo's router carries requests to Osaka's origin through a real mTLS tunnel on 127.0.0.1. */
class TwoSiteTunnelTest {

    private MeshFixture mesh;
    private WireMockServer origin;
    private MeshRouter tokyo;
    private MeshRouter osaka;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        tokyo = mesh.site("tokyo");
        osaka = mesh.site("osaka");
    }

    @AfterEach
    void tearDown() throws Exception {
        mesh.close();
        origin.stop();
    }

    private Endpoint wireMockEndpoint() {
        return Endpoint.of("127.0.0.1", origin.port());
    }

    @Test
    void carriesMethodPathQueryHeadersAndOneMebibyteBodiesIntactThroughTheTunnel() throws Exception {
        byte[] requestBody = randomBytes(1 << 20, 1);
        byte[] responseBody = randomBytes(1 << 20, 2);
        origin.stubFor(post(urlEqualTo("/orders/42?expand=items&sort=desc"))
                .withHeader("x-tenant", equalTo("acme"))
                .withRequestBody(binaryEqualTo(requestBody))
                .willReturn(aResponse().withStatus(201).withHeader("x-origin", "osaka").withBody(responseBody)));
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", wireMockEndpoint());
        mesh.awaitApplied(tokyo, osaka);

        HttpResponse<byte[]> response = MeshFixture.clientOf(tokyo).send(
                HttpRequest.newBuilder(URI.create("http://osaka-app/orders/42?expand=items&sort=desc"))
                        .header("x-tenant", "acme")
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(requestBody))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.headers().firstValue("x-origin")).hasValue("osaka");
        assertThat(response.body()).isEqualTo(responseBody);
        origin.verify(1, postRequestedFor(urlEqualTo("/orders/42?expand=items&sort=desc"))
                .withHeader("Host", equalTo("osaka-app"))
                .withHeader("x-tenant", equalTo("acme"))
                .withHeader("x-forwarded-for", equalTo("127.0.0.1"))
                .withHeader("x-request-id", matching("[0-9a-f]{32}"))
                .withoutHeader("x-isthmus-pool")
                .withRequestBody(binaryEqualTo(requestBody)));
        assertThat(mesh.tunnelEvents).contains("out tokyo spiffe://mesh.test/site/osaka",
                "in osaka spiffe://mesh.test/site/tokyo");
    }

    @Test
    void reusesOneTunnelAndOneOriginConnectionForSequentialRequests() throws Exception {
        try (TestOrigin counting = new TestOrigin()) {
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(counting.address()));
            mesh.awaitApplied(tokyo, osaka);
            HttpClient client = MeshFixture.clientOf(tokyo);
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> response = client.send(
                        HttpRequest.newBuilder(URI.create("http://osaka-app/n/" + i)).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.body()).isEqualTo("first chunk\nsecond chunk\n");
            }
            assertThat(counting.requests).hasValue(20);
            assertThat(counting.connections).hasValue(1);
            assertThat(mesh.tunnelEvents).filteredOn(e -> e.startsWith("out ")).hasSize(1);
        }
    }

    @Test
    void streamsTheResponseBeforeTheOriginHasFinishedIt() throws Exception {
        try (TestOrigin streaming = new TestOrigin()) {
            CompletableFuture<Void> release = new CompletableFuture<>();
            streaming.releaseSecondChunk = release;
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(streaming.address()));
            mesh.awaitApplied(tokyo, osaka);

            HttpResponse<InputStream> response = MeshFixture.clientOf(tokyo).send(
                    HttpRequest.newBuilder(URI.create("http://osaka-app/stream")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                byte[] first = new byte["first chunk\n".length()];
                int read = 0;
                while (read < first.length) {
                    int n = body.read(first, read, first.length - read);
                    assertThat(n).isPositive();
                    read += n;
                }
                // The first chunk crossed both routers while the origin still holds the second one back.
                assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("first chunk\n");
                release.complete(null);
                assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("second chunk\n");
            }
        }
    }

    @Test
    void streamsTheRequestBodyBeforeTheClientHasFinishedIt() throws Exception {
        try (TestOrigin streaming = new TestOrigin();
                java.net.Socket client = new java.net.Socket()) {
            mesh.loadBalancer("osaka-app", "tokyo", "osaka", endpoint(streaming.address()));
            mesh.awaitApplied(tokyo, osaka);
            client.connect(tokyo.ingressAddress(), 5_000);
            client.setSoTimeout(10_000);
            java.io.OutputStream out = client.getOutputStream();
            out.write(("POST /upload HTTP/1.1\r\nHost: osaka-app\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "c\r\nfirst chunk\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();

            // The first chunk crossed both routers while the client has not finished the request.
            assertThat(streaming.firstBodyBytes.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("first chunk\n");

            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            java.io.BufferedReader in = new java.io.BufferedReader(
                    new java.io.InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
            assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    @Test
    void servesAPoolAtItsOwnSiteWithoutATunnel() throws Exception {
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withBody("local")));
        mesh.loadBalancer("tokyo-app", "tokyo", "tokyo", wireMockEndpoint());
        mesh.awaitApplied(tokyo);

        HttpResponse<String> response = MeshFixture.get(tokyo, "http://tokyo-app/");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("local");
        assertThat(mesh.tunnelEvents).isEmpty();
    }

    @Test
    void findsTheLoadBalancerByKubernetesServiceNames() throws Exception {
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withBody("ok")));
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", wireMockEndpoint());
        mesh.awaitApplied(tokyo, osaka);

        assertThat(MeshFixture.get(tokyo, "http://osaka-app.default/").body()).isEqualTo("ok");
        assertThat(MeshFixture.get(tokyo, "http://osaka-app.default.svc.cluster.local:80/").body()).isEqualTo("ok");
    }

    @Test
    void answersUnknownHostWith404AndAClearReason() throws Exception {
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", wireMockEndpoint());
        mesh.awaitApplied(tokyo);

        HttpResponse<String> response = MeshFixture.get(tokyo, "http://kyoto-app/");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).isEqualTo("no load balancer serves host \"kyoto-app\" at site tokyo\n");
        assertThat(origin.getAllServeEvents()).isEmpty();
    }

    @Test
    void doesNotServeALoadBalancerAtASiteWhereItIsNotAdvertised() throws Exception {
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", wireMockEndpoint());
        mesh.awaitApplied(osaka);

        assertThat(MeshFixture.get(osaka, "http://osaka-app/").statusCode()).isEqualTo(404);
    }

    @Test
    void answersQuicklyWith503WhenTheOriginIsDown() throws Exception {
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", Endpoint.of("127.0.0.1", MeshFixture.closedPort()));
        mesh.awaitApplied(tokyo, osaka);

        HttpResponse<String> response = MeshFixture.get(tokyo, "http://osaka-app/");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).startsWith("origin 127.0.0.1:").contains("is unreachable");
        // The tunnel stays usable: the next request still reaches osaka's router.
        assertThat(MeshFixture.get(tokyo, "http://osaka-app/").statusCode()).isEqualTo(503);
        assertThat(mesh.tunnelEvents).filteredOn(e -> e.startsWith("out ")).hasSize(1);
    }

    @Test
    void answersQuicklyWith503WhenTheRemoteSiteIsDown() throws Exception {
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withBody("ok")));
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", wireMockEndpoint());
        mesh.awaitApplied(tokyo, osaka);
        osaka.close();

        HttpResponse<String> response = MeshFixture.get(tokyo, "http://osaka-app/");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).startsWith("site osaka is unreachable");
        assertThat(origin.getAllServeEvents()).isEmpty();
    }

    @Test
    void refusesARemoteRouterWhoseCertificateComesFromAnotherCa() throws Exception {
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withBody("must not be served")));
        MeshCertificateAuthority rogueCa = MeshCertificateAuthority.create(MeshFixture.TRUST_DOMAIN);
        MeshRouter impostor = mesh.site(rogueCa.issueSite("kyoto"));
        mesh.loadBalancer("kyoto-app", "tokyo", "kyoto", wireMockEndpoint());
        mesh.awaitApplied(tokyo, impostor);

        HttpResponse<String> response = MeshFixture.get(tokyo, "http://kyoto-app/");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("site kyoto").contains("refused");
        assertThat(origin.getAllServeEvents()).isEmpty();
        await().atMost(5, TimeUnit.SECONDS).until(() -> mesh.tunnelEvents.stream().anyMatch(e -> e.startsWith("rejected-out tokyo")));
    }

    @Test
    void refusesATunnelClientWhoseCertificateComesFromAnotherCa() throws Exception {
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withBody("must not be served")));
        mesh.loadBalancer("osaka-app", "kyoto", "osaka", wireMockEndpoint());
        MeshCertificateAuthority rogueCa = MeshCertificateAuthority.create(MeshFixture.TRUST_DOMAIN);
        // The impostor claims to be site "kyoto", where the load balancer is advertised, and trusts
        // the real mesh CA, so only osaka's check of the client certificate stands in its way.
        MeshRouter impostor = mesh.site(rogueCa.issueSite("kyoto").withTrustBundle(mesh.ca.trustBundle()));
        mesh.awaitApplied(impostor, osaka);

        HttpResponse<String> response = MeshFixture.get(impostor, "http://osaka-app/");

        // With TLS 1.3 the client finishes its handshake before the server has checked the client
        // certificate, so the impostor learns of the refusal as a closed connection: 502, or 503 if
        // the refusal came before its first stream.
        assertThat(response.statusCode()).isIn(502, 503);
        assertThat(origin.getAllServeEvents()).isEmpty();
        await().atMost(5, TimeUnit.SECONDS).until(() -> mesh.tunnelEvents.stream().anyMatch(e -> e.startsWith("rejected-in osaka")));
        origin.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void refusesARouterWhoseIdentityNamesAnUnknownSite() throws Exception {
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withBody("must not be served")));
        mesh.loadBalancer("osaka-app", "nara", "osaka", wireMockEndpoint());
        // A valid certificate from the mesh CA, but "nara" is not a site of the mesh.
        MeshRouter nara = MeshRouter.builder(mesh.ca.issueSite("nara"), mesh.store).ioThreads(1).build().start();
        try {
            mesh.awaitApplied(nara, osaka);
            assertThat(MeshFixture.get(nara, "http://osaka-app/").statusCode()).isIn(502, 503);
            await().atMost(5, TimeUnit.SECONDS).until(() -> mesh.tunnelEvents.stream()
                    .anyMatch(e -> e.startsWith("rejected-in osaka") && e.contains("not a site of this mesh")));
            assertThat(origin.getAllServeEvents()).isEmpty();
        } finally {
            nara.close();
        }
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
