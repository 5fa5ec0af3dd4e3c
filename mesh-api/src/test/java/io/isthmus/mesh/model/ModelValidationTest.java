package io.isthmus.mesh.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import org.junit.jupiter.api.Test;

class ModelValidationTest {

    @Test
    void rejectsANameThatIsNotADnsLabel() {
        assertThatThrownBy(() -> LoadBalancer.builder("Osaka_App").domain("a").defaultPool("p").build())
                .isInstanceOf(ConfigValidationException.class)
                .hasMessage("loadBalancers[Osaka_App].name: \"Osaka_App\" (expected: a lowercase DNS label)");
    }

    @Test
    void rejectsALoadBalancerWithoutDomains() {
        assertThatThrownBy(() -> LoadBalancer.builder("app").defaultPool("p").build())
                .hasMessage("loadBalancers[app].domains: [] (expected: at least one domain)");
    }

    @Test
    void rejectsADomainTwice() {
        assertThatThrownBy(() -> LoadBalancer.builder("app").domain("a.example").domain("a.example").defaultPool("p").build())
                .hasMessage("loadBalancers[app].domains[1]: \"a.example\" (expected: each domain once)");
    }

    @Test
    void acceptsWildcardAndCatchAllDomains() {
        assertThat(LoadBalancer.builder("app").domain("*.shop.example").domain("*").defaultPool("p").build().domains())
                .containsExactly("*.shop.example", "*");
        assertThatThrownBy(() -> LoadBalancer.builder("app").domain("shop.*.example").defaultPool("p").build())
                .hasMessageStartingWith("loadBalancers[app].domains[0]: \"shop.*.example\"");
    }

    @Test
    void rejectsAPoolWithoutEndpointsOrSite() {
        assertThatThrownBy(() -> OriginPool.builder("p").site("osaka").build())
                .hasMessage("originPools[p].endpoints: [] (expected: at least one endpoint)");
        assertThatThrownBy(() -> OriginPool.builder("p").endpoint(Endpoint.of("h", 1)).build())
                .hasMessage("originPools[p].site: is required");
    }

    @Test
    void parsesEndpoints() {
        assertThat(Endpoint.parse("10.0.0.7:8080")).isEqualTo(Endpoint.of("10.0.0.7", 8080));
        assertThat(Endpoint.parse("osaka-app.default.svc:80").host()).isEqualTo("osaka-app.default.svc");
        assertThat(Endpoint.parse("[::1]:8443")).isEqualTo(Endpoint.of("::1", 8443));
        assertThat(Endpoint.of("::1", 8443)).hasToString("[::1]:8443");
        assertThatThrownBy(() -> Endpoint.parse("10.0.0.7")).hasMessage("\"10.0.0.7\" (expected: host:port or [ipv6]:port)");
        assertThatThrownBy(() -> Endpoint.parse("10.0.0.7:0")).hasMessage("port: 0 (expected: 1-65535)");
        assertThatThrownBy(() -> Endpoint.parse("10.0.0.7:http")).isInstanceOf(ConfigValidationException.class);
    }

    @Test
    void copiesAreEqualAndIndependent() {
        LoadBalancer lb = LoadBalancer.builder("app").domain("a").advertiseAt("tokyo").defaultPool("p").build();
        assertThat(lb.toBuilder().build()).isEqualTo(lb);
        assertThat(lb.toBuilder().advertiseAt("osaka").build().advertiseSites()).containsExactly("tokyo", "osaka");
        assertThat(lb.advertiseSites()).containsExactly("tokyo");
    }
}
