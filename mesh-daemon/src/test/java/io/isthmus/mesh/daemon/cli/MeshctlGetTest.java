package io.isthmus.mesh.daemon.cli;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MeshctlGetTest extends MeshctlHarness {

    private void stubLists() {
        server.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":12,\"items\":[" + LB_DOC + ","
                + LB_SHOP_DOC + "]}")));
        server.stubFor(get("/v1/originpools").willReturn(okJson("{\"revision\":12,\"items\":[" + POOL_DOC + "]}")));
        server.stubFor(get("/v1/sites").willReturn(okJson("{\"revision\":12,\"items\":[" + SITE_DOC + "]}")));
    }

    @Test
    void listsLoadBalancersOfAllNamespacesAsATable() {
        stubLists();

        Result result = meshctl("get", "lb");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).isEqualTo(""
                + "NAMESPACE   NAME        DOMAINS                    ADVERTISED    POOL         REV\n"
                + "default     osaka-app   osaka-app,osaka-app.mesh   tokyo         osaka-pool   7\n"
                + "shop        cart        cart                       tokyo,osaka   cart-pool    9\n");
        assertThat(result.err()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"lb", "LB", "loadbalancer", "loadbalancers", "LoadBalancer", "lbs"})
    void acceptsEveryNameOfTheLoadBalancerKind(String kind) {
        stubLists();

        Result result = meshctl("get", kind);

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).contains("osaka-app");
        server.verify(getRequestedFor(urlEqualTo("/v1/loadbalancers")));
    }

    @Test
    void listsPoolsAndSitesWithTheirColumns() {
        stubLists();

        Result pools = meshctl("get", "pool");
        Result sites = meshctl("get", "sites");

        assertThat(pools.out()).isEqualTo(""
                + "NAMESPACE   NAME         SITE    ENDPOINTS                     REV\n"
                + "default     osaka-pool   osaka   10.0.0.7:8080,10.0.0.8:8080   5\n");
        assertThat(sites.out()).isEqualTo(""
                + "NAME    TUNNEL-ENDPOINTS   LABELS          REV\n"
                + "osaka   127.0.0.1:4443     region=kansai   3\n");
    }

    @Test
    void filtersByNamespace() {
        stubLists();

        Result result = meshctl("get", "loadbalancers", "-n", "shop");

        assertThat(result.out()).contains("cart").doesNotContain("osaka-app");
    }

    @Test
    void saysSoWhenThereIsNothingToList() {
        server.stubFor(get("/v1/loadbalancers").willReturn(okJson("{\"revision\":12,\"items\":[]}")));

        Result result = meshctl("get", "lb", "-n", "nowhere");

        assertThat(result.code()).isZero();
        assertThat(result.out()).isEmpty();
        assertThat(result.err()).isEqualTo("No loadbalancers found in namespace nowhere.\n");
    }

    @Test
    void printsOneObjectAsJsonWithItsResourceVersion() {
        server.stubFor(get("/v1/loadbalancers/default/osaka-app").willReturn(okJson(LB_DOC)));

        Result result = meshctl("get", "lb", "osaka-app", "-o", "json");

        assertThat(result.code()).as(result.toString()).isZero();
        assertThat(result.out()).contains("\"resourceVersion\" : \"7\"");
        assertThat(server.getAllServeEvents()).hasSize(1);
        assertThat(equalToJson(LB_DOC).match(result.out()).isExactMatch()).isTrue();
    }

    @Test
    void printsAListAsJsonItems() {
        stubLists();

        Result result = meshctl("get", "pool", "-o", "JSON");

        assertThat(equalToJson("{\"items\":[" + POOL_DOC + "]}").match(result.out()).isExactMatch())
                .as(result.out()).isTrue();
    }

    @Test
    void printsYamlThatApplyAcceptsAgain() {
        stubLists();
        server.stubFor(post("/v1/apply").willReturn(okJson("{\"results\":["
                + "{\"kind\":\"LoadBalancer\",\"namespace\":\"default\",\"name\":\"osaka-app\",\"action\":\"unchanged\",\"resourceVersion\":\"7\"},"
                + "{\"kind\":\"LoadBalancer\",\"namespace\":\"shop\",\"name\":\"cart\",\"action\":\"unchanged\",\"resourceVersion\":\"9\"}]}")));

        Result yaml = meshctl("get", "lb", "-o", "yaml");
        Result applied = meshctlWithInput(yaml.out(), "--server", url(), "apply", "-f", "-");

        assertThat(yaml.out()).isEqualTo(""
                + "kind: LoadBalancer\n"
                + "metadata:\n"
                + "  name: osaka-app\n"
                + "  namespace: default\n"
                + "  resourceVersion: \"7\"\n"
                + "spec:\n"
                + "  domains:\n"
                + "    - osaka-app\n"
                + "    - osaka-app.mesh\n"
                + "  advertiseSites:\n"
                + "    - tokyo\n"
                + "  defaultPool: osaka-pool\n"
                + "---\n"
                + "kind: LoadBalancer\n"
                + "metadata:\n"
                + "  name: cart\n"
                + "  namespace: shop\n"
                + "  resourceVersion: \"9\"\n"
                + "spec:\n"
                + "  domains:\n"
                + "    - cart\n"
                + "  advertiseSites:\n"
                + "    - tokyo\n"
                + "    - osaka\n"
                + "  defaultPool: cart-pool\n");
        assertThat(applied.code()).as(applied.toString()).isZero();
        assertThat(applied.out()).isEqualTo("loadbalancer/default/osaka-app unchanged\nloadbalancer/shop/cart unchanged\n");
        server.verify(postRequestedFor(urlEqualTo("/v1/apply")));
    }

    @Test
    void missingObjectExitsWith1() {
        server.stubFor(get("/v1/loadbalancers/default/nope").willReturn(aResponse().withStatus(404)
                .withBody("{\"error\":\"not found\"}")));

        Result result = meshctl("get", "lb", "nope");

        assertThat(result.code()).isEqualTo(1);
        assertThat(result.err()).isEqualTo("error: loadbalancer/default/nope not found at " + url() + "\n");
    }

    @Test
    void unknownKindIsAUsageError() {
        Result result = meshctl("get", "frobs");

        assertThat(result.code()).isEqualTo(2);
        assertThat(result.err()).startsWith("error: unknown kind \"frobs\" (expected: one of site, lb|loadbalancer,");
        assertThat(server.getAllServeEvents()).isEmpty();
    }

    @Test
    void listsServicePoliciesByTheirShortName() {
        server.stubFor(get("/v1/servicepolicies").willReturn(okJson("{\"revision\":7,\"items\":[{\"kind\":\"ServicePolicy\","
                + "\"metadata\":{\"name\":\"allow-tokyo\",\"namespace\":\"default\",\"resourceVersion\":\"7\"},"
                + "\"spec\":{\"defaultAction\":\"DENY\",\"rules\":[{\"action\":\"ALLOW\",\"sourceSites\":[\"tokyo\"]}]}}]}")));

        Result result = meshctl("get", "policy");

        assertThat(result.err()).isEmpty();
        assertThat(result.code()).isZero();
        assertThat(result.out()).isEqualTo("NAMESPACE   NAME          RULES   DEFAULT   REV\n"
                + "default     allow-tokyo   1       DENY      7\n");
    }

    @Test
    void namespaceOnASiteIsAUsageError() {
        Result result = meshctl("get", "site", "osaka", "-n", "default");

        assertThat(result.code()).isEqualTo(2);
        assertThat(result.err()).contains("a Site is not namespaced");
    }

    @Test
    void badOutputFormatIsAUsageError() {
        Result result = meshctl("get", "lb", "-o", "xml");

        assertThat(result.code()).isEqualTo(2);
        assertThat(result.err()).contains("xml").contains("--help");
    }
}
