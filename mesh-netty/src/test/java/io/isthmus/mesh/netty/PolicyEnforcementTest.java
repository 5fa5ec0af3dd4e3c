package io.isthmus.mesh.netty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Service policies are enforced per request at the ingress and again at the pool's site for traffic
 * that arrives through a tunnel; the network firewall closes denied connections at accept.
 */
class PolicyEnforcementTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private MeshFixture mesh;
    private WireMockServer origin;
    private MeshRouter tokyo;
    private MeshRouter kyoto;
    private MeshRouter osaka;

    @BeforeEach
    void setUp() {
        mesh = new MeshFixture();
        origin = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        origin.start();
        origin.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200).withBody("hello")));
        tokyo = mesh.site("tokyo", b -> b.meterRegistry(registry));
        kyoto = mesh.site("kyoto");
        osaka = mesh.site("osaka");
        mesh.store.put(OriginPool.builder("app-pool").site("osaka").endpoint(Endpoint.of("127.0.0.1", origin.port()))
                .build());
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        origin.stop();
        registry.close();
    }

    private void loadBalancer(ServicePolicy policy) {
        mesh.store.put(policy);
        mesh.store.put(LoadBalancer.builder("app").domain("app").advertiseAt(java.util.List.of("tokyo", "kyoto"))
                .defaultPool("app-pool").servicePolicy(policy.name()).build());
        mesh.awaitApplied(tokyo, kyoto, osaka);
    }

    private static HttpResponse<String> get(MeshRouter router, String url, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return MeshFixture.clientOf(router).send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void deniesWith403NamingThePolicyAndRuleCountsItAndNeverReachesTheOrigin() throws Exception {
        loadBalancer(ServicePolicy.builder("guard")
                .rule(PolicyRule.deny().name("no-admin").path(PathMatch.prefix("/admin")))
                .defaultAction(PolicyAction.ALLOW).build());

        HttpResponse<String> denied = get(tokyo, "http://app/admin/users");
        HttpResponse<String> allowed = get(tokyo, "http://app/orders");

        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(denied.body()).contains("guard").contains("no-admin").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(allowed.statusCode()).isEqualTo(200);
        assertThat(origin.getAllServeEvents()).hasSize(1);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(registry.find("isthmus.requests.denied")
                .tags("site", "tokyo", "reason", "policy_denied").counter().count()).isEqualTo(1.0));
    }

    @Test
    void rateLimitsWith429AtTheIngress() throws Exception {
        loadBalancer(ServicePolicy.builder("limits")
                .rule(PolicyRule.allow().name("three-a-minute").rateLimit(RateLimit.of(3, Duration.ofMinutes(1))))
                .defaultAction(PolicyAction.DENY).build());

        int ok = 0;
        HttpResponse<String> last = null;
        for (int i = 0; i < 5; i++) {
            last = get(tokyo, "http://app/");
            ok += last.statusCode() == 200 ? 1 : 0;
        }

        assertThat(ok).isEqualTo(3);
        assertThat(last.statusCode()).isEqualTo(429);
        assertThat(last.body()).contains("limits").contains("three-a-minute");
        assertThat(origin.getAllServeEvents()).hasSize(3);
    }

    @Test
    void thePoolsSiteEnforcesOneRateLimitForTheTrafficOfEveryIngressSite() throws Exception {
        loadBalancer(ServicePolicy.builder("limits")
                .rule(PolicyRule.allow().name("shared")
                        .rateLimit(RateLimit.builder(3, Duration.ofMinutes(1)).key(RateLimit.Key.RULE).build()))
                .defaultAction(PolicyAction.DENY).build());

        // Each ingress site sees two requests, within its own bucket; osaka sees all four.
        assertThat(get(tokyo, "http://app/").statusCode()).isEqualTo(200);
        assertThat(get(kyoto, "http://app/").statusCode()).isEqualTo(200);
        assertThat(get(tokyo, "http://app/").statusCode()).isEqualTo(200);
        HttpResponse<String> fourth = get(kyoto, "http://app/");

        assertThat(fourth.statusCode()).isEqualTo(429);
        assertThat(fourth.body()).contains("shared");
        assertThat(origin.getAllServeEvents()).hasSize(3);
    }

    @Test
    void thePoolsSiteJudgesTheClientAddressCarriedByTheIngressAndIgnoresOneTheClientSent() throws Exception {
        // Without the client address from tokyo, osaka could not match the CIDR and would deny.
        loadBalancer(ServicePolicy.builder("office")
                .rule(PolicyRule.deny().name("partner-net").clientCidr("10.0.0.0/8"))
                .rule(PolicyRule.allow().name("loopback").clientCidr("127.0.0.0/8"))
                .defaultAction(PolicyAction.DENY).build());

        HttpResponse<String> response = get(tokyo, "http://app/", "x-isthmus-client-ip", "10.1.2.3");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(origin.getAllServeEvents()).hasSize(1);
        assertThat(origin.getAllServeEvents().get(0).getRequest().containsHeader("x-isthmus-client-ip")).isFalse();
    }

    @Test
    void thePoolsSiteEnforcesPoliciesOnSourceSite() throws Exception {
        loadBalancer(ServicePolicy.builder("sites")
                .rule(PolicyRule.deny().name("not-from-kyoto").sourceSite("kyoto"))
                .defaultAction(PolicyAction.ALLOW).build());

        assertThat(get(tokyo, "http://app/").statusCode()).isEqualTo(200);
        HttpResponse<String> fromKyoto = get(kyoto, "http://app/");
        assertThat(fromKyoto.statusCode()).isEqualTo(403);
        assertThat(fromKyoto.body()).contains("not-from-kyoto");
    }

    @Test
    void aNetworkFirewallClosesDeniedConnectionsAtAccept() throws Exception {
        loadBalancer(ServicePolicy.builder("open").defaultAction(PolicyAction.ALLOW).build());
        assertThat(get(tokyo, "http://app/").statusCode()).isEqualTo(200);

        mesh.store.put(NetworkFirewall.builder("lockdown").site("tokyo")
                .rule(FirewallRule.deny().name("no-loopback").sourceCidr("127.0.0.0/8")
                        .port(tokyo.ingressAddress().getPort()))
                .defaultAction(PolicyAction.ALLOW).build());
        mesh.awaitApplied(tokyo);

        assertThatThrownBy(() -> get(tokyo, "http://app/")).isInstanceOf(IOException.class);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(registry
                .find("isthmus.connections.rejected").tags("listener", "ingress").functionCounter().count())
                .isGreaterThanOrEqualTo(1.0));

        mesh.store.delete(NetworkFirewall.builder("lockdown").site("tokyo").build().key());
        mesh.awaitApplied(tokyo);
        assertThat(get(tokyo, "http://app/").statusCode()).isEqualTo(200);
    }

    @Test
    void aNetworkFirewallOnTheTunnelListenerRefusesTunnels() throws Exception {
        loadBalancer(ServicePolicy.builder("open").defaultAction(PolicyAction.ALLOW).build());
        mesh.store.put(NetworkFirewall.builder("no-tunnels").site("osaka")
                .rule(FirewallRule.deny().name("tunnel-port").port(osaka.tunnelEndpoint().port()))
                .defaultAction(PolicyAction.ALLOW).build());
        mesh.awaitApplied(tokyo, osaka);

        HttpResponse<String> response = get(tokyo, "http://app/");

        assertThat(response.statusCode()).isBetween(502, 503);
        assertThat(origin.getAllServeEvents()).isEmpty();
    }
}
