package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.reliability.RawTunnelClient.Outcome;
import io.isthmus.mesh.reliability.TestCertificates.Leaf;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may open a tunnel. A hand-built client presents chosen certificates to osaka's tunnel port
 * and, once TLS is up, sends a complete HTTP/2 request for osaka's pool; every refusal must come
 * from the TLS handshake or the identity check that follows it, so that the origin sees no request.
 * The control test proves that the same client with a good identity is served.
 */
class TunnelIdentityTest {

    private static final String TLS_13 = "TLSv1.3";

    private MeshFixture mesh;
    private CountingOrigin origin;
    private RawTunnelClient client;
    private MeshRouter tokyo;
    private MeshRouter osaka;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new CountingOrigin();
        client = new RawTunnelClient();
        tokyo = mesh.site("tokyo");
        osaka = mesh.site("osaka");
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", MeshFixture.endpoint(origin.address()));
        mesh.awaitApplied(tokyo, osaka);
    }

    @AfterEach
    void tearDown() {
        client.close();
        mesh.close();
        origin.close();
    }

    private Outcome present(PrivateKey key, List<X509Certificate> chain, String protocol) throws Exception {
        return client.request(osaka.tunnelAddress(), key, chain, mesh.ca.trustBundle().roots(), protocol,
                "osaka-app", "default/osaka-app-pool", "/identity-probe").get(20, TimeUnit.SECONDS);
    }

    private Outcome present(SiteCredentials credentials) throws Exception {
        return present(credentials.privateKey(), credentials.certificateChain(), TLS_13);
    }

    private Outcome present(Leaf leaf) throws Exception {
        return present(leaf.key(), List.of(leaf.certificate(), mesh.ca.certificate()), TLS_13);
    }

    /** The connection got no HTTP answer, osaka reported the refusal, and the origin saw nothing. */
    private void assertRefused(Outcome outcome, String reason) {
        assertThat(outcome.answered()).as("an HTTP response to a refused peer: %s", outcome).isFalse();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(mesh.events("rejected-in", "osaka")).anySatisfy(e -> assertThat(e).contains(reason)));
        assertThat(mesh.events("in", "osaka")).as("tunnels osaka accepted").isEmpty();
        assertThat(origin.requestHeads).as("requests that reached the origin").hasValue(0);
    }

    @Test
    void servesAHandBuiltClientWithAValidIdentityOfAKnownSiteFromAnyAddress() throws Exception {
        // The control for every refusal below. It also answers "a known site's identity from an
        // address that is not the site's tunnel endpoint": the store's tunnel endpoint says where a site
        // listens, not where it dials from, so the router accepts any peer that proves the identity
        // with the key; this client dials from an ephemeral port, not from tokyo's tunnel endpoint.
        Outcome outcome = present(mesh.ca.issueSite("tokyo"));

        assertThat(outcome.status()).as("%s", outcome).isEqualTo(200);
        assertThat(outcome.body()).isEqualTo(origin.responseBody);
        assertThat(origin.requestsTo("/identity-probe")).isEqualTo(1);
        assertThat(mesh.events("in", "osaka")).containsExactly("in osaka spiffe://mesh.test/site/tokyo");
    }

    @Test
    void refusesAClientCertificateFromAnotherCaOfTheSameTrustDomain() throws Exception {
        SiteCredentials rogue = MeshCertificateAuthority.create(MeshFixture.TRUST_DOMAIN).issueSite("tokyo");

        assertRefused(present(rogue.privateKey(), List.of(rogue.certificate()), TLS_13), "TLS handshake failed");
    }

    @Test
    void refusesAnExpiredClientCertificate() throws Exception {
        Instant now = Instant.now();
        SiteCredentials expired = mesh.ca.issueSite("tokyo", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));

        assertRefused(present(expired), "TLS handshake failed");
    }

    @Test
    void refusesAClientCertificateThatIsNotYetValid() throws Exception {
        Instant now = Instant.now();
        SiteCredentials early = mesh.ca.issueSite("tokyo", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)));

        assertRefused(present(early), "TLS handshake failed");
    }

    @Test
    void refusesAValidCertificateForASiteThatIsNotInTheStore() throws Exception {
        assertRefused(present(mesh.ca.issueSite("nara")), "names site nara, which is not a site of this mesh");
    }

    @Test
    void refusesACertificateWithoutASpiffeId() throws Exception {
        Leaf leaf = TestCertificates.signedByMeshCa(mesh.ca, "tokyo.mesh.test", List.of());

        assertRefused(present(leaf), "carries no SPIFFE id");
    }

    @Test
    void refusesACertificateWithTwoSpiffeIds() throws Exception {
        Leaf leaf = TestCertificates.signedByMeshCa(mesh.ca, "tokyo.mesh.test",
                List.of("spiffe://mesh.test/site/tokyo", "spiffe://mesh.test/site/osaka"));

        assertRefused(present(leaf), "carries 2 SPIFFE ids");
    }

    @Test
    void refusesACertificateOfTheMeshCaWhoseSpiffeIdIsInAnotherTrustDomain() throws Exception {
        Leaf leaf = TestCertificates.signedByMeshCa(mesh.ca, "tokyo.other.test",
                List.of("spiffe://other.test/site/tokyo"));

        assertRefused(present(leaf), "is in trust domain other.test (expected: mesh.test)");
    }

    @Test
    void refusesTls12EvenWithAValidCertificate() throws Exception {
        SiteCredentials tokyoCredentials = mesh.ca.issueSite("tokyo");

        assertRefused(present(tokyoCredentials.privateKey(), tokyoCredentials.certificateChain(), "TLSv1.2"),
                "TLS handshake failed");
    }

    @Test
    void refusesPlaintextHttp11() throws Exception {
        String received = sendRaw(("GET /identity-probe HTTP/1.1\r\nHost: osaka-app\r\n"
                + "x-isthmus-pool: default/osaka-app-pool\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

        assertThat(received).doesNotContain("HTTP/");
        assertRefused(new Outcome(0, "", received), "TLS handshake failed");
    }

    @Test
    void refusesPlaintextHttp2WithPriorKnowledge() throws Exception {
        ByteArrayOutputStream h2 = new ByteArrayOutputStream();
        h2.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        h2.writeBytes(new byte[] {0, 0, 0, 0x04, 0, 0, 0, 0, 0}); // empty SETTINGS
        byte[] authority = "osaka-app".getBytes(StandardCharsets.US_ASCII);
        // HPACK: :method GET, :scheme http, :path /, :authority osaka-app (literal, indexed name 1).
        int length = 3 + 2 + authority.length;
        h2.writeBytes(new byte[] {0, 0, (byte) length, 0x01, 0x05, 0, 0, 0, 1, (byte) 0x82, (byte) 0x86, (byte) 0x84,
            0x41, (byte) authority.length});
        h2.writeBytes(authority);

        String received = sendRaw(h2.toByteArray());

        assertThat(received).doesNotContain("HTTP/");
        assertRefused(new Outcome(0, "", received), "TLS handshake failed");
    }

    @Test
    void dialsNoRequestToAPeerThatPresentsAnotherSitesCertificate() throws Exception {
        // kyoto is a genuine site of the mesh with a valid certificate, but the store now says osaka's
        // tunnel endpoint is kyoto's: tokyo must not accept kyoto as osaka.
        MeshRouter kyoto = mesh.site("kyoto");
        mesh.store.put(Site.builder("osaka").tunnelEndpoint(kyoto.tunnelEndpoint()).build());
        mesh.awaitApplied(tokyo, kyoto);

        HttpResponse<String> response = MeshFixture.get(tokyo, "http://osaka-app/dial-probe");

        assertThat(response.statusCode()).isEqualTo(503);
        assertThat(response.body()).contains("site osaka").contains("refused");
        // Refused in the TLS handshake already: tokyo verifies the peer's DNS name osaka.mesh.test, which
        // kyoto's certificate does not carry, before the SPIFFE id check would compare the identities.
        assertThat(mesh.events("rejected-out", "tokyo")).isNotEmpty();
        assertThat(mesh.events("out", "tokyo")).isEmpty();
        assertThat(origin.requestHeads).hasValue(0);
    }

    @Test
    void dialsNoRequestToAPeerWhoseNameMatchesButWhoseSpiffeIdNamesAnotherSite() throws Exception {
        // The certificate carries osaka's DNS name, so TLS name verification passes; only tokyo's check
        // of the SPIFFE id (kyoto, expected osaka) stands between it and the request.
        Leaf leaf = TestCertificates.signedByMeshCa(mesh.ca, "osaka.mesh.test", List.of("spiffe://mesh.test/site/kyoto"));
        try (ImpostorTunnelServer impostor = new ImpostorTunnelServer(leaf,
                List.of(leaf.certificate(), mesh.ca.certificate()), mesh.ca.trustBundle().roots())) {
            mesh.store.put(Site.builder("osaka").tunnelEndpoint(MeshFixture.endpoint(impostor.address())).build());
            mesh.awaitApplied(tokyo);

            HttpResponse<String> response = MeshFixture.get(tokyo, "http://osaka-app/dial-probe");

            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(response.body()).contains("site osaka").contains("refused");
            assertThat(mesh.events("rejected-out", "tokyo")).anySatisfy(e -> assertThat(e)
                    .contains("peer presented spiffe://mesh.test/site/kyoto (expected: spiffe://mesh.test/site/osaka)"));
            assertThat(impostor.requestHeads).as("requests sent to the impostor").hasValue(0);
            assertThat(origin.requestHeads).hasValue(0);
        }
    }

    /** Writes bytes to osaka's tunnel port and returns what comes back until the router closes. */
    private String sendRaw(byte[] bytes) throws IOException {
        InetSocketAddress address = osaka.tunnelAddress();
        try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, n);
                    assertThat(received.size()).as("bytes from a router refusing plaintext").isLessThan(1 << 16);
                }
            } catch (SocketException reset) {
                // A reset is a refusal too.
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the router kept a plaintext connection open for 10 s", e);
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }
}
