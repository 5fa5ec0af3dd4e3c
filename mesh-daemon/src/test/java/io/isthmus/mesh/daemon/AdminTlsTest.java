package io.isthmus.mesh.daemon;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API over TLS with the site's certificate, authenticating callers by mesh client
 * certificates mapped to roles.
 */
class AdminTlsTest {

    @TempDir
    static Path state;

    static RouterDaemon daemon;
    static MeshCertificateAuthority ca;

    @BeforeAll
    static void start() throws IOException {
        Path config = state.resolve("daemon.yaml");
        Files.writeString(config, String.join("\n",
                "site: tokyo",
                "dev: {generateCa: true}",
                "stateDir: " + state,
                "ingress: {port: 0}",
                "tunnel: {port: 0}",
                "admin:",
                "  port: 0",
                "  clientCertificateRoles:",
                "    \"spiffe://dev.isthmus.local/site/ops\": admin",
                "    \"spiffe://dev.isthmus.local/site/viewer\": read-only",
                "drain: {delay: 0s}",
                ""));
        daemon = RouterDaemon.start(DaemonConfig.load(config, Map.of(), Map.of()), List.of());
        Path caDir = state.resolve("ca");
        ca = MeshCertificateAuthority.fromPem("dev.isthmus.local", Files.readString(caDir.resolve("ca.pem")),
                Files.readString(caDir.resolve("ca-key.pem")));
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    /** Calls the admin API as a client with (or without) a certificate; returns the status code. */
    private static int call(String method, String path, @Nullable SiteCredentials client, @Nullable String body)
            throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        if (client != null) {
            keys.setKeyEntry("client", client.privateKey(), new char[0], client.certificateChain().toArray(new Certificate[0]));
        }
        kmf.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

        HttpsURLConnection connection = (HttpsURLConnection) URI.create(
                "https://127.0.0.1:" + daemon.adminAddress().getPort() + path).toURL().openConnection();
        connection.setSSLSocketFactory(context.getSocketFactory());
        // The admin API presents the site's certificate, which names a SPIFFE id rather than a host:
        // check that id instead of the host name.
        connection.setHostnameVerifier((host, session) -> {
            try {
                X509Certificate leaf = (X509Certificate) session.getPeerCertificates()[0];
                return io.isthmus.mesh.pki.SpiffeId.fromCertificate(leaf).site().equals("tokyo");
            } catch (Exception e) {
                return false;
            }
        });
        connection.setConnectTimeout(5000);
        connection.setReadTimeout(10000);
        connection.setRequestMethod(method);
        if (body != null) {
            connection.setDoOutput(true);
            connection.setRequestProperty("Content-Type", "application/json");
            try (OutputStream out = connection.getOutputStream()) {
                out.write(body.getBytes(UTF_8));
            }
        }
        int status = connection.getResponseCode();
        try (InputStream in = status < 400 ? connection.getInputStream() : connection.getErrorStream()) {
            if (in != null) {
                in.readAllBytes();
            }
        }
        connection.disconnect();
        return status;
    }

    @Test
    void acceptsAMeshClientCertificateMappedToTheAdminRole() throws Exception {
        String pool = "{\"kind\":\"OriginPool\",\"metadata\":{\"name\":\"tls-pool\"},"
                + "\"spec\":{\"site\":\"tokyo\",\"endpoints\":[\"127.0.0.1:9\"]}}";
        assertThat(call("PUT", "/v1/originpools/default/tls-pool", ca.issueSite("ops"), pool)).isEqualTo(201);
        assertThat(call("GET", "/v1/originpools/default/tls-pool", ca.issueSite("ops"), null)).isEqualTo(200);
    }

    @Test
    void readOnlyCertificateMayReadButNotWrite() throws Exception {
        assertThat(call("GET", "/v1/status", ca.issueSite("viewer"), null)).isEqualTo(200);
        assertThat(call("DELETE", "/v1/originpools/default/tls-pool", ca.issueSite("viewer"), null)).isEqualTo(403);
    }

    @Test
    void rejectsAnUnmappedCertificateWith403AndNoCredentialsWith401() throws Exception {
        assertThat(call("GET", "/v1/status", ca.issueSite("stranger"), null)).isEqualTo(403);
        assertThat(call("GET", "/v1/status", null, null)).isEqualTo(401);
        assertThat(call("GET", "/healthz", null, null)).isEqualTo(200);
    }

    @Test
    void rejectsACertificateFromAnotherCa() throws Exception {
        SiteCredentials foreign = MeshCertificateAuthority.create("dev.isthmus.local").issueSite("ops");
        int status;
        try {
            status = call("GET", "/v1/status", foreign, null);
        } catch (IOException e) {
            status = -1; // the TLS handshake itself refused the certificate: just as good
        }
        assertThat(status).isIn(-1, 401);
    }
}
