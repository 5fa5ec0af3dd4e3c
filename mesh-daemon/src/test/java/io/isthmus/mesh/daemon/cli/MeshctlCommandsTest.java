package io.isthmus.mesh.daemon.cli;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MeshctlCommandsTest extends MeshctlHarness {

    @Test
    void describesALoadBalancerWithItsPool() {
        server.stubFor(get("/v1/loadbalancers/default/osaka-app").willReturn(okJson(LB_DOC)));
        server.stubFor(get("/v1/originpools/default/osaka-pool").willReturn(okJson(POOL_DOC)));

        Result result = meshctl("describe", "loadbalancer", "osaka-app");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo(""
                + "Kind:              LoadBalancer\n"
                + "Name:              osaka-app\n"
                + "Namespace:         default\n"
                + "Resource version:  7\n"
                + "Domains:           osaka-app,osaka-app.mesh\n"
                + "Advertised at:     tokyo\n"
                + "Default pool:      default/osaka-pool (site osaka, 2 endpoints)\n");
    }

    @Test
    void describesASiteAndAPool() {
        server.stubFor(get("/v1/sites/osaka").willReturn(okJson(SITE_DOC)));
        server.stubFor(get("/v1/originpools/default/osaka-pool").willReturn(okJson(POOL_DOC)));

        Result site = meshctl("describe", "site", "osaka");
        Result pool = meshctl("describe", "originpool", "osaka-pool");

        assertThat(site.out()).isEqualTo(""
                + "Kind:              Site\n"
                + "Name:              osaka\n"
                + "Resource version:  3\n"
                + "Tunnel endpoints:\n"
                + "  127.0.0.1:4443\n"
                + "Labels:\n"
                + "  region=kansai\n");
        assertThat(pool.out()).contains("Site:              osaka\n", "Endpoints:\n  10.0.0.7:8080\n  10.0.0.8:8080\n");
    }

    @Test
    void describeOfAMissingObjectExitsWith1() {
        server.stubFor(get("/v1/sites/nowhere").willReturn(aResponse().withStatus(404).withBody("{\"error\":\"not found\"}")));

        Result result = meshctl("describe", "site", "nowhere");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("error: site/nowhere not found at " + url() + "\n");
    }

    @Test
    void deletesByKindAndName() {
        server.stubFor(delete("/v1/loadbalancers/shop/cart").willReturn(okJson("{\"deleted\":" + LB_SHOP_DOC + "}")));

        Result result = meshctl("delete", "lb", "cart", "-n", "shop");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo("loadbalancer/shop/cart deleted\n");
        server.verify(deleteRequestedFor(urlEqualTo("/v1/loadbalancers/shop/cart")));
    }

    @Test
    void deleteOfAMissingObjectExitsWith1UnlessIgnored() {
        server.stubFor(delete("/v1/sites/gone").willReturn(aResponse().withStatus(404).withBody("{\"error\":\"not found\"}")));

        Result missing = meshctl("delete", "site", "gone");
        Result ignored = meshctl("delete", "site", "gone", "--ignore-not-found");

        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("error: site/gone not found at " + url() + "\n");
        assertThat(ignored.code()).isZero();
        assertThat(ignored.out()).isEqualTo("site/gone not found\n");
    }

    @Test
    void deletesTheObjectsOfAFile() throws Exception {
        server.stubFor(delete("/v1/originpools/default/osaka-pool").willReturn(okJson("{\"deleted\":" + POOL_DOC + "}")));
        server.stubFor(delete("/v1/loadbalancers/default/osaka-app").willReturn(okJson("{\"deleted\":" + LB_DOC + "}")));
        server.stubFor(delete("/v1/sites/osaka").willReturn(okJson("{\"deleted\":" + SITE_DOC + "}")));
        Path file = Files.writeString(home.resolve("mesh.yaml"), MeshctlApplyTest.MESH_YAML);

        Result result = meshctl("delete", "-f", file.toString());

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo("originpool/default/osaka-pool deleted\nloadbalancer/default/osaka-app deleted\n"
                + "site/osaka deleted\n");
    }

    @Test
    void deleteWithoutANameIsAUsageError() {
        Result result = meshctl("delete", "lb");

        assertThat(result.code()).isEqualTo(2);
        assertThat(result.err()).startsWith("error: delete: no NAME given (expected: KIND NAME, or -f FILE)");
        server.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void showsStatusWithTunnelsAndAppliedRevisionPerRouter() {
        server.stubFor(get("/v1/status").willReturn(okJson(STATUS)));

        Result result = meshctl("status");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo(""
                + "Site:               tokyo\n"
                + "Router:             tokyo-1 (version 0.1.0)\n"
                + "State:              READY\n"
                + "Applied revision:   41 (store at 42, behind by 1)\n"
                + "\n"
                + "Tunnels:\n"
                + "  SITE      STATE        PEER                                  ADDRESS\n"
                + "  osaka     UP           spiffe://demo.isthmus.io/site/osaka   127.0.0.1:4443\n"
                + "  sapporo   CONNECTING   -                                     -\n"
                + "\n"
                + "Routers:\n"
                + "  SITE    ROUTER    VERSION   APPLIED   LAST-SEEN\n"
                + "  tokyo   tokyo-1   0.1.0     41        2026-11-25T06:30:00Z\n"
                + "  osaka   osaka-1   0.1.0     40        2026-11-25T06:29:58Z\n");
    }

    @Test
    void explainsARequestWithItsTrace() {
        server.stubFor(post("/v1/explain").willReturn(okJson("{\"allowed\":false,\"policy\":\"default/osaka-policy\","
                + "\"rule\":\"deny-admin\",\"reason\":\"path /admin is denied\","
                + "\"trace\":[\"host osaka-app -> loadbalancer default/osaka-app\",\"rule deny-admin matched\"]}")));

        Result result = meshctl("explain", "--host", "osaka-app", "--method", "GET", "--path", "/admin",
                "-H", "x-team: checkout", "--client-ip", "10.1.2.3", "--source-site", "tokyo");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo(""
                + "DENIED: GET osaka-app/admin\n"
                + "policy: default/osaka-policy\n"
                + "rule:   deny-admin\n"
                + "reason: path /admin is denied\n"
                + "trace:\n"
                + "  1. host osaka-app -> loadbalancer default/osaka-app\n"
                + "  2. rule deny-admin matched\n");
        server.verify(postRequestedFor(urlEqualTo("/v1/explain")).withRequestBody(equalToJson("{\"host\":\"osaka-app\","
                + "\"method\":\"GET\",\"path\":\"/admin\",\"headers\":{\"x-team\":\"checkout\"},\"clientIp\":\"10.1.2.3\","
                + "\"sourceSite\":\"tokyo\"}")));
    }

    @Test
    void explainNamesTheLoadBalancerWhenGivenInsteadOfAHost() {
        server.stubFor(post("/v1/explain").willReturn(okJson("{\"allowed\":true,\"reason\":\"no policy\",\"trace\":[]}")));

        Result result = meshctl("explain", "--lb", "shop/cart", "--path", "/x");

        assertThat(result.out()).isEqualTo("ALLOWED: GET shop/cart/x\nreason: no policy\n");
        server.verify(postRequestedFor(urlEqualTo("/v1/explain")).withRequestBody(equalToJson(
                "{\"loadBalancer\":\"shop/cart\",\"method\":\"GET\",\"path\":\"/x\",\"headers\":{}}")));
    }

    @Test
    void explainWithoutAPolicyEngineSaysSo() {
        server.stubFor(post("/v1/explain").willReturn(aResponse().withStatus(501)
                .withBody("{\"error\":\"the policy engine is not available in this daemon\"}")));

        Result result = meshctl("explain", "--host", "osaka-app");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("error: POST " + url() + "/v1/explain: HTTP 501 not implemented: "
                + "the policy engine is not available in this daemon\n");
    }

    @Test
    void explainRejectsMalformedArgumentsBeforeSending() {
        Result header = meshctl("explain", "--host", "osaka-app", "-H", "no-colon");
        Result path = meshctl("explain", "--host", "osaka-app", "--path", "x");
        Result both = meshctl("explain", "--host", "osaka-app", "--lb", "default/osaka-app");

        assertThat(header.code()).isEqualTo(2);
        assertThat(header.err()).startsWith("error: -H \"no-colon\" (expected: NAME:VALUE");
        assertThat(path.code()).isEqualTo(2);
        assertThat(path.err()).startsWith("error: path: \"x\" (expected: starting with /)");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        server.verify(0, anyRequestedFor(anyUrl()));
    }

    @Test
    void printsClientAndServerVersions() {
        server.stubFor(get("/v1/status").willReturn(okJson(STATUS)));

        Result both = meshctl("version");
        Result client = meshctlRaw("version", "--client");

        assertThat(both.code()).as(both.toString()).isZero();
        assertThat(both.out()).matches("Client: meshctl .+\nServer: 0\\.1\\.0 \\(site tokyo, router tokyo-1\\)\n");
        assertThat(client.code()).isZero();
        assertThat(client.out()).startsWith("Client: meshctl ").doesNotContain("Server");
    }

    @Test
    void helpDocumentsTheExitCodes() {
        Result result = meshctlRaw("--help");

        assertThat(result.code()).isZero();
        assertThat(result.out()).contains("Exit codes:", "0   success", "2   usage error", "3   cannot reach the server",
                "4   authentication or authorisation failed", "apply", "explain", "MESHCTL_SERVER", "~/.isthmus/meshctl.yaml");
    }

    @Test
    void runsThroughAPlainCommandLineToo() {
        server.stubFor(get("/v1/status").willReturn(okJson(STATUS)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = Meshctl.commandLine(new Meshctl())
                .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
                .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                .execute("--server", url(), "--config", home.resolve("none.yaml").toString(), "status");
        int plain = new CommandLine(new Meshctl()).setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8)).execute("get");

        // An explicit config file that does not exist is a usage error, also without meshctl's handlers.
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("config file " + home.resolve("none.yaml") + " does not exist");
        assertThat(plain).isEqualTo(2);
    }
}
