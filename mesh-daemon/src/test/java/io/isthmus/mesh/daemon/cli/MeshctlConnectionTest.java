package io.isthmus.mesh.daemon.cli;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.isthmus.mesh.client.AdminTls;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MeshctlConnectionTest extends MeshctlHarness {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("demo.isthmus.io");
    private static final MeshCertificateAuthority OTHER_CA = MeshCertificateAuthority.create("other.isthmus.io");

    private WireMockServer https;

    @AfterEach
    void stopHttps() {
        if (https != null) {
            https.stop();
        }
    }

    private String startHttps(WireMockConfiguration config) {
        https = new WireMockServer(config.bindAddress("127.0.0.1").httpDisabled(true).dynamicHttpsPort());
        https.start();
        https.stubFor(get("/v1/status").willReturn(okJson(STATUS)));
        return "https://127.0.0.1:" + https.httpsPort();
    }

    private static WireMockConfiguration keyStore(Path path) {
        return wireMockConfig().keystorePath(path.toString()).keystorePassword(AdminTls.PASSWORD)
                .keyManagerPassword(AdminTls.PASSWORD).keystoreType("PKCS12");
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(home.resolve(name), text);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    // ---- exit codes of the error classes

    @Test
    void unauthenticatedExitsWith4() {
        server.stubFor(get("/v1/loadbalancers").willReturn(aResponse().withStatus(401)
                .withHeader("WWW-Authenticate", "Bearer").withBody("{\"error\":\"missing bearer token\"}")));

        Result result = meshctl("get", "lb");

        assertThat(result.code()).isEqualTo(4);
        assertThat(result.err()).isEqualTo("error: GET " + url() + "/v1/loadbalancers: HTTP 401 unauthorised (check the "
                + "bearer token or client certificate): missing bearer token\n");
    }

    @Test
    void forbiddenRoleExitsWith4() {
        server.stubFor(com.github.tomakehurst.wiremock.client.WireMock.delete("/v1/sites/osaka").willReturn(aResponse()
                .withStatus(403).withBody("{\"error\":\"role read-only may not delete\"}")));

        Result result = meshctl("delete", "site", "osaka");

        assertThat(result.code()).isEqualTo(4);
        assertThat(result.err()).contains("HTTP 403 forbidden", "role read-only may not delete");
    }

    @Test
    void refusedConnectionExitsWith3AndNamesTheUrl() throws Exception {
        int port = closedPort();

        Result result = meshctlRaw("--server", "http://127.0.0.1:" + port, "status");

        assertThat(result.code()).isEqualTo(3);
        assertThat(result.err()).startsWith("error: cannot connect to http://127.0.0.1:" + port
                + "/v1/status: connection refused");
        assertThat(result.err()).doesNotContain("\tat ").contains("--verbose");
    }

    @Test
    void verboseShowsTheDetailsOfAFailure() throws Exception {
        Result result = meshctlRaw("--server", "http://127.0.0.1:" + closedPort(), "status", "--verbose");

        assertThat(result.code()).isEqualTo(3);
        assertThat(result.err()).contains("MeshAdminException", "\tat ", "ConnectException");
    }

    @Test
    void untrustedCertificateExitsWith3() throws Exception {
        String url = startHttps(keyStore(AdminTls.serverKeyStoreFor127001(CA, home)));
        Path otherCa = write("other-ca.pem", OTHER_CA.certificatePem());

        Result result = meshctlRaw("--server", url, "--certificate-authority", otherCa.toString(), "status");
        Result jdkTrust = meshctlRaw("--server", url, "status");

        assertThat(result.code()).isEqualTo(3);
        assertThat(result.err()).startsWith("error: TLS failure at " + url + "/v1/status: certificate not trusted");
        assertThat(jdkTrust.code()).isEqualTo(3);
        assertThat(jdkTrust.err()).contains("certificate not trusted");
    }

    @Test
    void hostnameMismatchExitsWith3() throws Exception {
        String url = startHttps(keyStore(AdminTls.siteKeyStore(CA.issueSite("tokyo"), home)));
        Path ca = write("ca.pem", CA.certificatePem());

        Result result = meshctlRaw("--server", url, "--ca", ca.toString(), "status");

        assertThat(result.code()).isEqualTo(3);
        assertThat(result.err()).startsWith("error: TLS failure at " + url + "/v1/status: hostname mismatch: the server's "
                + "certificate does not name 127.0.0.1");
    }

    @Test
    void serverIdentityAcceptsADaemonsSiteCertificateWithoutAHostName() throws Exception {
        String url = startHttps(keyStore(AdminTls.siteKeyStore(CA.issueSite("tokyo"), home)));
        Path ca = write("ca.pem", CA.certificatePem());

        Result ok = meshctlRaw("--server", url, "--ca", ca.toString(),
                "--server-identity", "spiffe://" + CA.trustDomain() + "/site/tokyo", "status");
        Result wrong = meshctlRaw("--server", url, "--ca", ca.toString(),
                "--server-identity", "spiffe://" + CA.trustDomain() + "/site/osaka", "status");

        assertThat(ok.err()).isEmpty();
        assertThat(ok.code()).isZero();
        assertThat(wrong.code()).isEqualTo(3);
        assertThat(wrong.err()).contains("server identity spiffe://" + CA.trustDomain() + "/site/tokyo (expected: spiffe://"
                + CA.trustDomain() + "/site/osaka)");
    }

    @Test
    void trustedCertificateFromTheConfigFileWorks() throws Exception {
        String url = startHttps(keyStore(AdminTls.serverKeyStoreFor127001(CA, home)));
        write("ca.pem", CA.certificatePem());
        Files.createDirectories(home.resolve(".isthmus"));
        Files.writeString(home.resolve(".isthmus/meshctl.yaml"), "server: " + url + "\ncertificateAuthority: ../ca.pem\n"
                + "token: from-file\n");

        Result result = meshctlRaw("status");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).startsWith("Site:");
        https.verify(getRequestedFor(urlEqualTo("/v1/status")).withHeader("Authorization", equalTo("Bearer from-file")));
    }

    @Test
    void insecureSkipTlsVerifyWorksButWarns() throws Exception {
        String url = startHttps(keyStore(AdminTls.siteKeyStore(OTHER_CA.issueSite("tokyo"), home)));

        Result result = meshctlRaw("--server", url, "--insecure-skip-tls-verify", "status");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.err()).startsWith("warning: --insecure-skip-tls-verify: the server's certificate is not verified");
    }

    @Test
    void presentsAClientCertificateForMutualTls() throws Exception {
        String url = startHttps(keyStore(AdminTls.serverKeyStoreFor127001(CA, home)).needClientAuth(true)
                .trustStorePath(AdminTls.trustStore(CA, home).toString()).trustStorePassword(AdminTls.PASSWORD)
                .trustStoreType("PKCS12"));
        SiteCredentials operator = CA.issueSite("ops");
        Path ca = write("ca.pem", CA.certificatePem());
        Path cert = write("ops.pem", operator.certificateChainPem());
        Path key = write("ops-key.pem", operator.privateKeyPem());

        Result withCert = meshctlRaw("--server", url, "--ca", ca.toString(), "--client-certificate", cert.toString(),
                "--client-key", key.toString(), "status");
        Result withoutCert = meshctlRaw("--server", url, "--ca", ca.toString(), "status");
        Result certWithoutKey = meshctlRaw("--server", url, "--ca", ca.toString(), "--client-certificate", cert.toString(),
                "status");

        assertThat(withCert.code()).as(withCert.toString()).isZero();
        assertThat(withoutCert.code()).isEqualTo(3);
        assertThat(certWithoutKey.code()).isEqualTo(2);
        assertThat(certWithoutKey.err()).contains("a certificate without a key");
    }

    // ---- where settings come from

    @Test
    void flagsWinOverEnvironmentWhichWinsOverTheConfigFile() throws Exception {
        server.stubFor(get("/v1/status").willReturn(okJson(STATUS)));
        String closed = "http://127.0.0.1:" + closedPort();
        Path config = write("meshctl.yaml", "server: " + closed + "\ntoken: file-token\n");
        env.put("MESHCTL_CONFIG", config.toString());

        Result fileOnly = meshctlRaw("status");
        env.put("MESHCTL_SERVER", url());
        Result envOverFile = meshctlRaw("status");
        env.put("MESHCTL_SERVER", closed);
        Result flagOverEnv = meshctlRaw("--server", url(), "--token", "flag-token", "status");

        assertThat(fileOnly.code()).isEqualTo(3);
        assertThat(fileOnly.err()).contains(closed);
        assertThat(envOverFile.code()).as(envOverFile.toString()).isZero();
        assertThat(flagOverEnv.code()).as(flagOverEnv.toString()).isZero();
        server.verify(getRequestedFor(urlEqualTo("/v1/status")).withHeader("Authorization", equalTo("Bearer file-token")));
        server.verify(getRequestedFor(urlEqualTo("/v1/status")).withHeader("Authorization", equalTo("Bearer flag-token")));
    }

    @Test
    void readsTheTokenFromATokenFile() throws Exception {
        server.stubFor(get("/v1/status").willReturn(okJson(STATUS)));
        Path token = write("token", "  t0ken-from-file\n");
        env.put("MESHCTL_TOKEN_FILE", token.toString());

        Result result = meshctl("status");

        assertThat(result.code()).as(result.toString()).isZero();
        server.verify(getRequestedFor(urlEqualTo("/v1/status")).withHeader("Authorization", equalTo("Bearer t0ken-from-file")));
    }

    @Test
    void noServerAnywhereIsAUsageError() {
        Result result = meshctlRaw("status");

        assertThat(result.code()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("error: no server given (expected: --server URL, the MESHCTL_SERVER environment "
                + "variable, or \"server:\" in " + home.resolve(".isthmus/meshctl.yaml") + ")\n");
    }

    @Test
    void badConfigFileAndBadSettingsAreUsageErrors() throws Exception {
        Path unknownKey = write("unknown.yaml", "server: http://127.0.0.1:1\npassword: x\n");
        Path badCa = write("bad-ca.pem", "not a certificate");

        Result unknown = meshctlRaw("--config", unknownKey.toString(), "status");
        Result ca = meshctl("--ca", badCa.toString(), "status");
        Result url = meshctlRaw("--server", "ftp://127.0.0.1", "status");
        Result timeout = meshctl("--request-timeout", "soon", "status");

        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown setting \"password\" (expected one of: server, token,");
        assertThat(ca.code()).isEqualTo(2);
        assertThat(ca.err()).startsWith("error: trusted certificates:");
        assertThat(url.code()).isEqualTo(2);
        assertThat(url.err()).startsWith("error: adminUrl: ftp://127.0.0.1 (expected: an http or https URL");
        assertThat(timeout.code()).isEqualTo(2);
        assertThat(timeout.err()).contains("\"soon\" (expected: a positive duration");
    }

    @Test
    void unknownOptionIsAUsageErrorWithAHint() {
        Result result = meshctl("get", "lb", "--colour");

        assertThat(result.code()).isEqualTo(2);
        assertThat(result.err()).contains("Unknown option: '--colour'", "Run 'meshctl get --help' for usage.");
    }
}
