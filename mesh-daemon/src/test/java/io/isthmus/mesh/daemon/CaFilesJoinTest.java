package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SiteEnrollment;
import io.isthmus.mesh.pki.SpiffeId;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** A daemon given the CA as {@code ca.*} files issues join tokens; a daemon without the CA has no join endpoints. */
class CaFilesJoinTest {

    @TempDir
    Path dir;

    private Map<String, String> withCredentials(MeshCertificateAuthority ca, String site) throws Exception {
        Path state = dir.resolve(site);
        Files.createDirectories(state);
        SiteCredentials credentials = ca.issueSite(site);
        Files.writeString(state.resolve("cred.pem"), credentials.certificateChainPem());
        Files.writeString(state.resolve("cred-key.pem"), credentials.privateKeyPem());
        Files.writeString(state.resolve("bundle.pem"), ca.trustBundlePem());
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "admin " + AdminApiTest.ADMIN + "\n");
        Map<String, String> flags = AdminApiTest.settings(state, tokens);
        flags.remove("dev.generateCa");
        flags.put("site", site);
        flags.put("trustDomain", ca.trustDomain());
        flags.put("credentials.certificateChain", state.resolve("cred.pem").toString());
        flags.put("credentials.privateKey", state.resolve("cred-key.pem").toString());
        flags.put("credentials.trustBundle", state.resolve("bundle.pem").toString());
        return flags;
    }

    @Test
    void aDaemonGivenTheCaFilesIssuesTokensThatJoinSitesToItsMesh() throws Exception {
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.example");
        Files.writeString(dir.resolve("ca.pem"), ca.certificatePem());
        Files.writeString(dir.resolve("ca-key.pem"), ca.privateKeyPem());
        Map<String, String> flags = withCredentials(ca, "tokyo");
        flags.put("ca.certificate", dir.resolve("ca.pem").toString());
        flags.put("ca.privateKey", dir.resolve("ca-key.pem").toString());

        try (RouterDaemon daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), flags), List.of())) {
            Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);
            HttpResponse<String> issued = admin.post("/v1/join-tokens", AdminApiTest.JSON, "{\"site\":\"nara\"}");
            assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
            assertThat(Http.json(issued).path("trustDomain").asString()).isEqualTo("mesh.example");

            SiteEnrollment nara = SiteEnrollment.create("mesh.example", "nara");
            ObjectNode body = Http.JSON.createObjectNode();
            body.put("token", Http.json(issued).path("token").asString());
            body.put("csr", nara.csrPem());
            HttpResponse<String> joined = admin.withToken(null).post("/v1/join", AdminApiTest.JSON, body.toString());

            assertThat(joined.statusCode()).as(joined.body()).isEqualTo(200);
            JsonNode answer = Http.json(joined);
            SiteCredentials credentials = nara.complete(answer.path("certificateChain").asString(),
                    answer.path("trustBundle").asString());
            assertThat(ca.trustBundle().verify(credentials.certificateChain()))
                    .isEqualTo(SpiffeId.ofSite("mesh.example", "nara"));
        }
    }

    @Test
    void aDaemonWithoutTheCaAnswersTheJoinPathsWith404() throws Exception {
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.example");
        try (RouterDaemon daemon = RouterDaemon.start(DaemonConfig.load(null, Map.of(), withCredentials(ca, "osaka")),
                List.of())) {
            Http admin = new Http("http://127.0.0.1:" + daemon.adminAddress().getPort(), AdminApiTest.ADMIN);

            HttpResponse<String> issue = admin.post("/v1/join-tokens", AdminApiTest.JSON, "{\"site\":\"nara\"}");
            HttpResponse<String> join = admin.withToken(null).post("/v1/join", AdminApiTest.JSON,
                    "{\"token\":\"x\",\"csr\":\"y\"}");

            assertThat(issue.statusCode()).isEqualTo(404);
            assertThat(Http.json(issue).path("error").asString()).contains("does not hold the mesh CA");
            assertThat(join.statusCode()).isEqualTo(404);
        }
    }
}
