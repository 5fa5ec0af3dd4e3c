package io.isthmus.mesh.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DomainMatcherTest {

    private static final DomainMatcher<String> MATCHER;

    static {
        DomainMatcher.Builder<String> b = DomainMatcher.builder();
        b.add("osaka-app", "default", "osaka-app@default");
        b.add("osaka-app", "shop", "osaka-app@shop");
        b.add("cart", "shop", "cart@shop");
        b.add("cart", "billing", "cart@billing");
        b.add("shop.example", "default", "exact");
        b.add("*.shop.example", "default", "wildcard");
        b.add("*.eu.shop.example", "default", "longer-wildcard");
        b.add("cart.shop", "default", "explicit-cart.shop");
        MATCHER = b.build();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "osaka-app, osaka-app@default",
        "OSAKA-APP:8080, osaka-app@default",
        "osaka-app., osaka-app@default",
        "osaka-app.default, osaka-app@default",
        "osaka-app.default.svc, osaka-app@default",
        "osaka-app.default.svc.cluster.local, osaka-app@default",
        "osaka-app.shop, osaka-app@shop",
        "osaka-app.shop.svc.cluster.local:80, osaka-app@shop",
        "cart, cart@billing",
        "cart.billing.svc.cluster.local, cart@billing",
        "cart.shop.svc.cluster.local, cart@shop",
        "cart.shop, explicit-cart.shop",
        "shop.example, exact",
        "www.shop.example, wildcard",
        "a.b.shop.example, wildcard",
        "www.eu.shop.example, longer-wildcard",
        "eu.shop.example, wildcard",
    })
    void findsTheLoadBalancerOfAHost(String host, String expected) {
        assertThat(MATCHER.match(host)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"osaka-app.nowhere", "osaka-app.default.svc.cluster", "example", "shop.example.org", "xshop.example",
        "osaka-app.default.svc.cluster.local.evil", "[::1]:80", "10.0.0.1"})
    void findsNothingForAnUnknownHost(String host) {
        assertThat(MATCHER.match(host)).isNull();
    }

    @Test
    void fallsBackToTheCatchAllLast() {
        DomainMatcher.Builder<String> b = DomainMatcher.builder();
        assertThat(b.add("*", "default", "any")).isTrue();
        assertThat(b.add("*", "shop", "other")).isFalse();
        b.add("*.example", "default", "example");
        DomainMatcher<String> m = b.build();

        assertThat(m.match("a.example")).isEqualTo("example");
        assertThat(m.match("anything.else")).isEqualTo("any");
        assertThat(m.match("10.0.0.1:80")).isEqualTo("any");
    }

    @Test
    void keepsTheFirstClaimOfADomain() {
        DomainMatcher.Builder<String> b = DomainMatcher.builder();

        assertThat(b.add("a.example", "default", "first")).isTrue();
        assertThat(b.add("a.example", "shop", "second")).isFalse();
        assertThat(b.add("app", "shop", "first")).isTrue();
        assertThat(b.add("app", "shop", "second")).isFalse();
        assertThat(b.build().match("a.example")).isEqualTo("first");
        assertThat(b.build().match("app.shop")).isEqualTo("first");
    }

    @Test
    void rejectsAMalformedDomain() {
        assertThatThrownBy(() -> DomainMatcher.<String>builder().add("Bad Domain", "default", "x"))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessage("domain: \"Bad Domain\" (expected: a lowercase DNS name, optionally starting with \"*.\", or \"*\")");
    }

    @Test
    void normalizesWithoutCopyingAnAlreadyNormalHost() {
        String host = "osaka-app.default";

        assertThat(DomainMatcher.normalize(host)).isSameAs(host);
        assertThat(DomainMatcher.normalize("Osaka-App:8080")).isEqualTo("osaka-app");
        assertThat(DomainMatcher.normalize("[::1]:8080")).isEqualTo("[::1]");
        assertThat(DomainMatcher.normalize("::1")).isEqualTo("::1");
    }
}
