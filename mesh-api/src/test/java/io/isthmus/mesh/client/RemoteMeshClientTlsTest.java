package io.isthmus.mesh.client;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoteMeshClientTlsTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("demo.isthmus.io");
    private static final MeshCertificateAuthority OTHER_CA = MeshCertificateAuthority.create("other.isthmus.io");

    @TempDir
    Path dir;

    private WireMockServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private String start(WireMockConfiguration config) {
        server = new WireMockServer(config.bindAddress("127.0.0.1").httpDisabled(true).dynamicHttpsPort());
        server.start();
        server.stubFor(get("/v1/status").willReturn(okJson(RemoteMeshClientTest.StatusJson.STATUS)));
        return "https://127.0.0.1:" + server.httpsPort();
    }

    private static WireMockConfiguration keyStore(Path path) {
        return wireMockConfig().keystorePath(path.toString()).keystorePassword(AdminTls.PASSWORD)
                .keyManagerPassword(AdminTls.PASSWORD).keystoreType("PKCS12");
    }

    private static MeshStatus status(MeshConnection connection) {
        try (MeshAdmin admin = MeshAdmin.connect(connection)) {
            return admin.status();
        }
    }

    @Test
    void trustsServerCertificateFromTheGivenCaBundle() throws Exception {
        String url = start(keyStore(AdminTls.serverKeyStoreFor127001(CA, dir)));

        MeshStatus status = status(MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem()).build());

        assertThat(status.site()).isEqualTo("tokyo");
    }

    @Test
    void rejectsServerCertificateFromAnotherCa() throws Exception {
        String url = start(keyStore(AdminTls.serverKeyStoreFor127001(CA, dir)));

        assertThatThrownBy(() -> status(MeshConnection.builder(URI.create(url))
                .trustedCertificatesPem(OTHER_CA.certificatePem()).build()))
                .isInstanceOfSatisfying(MeshAdminException.class, e -> {
                    assertThat(e.isTransportFailure()).isTrue();
                    assertThat(e.getMessage()).startsWith("TLS failure at " + url + "/v1/status: certificate not trusted");
                });
    }

    @Test
    void rejectsMeshCaCertificateAgainstTheJdkTrustStore() throws Exception {
        String url = start(keyStore(AdminTls.serverKeyStoreFor127001(CA, dir)));

        assertThatThrownBy(() -> status(MeshConnection.builder(URI.create(url)).build()))
                .isInstanceOf(MeshAdminException.class).hasMessageContaining("certificate not trusted");
    }

    @Test
    void rejectsCertificateThatDoesNotNameTheHost() throws Exception {
        // A site certificate names tokyo.demo.isthmus.io, not 127.0.0.1.
        String url = start(keyStore(AdminTls.siteKeyStore(CA.issueSite("tokyo"), dir)));

        assertThatThrownBy(() -> status(MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem()).build()))
                .isInstanceOf(MeshAdminException.class)
                .hasMessageStartingWith("TLS failure at " + url + "/v1/status: hostname mismatch: the server's certificate "
                        + "does not name 127.0.0.1");
    }

    @Test
    void acceptsASiteCertificateByItsMeshIdentityInsteadOfTheHostName() throws Exception {
        String url = start(keyStore(AdminTls.siteKeyStore(CA.issueSite("tokyo"), dir)));

        MeshConnection byIdentity = MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem())
                .serverIdentity(SpiffeId.ofSite("demo.isthmus.io", "tokyo")).build();

        assertThat(status(byIdentity).site()).isEqualTo("tokyo");
    }

    @Test
    void rejectsASiteCertificateWithAnotherMeshIdentity() throws Exception {
        String url = start(keyStore(AdminTls.siteKeyStore(CA.issueSite("osaka"), dir)));

        MeshConnection expectingTokyo = MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem())
                .serverIdentity(SpiffeId.ofSite("demo.isthmus.io", "tokyo")).build();

        assertThatThrownBy(() -> status(expectingTokyo)).isInstanceOf(MeshAdminException.class)
                .hasMessageContaining("server identity spiffe://demo.isthmus.io/site/osaka (expected: "
                        + "spiffe://demo.isthmus.io/site/tokyo)");
    }

    @Test
    void rejectsAMeshIdentityFromAnotherCa() throws Exception {
        String url = start(keyStore(AdminTls.siteKeyStore(OTHER_CA.issueSite("tokyo"), dir)));

        MeshConnection expectingTokyo = MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem())
                .serverIdentity(SpiffeId.ofSite("other.isthmus.io", "tokyo")).build();

        assertThatThrownBy(() -> status(expectingTokyo)).isInstanceOf(MeshAdminException.class)
                .hasMessageContaining("certificate not trusted");
    }

    @Test
    void insecureSkipTlsVerifyAcceptsAnyCertificate() throws Exception {
        String url = start(keyStore(AdminTls.siteKeyStore(OTHER_CA.issueSite("tokyo"), dir)));

        assertThat(status(MeshConnection.builder(URI.create(url)).insecureSkipTlsVerify(true).build()).site())
                .isEqualTo("tokyo");
    }

    @Test
    void presentsClientCertificateForMutualTls() throws Exception {
        String url = start(keyStore(AdminTls.serverKeyStoreFor127001(CA, dir)).needClientAuth(true)
                .trustStorePath(AdminTls.trustStore(CA, dir).toString()).trustStorePassword(AdminTls.PASSWORD)
                .trustStoreType("PKCS12"));
        SiteCredentials operator = CA.issueSite("ops");

        MeshStatus status = status(MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem())
                .clientCredentials(operator.certificateChainPem(), operator.privateKeyPem()).build());

        assertThat(status.site()).isEqualTo("tokyo");
        assertThatThrownBy(() -> status(MeshConnection.builder(URI.create(url)).trustedCertificatesPem(CA.certificatePem()).build()))
                .isInstanceOfSatisfying(MeshAdminException.class, e -> assertThat(e.isTransportFailure()).isTrue());
    }
}
