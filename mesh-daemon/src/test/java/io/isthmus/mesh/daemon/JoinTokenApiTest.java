package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SiteEnrollment;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.pki.TrustBundle;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /v1/join-tokens} and {@code POST /v1/join} on a daemon that holds the development CA:
 * issuing needs the admin role, redeeming needs only the token, and every refusal leaves the token
 * as it was.
 */
class JoinTokenApiTest {

    static final String TRUST_DOMAIN = "dev.isthmus.local";

    @TempDir
    static Path state;

    static RouterDaemon daemon;
    static Http admin;
    static TrustBundle bundle;

    @BeforeAll
    static void start() throws IOException {
        Path tokens = state.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\nread-only " + AdminApiTest.READER + "\n");
        daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), AdminApiTest.settings(state.resolve("tokyo"),
                tokens)), List.of());
        admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
        bundle = TrustBundle.fromPem(TRUST_DOMAIN, Files.readString(state.resolve("tokyo/trust-bundle.pem")));
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private static JsonNode issue(String site, String ttl) {
        HttpResponse<String> response = admin.post("/v1/join-tokens", AdminApiTest.JSON,
                "{\"site\":\"" + site + "\",\"ttl\":\"" + ttl + "\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return Http.json(response);
    }

    private static HttpResponse<String> join(String token, String csr) {
        ObjectNode body = Http.JSON.createObjectNode();
        body.put("token", token);
        body.put("csr", csr);
        // No bearer token: the join token is the only credential.
        return admin.withToken(null).post("/v1/join", AdminApiTest.JSON, body.toString());
    }

    @Test
    void issuesATokenThatANewSiteRedeemsForItsCertificate() {
        JsonNode issued = issue("kyoto", "1h");
        String token = issued.path("token").asString();
        assertThat(token).matches("[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}");
        assertThat(issued.path("site").asString()).isEqualTo("kyoto");
        assertThat(issued.path("trustDomain").asString()).isEqualTo(TRUST_DOMAIN);
        assertThat(issued.path("spiffeId").asString()).isEqualTo("spiffe://dev.isthmus.local/site/kyoto");
        Instant expiresAt = Instant.parse(issued.path("expiresAt").asString());
        assertThat(expiresAt).isBetween(Instant.now().plus(Duration.ofMinutes(59)), Instant.now().plus(Duration.ofMinutes(61)));

        SiteEnrollment kyoto = SiteEnrollment.create(TRUST_DOMAIN, "kyoto");
        HttpResponse<String> joined = join(token, kyoto.csrPem());

        assertThat(joined.statusCode()).as(joined.body()).isEqualTo(200);
        JsonNode answer = Http.json(joined);
        SiteCredentials credentials = kyoto.complete(answer.path("certificateChain").asString(),
                answer.path("trustBundle").asString());
        assertThat(credentials.spiffeId()).isEqualTo(SpiffeId.ofSite(TRUST_DOMAIN, "kyoto"));
        // Issued by the daemon's CA: it verifies against the bundle tokyo itself trusts.
        assertThat(bundle.verify(credentials.certificateChain())).isEqualTo(SpiffeId.ofSite(TRUST_DOMAIN, "kyoto"));
    }

    @Test
    void refusesASecondUseOfATokenAsAnInvalidToken() {
        String token = issue("nara", "1h").path("token").asString();
        assertThat(join(token, SiteEnrollment.create(TRUST_DOMAIN, "nara").csrPem()).statusCode()).isEqualTo(200);

        HttpResponse<String> again = join(token, SiteEnrollment.create(TRUST_DOMAIN, "nara").csrPem());

        assertThat(again.statusCode()).isEqualTo(401);
        assertThat(Http.json(again).path("error").asString()).isEqualTo("invalid token");
    }

    @Test
    void refusesAnExpiredTokenAsAnInvalidToken() {
        JsonNode issued = issue("kobe", "1s");
        Instant expiresAt = Instant.parse(issued.path("expiresAt").asString());
        await().atMost(Duration.ofSeconds(5)).until(() -> Instant.now().isAfter(expiresAt));

        HttpResponse<String> late = join(issued.path("token").asString(),
                SiteEnrollment.create(TRUST_DOMAIN, "kobe").csrPem());

        assertThat(late.statusCode()).isEqualTo(401);
        assertThat(Http.json(late).path("error").asString()).isEqualTo("invalid token");
    }

    @Test
    void answersUnknownAndMalformedTokensExactlyLikeUsedOnes() {
        String csr = SiteEnrollment.create(TRUST_DOMAIN, "kyoto").csrPem();
        String unknown = "0123456789abcdef." + "A".repeat(43);
        String issued = issue("kyoto", "1h").path("token").asString();
        String wrongSecret = issued.substring(0, 17) + "B".repeat(43);

        for (String token : List.of(unknown, "not-a-token", wrongSecret)) {
            HttpResponse<String> refused = join(token, csr);
            assertThat(refused.statusCode()).as(token).isEqualTo(401);
            assertThat(refused.body()).as(token).isEqualTo("{\"error\":\"invalid token\"}\n");
        }
        // A wrong secret did not use up the real token.
        assertThat(join(issued, csr).statusCode()).isEqualTo(200);
    }

    @Test
    void refusesACsrForAnotherSiteWith403AndKeepsTheToken() {
        String token = issue("sendai", "1h").path("token").asString();

        HttpResponse<String> other = join(token, SiteEnrollment.create(TRUST_DOMAIN, "tokyo").csrPem());

        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(Http.json(other).path("error").asString()).contains("is for site sendai").contains("CSR for tokyo");
        assertThat(join(token, SiteEnrollment.create(TRUST_DOMAIN, "sendai").csrPem()).statusCode()).isEqualTo(200);
    }

    @Test
    void refusesABadCsrWith400AndKeepsTheToken() {
        String token = issue("hakata", "1h").path("token").asString();

        HttpResponse<String> garbage = join(token, "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n"
                + "-----END CERTIFICATE REQUEST-----\n");
        HttpResponse<String> missing = admin.withToken(null).post("/v1/join", AdminApiTest.JSON,
                "{\"token\":\"" + token + "\"}");

        assertThat(garbage.statusCode()).as(garbage.body()).isEqualTo(400);
        assertThat(Http.json(garbage).path("error").asString()).startsWith("csr: ");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(Http.json(missing).path("error").asString()).startsWith("csr: missing");
        assertThat(join(token, SiteEnrollment.create(TRUST_DOMAIN, "hakata").csrPem()).statusCode()).isEqualTo(200);
    }

    @Test
    void onlyTheAdminRoleMayIssueTokens() {
        HttpResponse<String> reader = admin.withToken(AdminApiTest.READER).post("/v1/join-tokens", AdminApiTest.JSON,
                "{\"site\":\"kyoto\"}");
        HttpResponse<String> anonymous = admin.withToken(null).post("/v1/join-tokens", AdminApiTest.JSON,
                "{\"site\":\"kyoto\"}");

        assertThat(reader.statusCode()).isEqualTo(403);
        assertThat(Http.json(reader).path("error").asString()).contains("expected role: admin");
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    @Test
    void refusesABadSiteOrTtlWith400() {
        HttpResponse<String> badSite = admin.post("/v1/join-tokens", AdminApiTest.JSON, "{\"site\":\"Not A Site\"}");
        HttpResponse<String> noSite = admin.post("/v1/join-tokens", AdminApiTest.JSON, "{\"ttl\":\"1h\"}");
        HttpResponse<String> badTtl = admin.post("/v1/join-tokens", AdminApiTest.JSON,
                "{\"site\":\"kyoto\",\"ttl\":\"forever\"}");
        HttpResponse<String> longTtl = admin.post("/v1/join-tokens", AdminApiTest.JSON,
                "{\"site\":\"kyoto\",\"ttl\":\"30d\"}");

        assertThat(badSite.statusCode()).isEqualTo(400);
        assertThat(Http.json(badSite).path("error").asString()).contains("site: \"Not A Site\"");
        assertThat(noSite.statusCode()).isEqualTo(400);
        assertThat(Http.json(noSite).path("error").asString()).contains("site: missing");
        assertThat(badTtl.statusCode()).isEqualTo(400);
        assertThat(Http.json(badTtl).path("error").asString()).contains("ttl: \"forever\"");
        assertThat(longTtl.statusCode()).isEqualTo(400);
        assertThat(Http.json(longTtl).path("error").asString()).contains("<= 7d");
    }
}
