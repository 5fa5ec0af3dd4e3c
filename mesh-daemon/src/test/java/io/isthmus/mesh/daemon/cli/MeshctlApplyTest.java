package io.isthmus.mesh.daemon.cli;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MeshctlApplyTest extends MeshctlHarness {

    static final String MESH_YAML = ""
            + "# the Osaka app, reachable from Tokyo\n"
            + "kind: OriginPool\n"
            + "metadata: {name: osaka-pool}\n"
            + "spec:\n"
            + "  site: osaka\n"
            + "  endpoints: [\"10.0.0.7:8080\"]\n"
            + "---\n"
            + "kind: LoadBalancer\n"
            + "metadata:\n"
            + "  name: osaka-app\n"
            + "spec:\n"
            + "  domains: [osaka-app]\n"
            + "  advertiseSites: [tokyo]\n"
            + "  defaultPool: osaka-pool\n"
            + "---\n"
            + "kind: Site\n"
            + "metadata: {name: osaka}\n"
            + "spec:\n"
            + "  tunnelEndpoints: [\"127.0.0.1:4443\"]\n";

    static final String RESULTS = "{\"results\":["
            + "{\"kind\":\"OriginPool\",\"namespace\":\"default\",\"name\":\"osaka-pool\",\"action\":\"created\",\"resourceVersion\":\"10\"},"
            + "{\"kind\":\"LoadBalancer\",\"namespace\":\"default\",\"name\":\"osaka-app\",\"action\":\"updated\",\"resourceVersion\":\"11\"},"
            + "{\"kind\":\"Site\",\"name\":\"osaka\",\"action\":\"unchanged\",\"resourceVersion\":\"3\"}]}";

    static final String SENT = "[{\"kind\":\"OriginPool\",\"metadata\":{\"name\":\"osaka-pool\",\"namespace\":\"default\"},"
            + "\"spec\":{\"site\":\"osaka\",\"endpoints\":[\"10.0.0.7:8080\"]}},"
            + "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\",\"namespace\":\"default\"},"
            + "\"spec\":{\"domains\":[\"osaka-app\"],\"advertiseSites\":[\"tokyo\"],\"defaultPool\":\"osaka-pool\"}},"
            + "{\"kind\":\"Site\",\"metadata\":{\"name\":\"osaka\"},\"spec\":{\"tunnelEndpoints\":[\"127.0.0.1:4443\"],\"labels\":{}}}]";

    private static final String EXPECTED_OUT = "originpool/default/osaka-pool created\n"
            + "loadbalancer/default/osaka-app updated\n"
            + "site/osaka unchanged\n";

    @Test
    void appliesAMultiDocumentFileAndPrintsOneLinePerObject() throws Exception {
        server.stubFor(post("/v1/apply").willReturn(okJson(RESULTS)));
        Path file = Files.writeString(home.resolve("mesh.yaml"), MESH_YAML);

        Result result = meshctl("apply", "-f", file.toString());

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo(EXPECTED_OUT);
        server.verify(postRequestedFor(urlEqualTo("/v1/apply")).withRequestBody(equalToJson(SENT)));
    }

    @Test
    void appliesStandardInput() {
        server.stubFor(post("/v1/apply").willReturn(okJson(RESULTS)));

        Result result = meshctlWithInput(MESH_YAML, "apply", "--server", url(), "-f", "-");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo(EXPECTED_OUT);
        server.verify(postRequestedFor(urlEqualTo("/v1/apply")).withRequestBody(equalToJson(SENT)));
    }

    @Test
    void appliesSeveralFilesAndADirectoryInOneRequest() throws Exception {
        server.stubFor(post("/v1/apply").willReturn(okJson(RESULTS)));
        String[] docs = MESH_YAML.split("---\n");
        Path dir = Files.createDirectory(home.resolve("mesh"));
        Files.writeString(dir.resolve("1-pool.yaml"), docs[0]);
        Files.writeString(dir.resolve("2-lb.yml"), docs[1]);
        Files.writeString(dir.resolve("notes.txt"), "not a document");
        Path site = Files.writeString(home.resolve("site.json"),
                "[{\"kind\":\"Site\",\"metadata\":{\"name\":\"osaka\"},\"spec\":{\"tunnelEndpoints\":[\"127.0.0.1:4443\"]}}]");

        Result result = meshctl("apply", "-f", dir.toString(), "-f", site.toString());

        assertThat(result.code()).as(result.toString()).isZero();
        server.verify(postRequestedFor(urlEqualTo("/v1/apply")).withRequestBody(equalToJson(SENT)));
    }

    @Test
    void reportsEveryBadDocumentWithIndexLineAndFieldPathAndSendsNothing() throws Exception {
        Path file = Files.writeString(home.resolve("bad.yaml"), ""
                + "kind: LoadBalancer\n"                     // line 1, document 0: fine
                + "metadata: {name: good}\n"
                + "spec: {domains: [good], advertiseSites: [tokyo], defaultPool: p}\n"
                + "---\n"
                + "kind: LoadBalancer\n"                     // line 5, document 1: unknown field
                + "metadata: {name: osaka-app}\n"
                + "spec:\n"
                + "  domainz: [osaka-app]\n"
                + "---\n"
                + "kind: OriginPool\n"                       // line 10, document 2: bad endpoint
                + "metadata: {name: osaka-pool}\n"
                + "spec: {site: osaka, endpoints: [\"10.0.0.7:99999\"]}\n"
                + "---\n"
                + "kind: Site\n"                             // line 14, document 3: YAML syntax error
                + "metadata: {name: [unclosed\n");

        Result result = meshctl("apply", "-f", file.toString());

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.out()).isEmpty();
        String[] lines = result.err().split("\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).startsWith("error: " + file + ": document 1 (line 5): loadBalancers[osaka-app].spec.domainz: "
                + "(unknown field; expected one of: type, port, domains, advertiseSites, advertiseSelector, routes, defaultPool, servicePolicies)");
        assertThat(lines[1]).startsWith("error: " + file + ": document 2 (line 10): originPools[osaka-pool].endpoints[0]");
        assertThat(lines[2]).startsWith("error: " + file + ": document 3 (line 14): malformed YAML at line 16, column 1: while parsing a flow sequence");
        assertThat(lines[3]).isEqualTo("error: 3 invalid documents; nothing was applied");
        server.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void reportsBadDocumentsOfAJsonArrayByIndex() throws Exception {
        Path file = Files.writeString(home.resolve("bad.json"),
                "[{\"kind\":\"Site\",\"metadata\":{\"name\":\"ok\"}},{\"kind\":\"Sight\",\"metadata\":{\"name\":\"x\"}}]");

        Result result = meshctl("apply", "-f", file.toString());

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).startsWith("error: " + file + ": document 1: kind: \"Sight\" (expected: one of Site,");
        server.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void rejectsTheSameObjectTwice() throws Exception {
        Path file = Files.writeString(home.resolve("twice.yaml"),
                "kind: Site\nmetadata: {name: osaka}\n---\nkind: Site\nmetadata: {name: osaka}\n");

        Result result = meshctl("apply", "-f", file.toString());

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).contains("document 1 (line 4): site/osaka appears twice");
    }

    @Test
    void printsTheServersValidationErrorWithItsFieldPath() throws Exception {
        server.stubFor(post("/v1/apply").willReturn(aResponse().withStatus(422).withBody(
                "{\"error\":\"loadBalancers[osaka-app].spec.routes[2].pool: \\\"nowhere\\\" (expected: an existing origin pool)\","
                        + "\"field\":\"loadBalancers[osaka-app].spec.routes[2].pool\",\"value\":\"nowhere\"}")));
        Path file = Files.writeString(home.resolve("mesh.yaml"), MESH_YAML);

        Result result = meshctl("apply", "-f", file.toString());

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("error: loadBalancers[osaka-app].spec.routes[2].pool: \"nowhere\" "
                + "(expected: an existing origin pool)\n");
        assertThat(result.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void aConflictExitsWith1() throws Exception {
        server.stubFor(post("/v1/apply").willReturn(aResponse().withStatus(409)
                .withBody("{\"error\":\"loadbalancer default/osaka-app changed concurrently\",\"currentResourceVersion\":\"12\"}")));
        Path file = Files.writeString(home.resolve("mesh.yaml"), MESH_YAML);

        Result result = meshctl("apply", "-f", file.toString());

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).startsWith("error: POST " + url() + "/v1/apply: HTTP 409 conflict: loadbalancer "
                + "default/osaka-app changed concurrently");
    }

    @Test
    void dryRunValidatesWithoutSending() throws Exception {
        Path file = Files.writeString(home.resolve("mesh.yaml"), MESH_YAML);

        Result result = meshctlRaw("apply", "--dry-run", "-f", file.toString());

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).contains("loadbalancer/default/osaka-app valid (dry run)");
        server.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void missingFileAndMissingFlagAreUsageErrors() {
        Result missing = meshctl("apply", "-f", home.resolve("nope.yaml").toString());
        Result noFlag = meshctl("apply");

        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).isEqualTo("error: -f: " + home.resolve("nope.yaml") + " does not exist\n");
        assertThat(noFlag.code()).isEqualTo(2);
        assertThat(noFlag.err()).contains("Missing required option");
    }

    @Test
    void emptyInputAppliesNothing() {
        Result result = meshctlWithInput("# nothing here\n---\n", "--server", url(), "apply", "-f", "-");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("error: no objects found in -; nothing was applied\n");
    }
}
