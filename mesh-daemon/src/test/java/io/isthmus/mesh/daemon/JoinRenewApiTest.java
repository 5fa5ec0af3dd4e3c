package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.daemon.internal.DevCa;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SiteEnrollment;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.pki.TrustBundle;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /v1/renew} on a daemon that holds the development CA, with its admin API over TLS: a site
 * authenticated by its current certificate gets a new one for its new key; requests without a client
 * certificate, for another site's identity or with a bad CSR are refused. And a joined site whose
 * stored certificate has expired does not start on it.
 */
class JoinRenewApiTest {

    static final String TRUST_DOMAIN = "dev.isthmus.local";

    @TempDir
    static Path state;

    static RouterDaemon daemon;
    static String adminUrl;
    static Path bundleFile;
    static TrustBundle bundle;
    static MeshCertificateAuthority ca;

    @BeforeAll
    static void start() throws IOException {
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        Map<String, String> flags = AdminApiTest.settings(state.resolve("tokyo"), tokens);
        flags.put("admin.tls.enabled", "true");
        flags.put("ca.siteCertificateValidity", "2h");
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), flags), List.of());
        adminUrl = "https://127.0.0.1:" + daemon.adminAddress().getPort();
        bundleFile = state.resolve("tokyo/trust-bundle.pem");
        bundle = TrustBundle.fromPem(TRUST_DOMAIN, Files.readString(bundleFile));
        ca = DevCa.load(state.resolve("tokyo/ca"), TRUST_DOMAIN);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    /** POSTs JSON over TLS, trusting tokyo's bundle, with {@code client} as the client certificate. */
    static HttpResponse<String> post(String path, String body, @Nullable SiteCredentials client,
            @Nullable String bearer) throws Exception {
        MeshConnection.Builder connection = MeshConnection.builder(URI.create(adminUrl))
                .trustedCertificatesPem(Files.readString(bundleFile))
                .serverIdentity(SpiffeId.ofSite(TRUST_DOMAIN, "tokyo"));
        if (client != null) {
            connection.clientCredentials(client.certificateChainPem(), client.privateKeyPem());
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(connection.build().sslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(adminUrl + path))
                .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String csrBody(String csr) {
        ObjectNode body = Http.JSON.createObjectNode();
        body.put("csr", csr);
        return body.toString();
    }

    private static String error(HttpResponse<String> response) {
        return Http.json(response).path("error").asString();
    }

    @Test
    void aSiteRenewsWithItsCurrentCertificateForANewKey() throws Exception {
        SiteCredentials kyoto = ca.issueSite("kyoto");
        SiteEnrollment renewal = SiteEnrollment.create(TRUST_DOMAIN, "kyoto");

        HttpResponse<String> response = post("/v1/renew", csrBody(renewal.csrPem()), kyoto, null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode answer = Http.json(response);
        SiteCredentials renewed = renewal.complete(answer.path("certificateChain").asString(),
                answer.path("trustBundle").asString());
        assertThat(renewed.spiffeId()).isEqualTo(SpiffeId.ofSite(TRUST_DOMAIN, "kyoto"));
        assertThat(renewed.certificate().getPublicKey()).isNotEqualTo(kyoto.certificate().getPublicKey());
        assertThat(bundle.verify(renewed.certificateChain())).isEqualTo(renewed.spiffeId());
        // Issued like a joined certificate: valid for ca.siteCertificateValidity.
        assertThat(renewed.notAfter()).isBetween(Instant.now().plus(Duration.ofMinutes(110)),
                Instant.now().plus(Duration.ofMinutes(121)));
    }

    @Test
    void refusesARenewalWithoutAClientCertificate() throws Exception {
        HttpResponse<String> response = post("/v1/renew",
                csrBody(SiteEnrollment.create(TRUST_DOMAIN, "kyoto").csrPem()), null, null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(401);
        assertThat(error(response)).startsWith("renewal requires the site's current certificate as the TLS client "
                + "certificate");
    }

    @Test
    void refusesARenewalWithABearerTokenOnly() throws Exception {
        HttpResponse<String> response = post("/v1/renew",
                csrBody(SiteEnrollment.create(TRUST_DOMAIN, "kyoto").csrPem()), null, AdminApiTest.ADMIN);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(401);
    }

    @Test
    void refusesACsrForAnotherSite() throws Exception {
        SiteCredentials kyoto = ca.issueSite("kyoto");

        HttpResponse<String> response = post("/v1/renew",
                csrBody(SiteEnrollment.create(TRUST_DOMAIN, "osaka").csrPem()), kyoto, null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(403);
        assertThat(error(response)).isEqualTo("spiffe://dev.isthmus.local/site/kyoto may renew only its own "
                + "certificate, CSR for spiffe://dev.isthmus.local/site/osaka");
    }

    @Test
    void refusesABadCsr() throws Exception {
        SiteCredentials kyoto = ca.issueSite("kyoto");

        HttpResponse<String> garbage = post("/v1/renew", csrBody("not a certificate request"), kyoto, null);
        HttpResponse<String> missing = post("/v1/renew", "{}", kyoto, null);

        assertThat(garbage.statusCode()).as(garbage.body()).isEqualTo(400);
        assertThat(error(garbage)).startsWith("csr: ").contains("for spiffe://dev.isthmus.local/site/kyoto");
        assertThat(missing.statusCode()).as(missing.body()).isEqualTo(400);
        assertThat(error(missing)).isEqualTo("csr: missing (expected: a non-empty string)");
    }

    @Test
    void aJoinedSiteWhoseCertificateExpiredDoesNotStartOnItAndJoinsAgainWithANewToken() throws Exception {
        Path kyotoState = state.resolve("kyoto-expired");
        Instant now = Instant.now();
        SiteCredentials expired = ca.issueSite("kyoto", now.minus(Duration.ofHours(2)), now.minus(Duration.ofHours(1)));
        Files.createDirectories(kyotoState);
        Files.writeString(kyotoState.resolve("site.pem"), expired.certificateChainPem());
        Files.writeString(kyotoState.resolve("site-key.pem"), expired.privateKeyPem());
        Files.writeString(kyotoState.resolve("trust-bundle.pem"), bundle.toPem());
        Map<String, String> flags = AdminApiTest.settings(kyotoState, state.resolve("tokens"));
        flags.remove("dev.generateCa");
        flags.put("site", "kyoto");
        flags.put("routerId", "kyoto-1");
        flags.put("trustDomain", TRUST_DOMAIN);
        flags.put("join.server", adminUrl);
        flags.put("join.caBundle", bundleFile.toString());
        flags.put("join.serverIdentity", "spiffe://" + TRUST_DOMAIN + "/site/tokyo");
        // The token it joined with long ago: used up, or unknown to a restarted CA daemon.
        flags.put("join.token", "0123456789abcdef." + "a".repeat(43));
        DaemonConfig old = DaemonConfig.load(null, Map.of(), flags);

        assertThatThrownBy(() -> RouterDaemon.start(old, List.of()))
                .hasMessageContaining("expired at " + expired.notAfter())
                .hasMessageContaining("an expired certificate cannot renew itself")
                .hasMessageContaining("HTTP 401 invalid token")
                .hasMessageContaining("Issue a new join token with \"meshctl token create kyoto\"");
        assertThat(Files.readString(kyotoState.resolve("site.pem"))).isEqualTo(expired.certificateChainPem());

        HttpResponse<String> issued = post("/v1/join-tokens", "{\"site\":\"kyoto\",\"ttl\":\"10m\"}", null,
                AdminApiTest.ADMIN);
        assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
        flags.put("join.token", Http.json(issued).path("token").asString());
        try (RouterDaemon kyoto = RouterDaemon.start(DaemonConfig.load(null, Map.of(), flags), List.of())) {
            SiteCredentials joined = SiteCredentials.fromFiles(TRUST_DOMAIN, kyotoState.resolve("site.pem"),
                    kyotoState.resolve("site-key.pem"), kyotoState.resolve("trust-bundle.pem"));
            assertThat(joined.notAfter()).isAfter(Instant.now());
            assertThat(bundle.verify(joined.certificateChain())).isEqualTo(SpiffeId.ofSite(TRUST_DOMAIN, "kyoto"));
            assertThat(kyoto.state()).isNotNull();
        }
    }
}
