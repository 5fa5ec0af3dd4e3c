package io.isthmus.mesh.daemon.cli;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code meshctl token create}: what it sends, what it prints, and its exit codes. */
class MeshctlTokenTest extends MeshctlHarness {

    private static final String TOKEN = "0123456789abcdef." + "A".repeat(43);
    private static final String ISSUED = "{\"token\":\"" + TOKEN + "\",\"tokenId\":\"0123456789abcdef\","
            + "\"site\":\"kyoto\",\"spiffeId\":\"spiffe://mesh.example/site/kyoto\",\"trustDomain\":\"mesh.example\","
            + "\"expiresAt\":\"2026-11-25T08:00:00Z\"}";

    @Test
    void printsTheTokenAloneOnTheFirstLineThenTheDaemonCommandLine() {
        server.stubFor(post("/v1/join-tokens").willReturn(aResponse().withStatus(201)
                .withHeader("Content-Type", "application/json").withBody(ISSUED)));

        Result result = meshctl("--token", "admin-secret", "token", "create", "kyoto", "--ttl", "30m");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out().lines().findFirst()).hasValue(TOKEN);
        assertThat(result.out()).contains("Join token 0123456789abcdef for site kyoto "
                + "(spiffe://mesh.example/site/kyoto), valid until 2026-11-25T08:00:00Z, usable once.")
                .contains("java -jar isthmus-daemon.jar --site kyoto --trust-domain mesh.example \\\n"
                        + "    --join-token " + TOKEN + " \\\n    --join-server " + url() + "\n");
        server.verify(postRequestedFor(urlEqualTo("/v1/join-tokens"))
                .withHeader("Authorization", equalTo("Bearer admin-secret"))
                .withRequestBody(equalToJson("{\"site\":\"kyoto\",\"ttl\":\"30m\"}")));
    }

    @Test
    void exitsWith4WhenTheRoleMayNotIssueTokens() {
        server.stubFor(post("/v1/join-tokens").willReturn(aResponse().withStatus(403)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"bearer token may not POST /v1/join-tokens (expected role: admin)\"}")));

        Result result = meshctl("--token", "reader", "token", "create", "kyoto");

        assertThat(result.code()).as(result.toString()).isEqualTo(Meshctl.UNAUTHORISED);
        assertThat(result.err()).contains("HTTP 403").contains("expected role: admin");
        assertThat(result.out()).isEmpty();
    }

    @Test
    void exitsWith1WhenTheDaemonRefusesTheRequest() {
        server.stubFor(post("/v1/join-tokens").willReturn(aResponse().withStatus(400)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"error\":\"bad request: ttl: \\\"forever\\\" (expected: a duration such as 90s)\"}")));

        Result result = meshctl("--token", "admin-secret", "token", "create", "kyoto", "--ttl", "forever");

        assertThat(result.code()).as(result.toString()).isEqualTo(Meshctl.REFUSED);
        assertThat(result.err()).contains("ttl: \"forever\"");
    }

    @Test
    void exitsWith3WhenTheDaemonCannotBeReached() {
        String url = url();
        server.stop();

        Result result = meshctlRaw("--server", url, "--token", "admin-secret", "token", "create", "kyoto");

        assertThat(result.code()).as(result.toString()).isEqualTo(Meshctl.UNREACHABLE);
        assertThat(result.err()).contains("cannot connect to " + url);
    }
}
