package io.isthmus.mesh.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModelValidationTest {

    private static void assertRejected(ThrowingCallable build, String fieldPath, String message) {
        assertThatThrownBy(build)
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Osaka", "osaka_app", "-osaka", "osaka-", "osaka.app", ""})
    void rejectsANameThatIsNotADnsLabel(String name) {
        assertRejected(() -> LoadBalancer.builder(name).domain("a").defaultPool("p").build(),
                "loadBalancers[" + name + "].name",
                "loadBalancers[" + name + "].name: \"" + name + "\" (expected: a lowercase DNS label)");
        assertRejected(() -> Site.of(name), "sites[" + name + "].name",
                "sites[" + name + "].name: \"" + name + "\" (expected: a lowercase DNS label)");
    }

    @Test
    void rejectsANameLongerThanADnsLabel() {
        String name = "a".repeat(64);

        assertThatThrownBy(() -> Site.of(name)).hasMessageEndingWith("(expected: a lowercase DNS label)");
        assertThat(Site.of("a".repeat(63)).name()).hasSize(63);
    }

    @Test
    void rejectsABadNamespace() {
        assertRejected(() -> OriginPool.builder("p").namespace("Shop").site("osaka").endpoint(Endpoint.of("h", 1)).build(),
                "originPools[p].namespace", "originPools[p].namespace: \"Shop\" (expected: a lowercase DNS label)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Bad Domain", "Osaka.example", "shop.*.example", "*", "*.", ".example", "a..b"})
    void rejectsABadDomain(String domain) {
        if (domain.equals("*")) {
            assertThat(LoadBalancer.builder("app").domain(domain).defaultPool("p").build().domains())
                    .containsExactly("*");
            return;
        }
        assertRejected(() -> LoadBalancer.builder("app").domain("ok.example").domain(domain).defaultPool("p").build(),
                "loadBalancers[app].domains[1]", "loadBalancers[app].domains[1]: \"" + domain
                        + "\" (expected: a lowercase DNS name, optionally starting with \"*.\", or \"*\")");
    }

    @Test
    void acceptsWildcardDomains() {
        assertThat(LoadBalancer.builder("app").domain("*.shop.example").domain("osaka-app").defaultPool("p").build()
                .domains()).containsExactly("*.shop.example", "osaka-app");
    }

    @Test
    void rejectsADomainTwice() {
        assertRejected(() -> LoadBalancer.builder("app").domain("a.example").domain("b.example").domain("a.example")
                        .defaultPool("p").build(),
                "loadBalancers[app].domains[2]", "loadBalancers[app].domains[2]: \"a.example\" (expected: each domain once)");
    }

    @Test
    void rejectsALoadBalancerWithoutDomainsOrPool() {
        assertRejected(() -> LoadBalancer.builder("app").defaultPool("p").build(), "loadBalancers[app].domains",
                "loadBalancers[app].domains: [] (expected: at least one domain)");
        assertRejected(() -> LoadBalancer.builder("app").domain("a").build(), "loadBalancers[app].defaultPool",
                "loadBalancers[app].defaultPool: is required");
    }

    @Test
    void rejectsABadAdvertisedSite() {
        assertRejected(() -> LoadBalancer.builder("app").domain("a").advertiseAt("Tokyo").defaultPool("p").build(),
                "loadBalancers[app].advertiseSites[0]",
                "loadBalancers[app].advertiseSites[0]: \"Tokyo\" (expected: a lowercase DNS label)");
    }

    @Test
    void rejectsAPoolWithoutEndpointsOrSite() {
        assertRejected(() -> OriginPool.builder("p").site("osaka").build(), "originPools[p].origins",
                "originPools[p].origins: [] (expected: at least one origin)");
        assertRejected(() -> OriginPool.builder("p").endpoint(Endpoint.of("h", 1)).build(), "originPools[p].site",
                "originPools[p].site: is required");
    }

    @Test
    void rejectsAnEmptyLabelKey() {
        assertRejected(() -> Site.builder("osaka").label("", "x").build(), "sites[osaka].labels",
                "sites[osaka].labels: \"\" (expected: a key of 1-63 characters)");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65536, 100_000})
    void rejectsABadPort(int port) {
        assertRejected(() -> Endpoint.of("10.0.0.7", port), "port", "port: " + port + " (expected: 1-65535)");
    }

    @Test
    void acceptsTheLowestAndHighestPort() {
        assertThat(Endpoint.of("h", 1).port()).isEqualTo(1);
        assertThat(Endpoint.of("h", 65535).port()).isEqualTo(65535);
    }

    @ParameterizedTest
    @CsvSource({
        "10.0.0.7:8080,          10.0.0.7,              8080, 10.0.0.7:8080",
        "osaka-app.default.svc:80, osaka-app.default.svc, 80, osaka-app.default.svc:80",
        "localhost:1,            localhost,             1,    localhost:1",
        "[::1]:8443,             ::1,                   8443, [::1]:8443",
        "[2001:db8::7]:443,      2001:db8::7,           443,  [2001:db8::7]:443",
        "[fe80::1%eth0]:443,     fe80::1%eth0,          443,  [fe80::1%eth0]:443",
    })
    void parsesHostAndPort(String text, String host, int port, String formatted) {
        Endpoint endpoint = Endpoint.parse(text);

        assertThat(endpoint.host()).isEqualTo(host);
        assertThat(endpoint.port()).isEqualTo(port);
        assertThat(endpoint).isEqualTo(Endpoint.of(host, port)).hasToString(formatted);
        assertThat(Endpoint.parse(endpoint.toString())).isEqualTo(endpoint);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.7", "10.0.0.7:", ":8080", "10.0.0.7:http", "::1:8080", "[::1]", "[::1]8080",
            ""})
    void rejectsTextThatIsNotHostAndPort(String text) {
        assertRejected(() -> Endpoint.parse(text), "", "\"" + text + "\" (expected: host:port or [ipv6]:port)");
    }

    @Test
    void rejectsABadParsedHost() {
        assertRejected(() -> Endpoint.parse("osaka app:80"), "host",
                "host: \"osaka app\" (expected: a host name or IP address)");
    }

    @Test
    void rejectsAParsedPortOutOfRange() {
        assertRejected(() -> Endpoint.parse("10.0.0.7:0"), "port", "port: 0 (expected: 1-65535)");
        assertRejected(() -> Endpoint.parse("[::1]:65536"), "port", "port: 65536 (expected: 1-65535)");
    }

    @Test
    void copiesAreEqualAndIndependent() {
        LoadBalancer lb = LoadBalancer.builder("app").domain("a").advertiseAt("tokyo").defaultPool("p").build();

        assertThat(lb.toBuilder().build()).isEqualTo(lb).hasSameHashCodeAs(lb);
        assertThat(lb.toBuilder().advertiseAt("osaka").build().advertiseSites()).containsExactly("tokyo", "osaka");
        assertThat(lb.advertiseSites()).containsExactly("tokyo");
        Site site = Site.builder("osaka").label("region", "kansai").build();
        assertThat(site.withTunnelEndpoints(java.util.List.of(Endpoint.of("h", 1))).labels()).isEqualTo(site.labels());
    }
}
