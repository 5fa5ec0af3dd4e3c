package io.isthmus.mesh.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

class PolicyModelValidationTest {

    private static void assertRejected(ThrowingCallable build, String fieldPath, String message) {
        assertThatThrownBy(build)
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(fieldPath.isEmpty() ? message : fieldPath + ": " + message);
    }

    @Test
    void namesTheBadCidrOfARuleWithItsFullPath() {
        assertRejected(() -> ServicePolicy.builder("allow-tokyo")
                        .rule(PolicyRule.allow().sourceSite("tokyo"))
                        .rule(PolicyRule.allow().clientCidr("10.0.0.300/8"))
                        .build(),
                "servicePolicies[allow-tokyo].rules[1].clientCidrs[0]",
                "\"10.0.0.300/8\" (expected: an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32)");
    }

    @Test
    void aRuleBuiltAloneNamesFieldsRelativeToTheRule() {
        assertRejected(() -> PolicyRule.allow().clientCidr("10.0.0.0/8").clientCidr("2001:db8::/129").build(),
                "clientCidrs[1]", "\"2001:db8::/129\" (expected: a prefix length of 0-128 for an IPv6 CIDR)");
    }

    @Test
    void rejectsBadConditionsOfARule() {
        assertRejected(() -> ServicePolicy.builder("p").rule(PolicyRule.deny().sourceSite("Tokyo")).build(),
                "servicePolicies[p].rules[0].sourceSites[0]", "\"Tokyo\" (expected: a lowercase DNS label)");
        assertRejected(() -> ServicePolicy.builder("p").rule(PolicyRule.deny().sourceIdentity("tokyo")).build(),
                "servicePolicies[p].rules[0].sourceIdentities[0]",
                "\"tokyo\" (expected: a SPIFFE id such as spiffe://mesh.example/site/tokyo)");
        assertRejected(() -> ServicePolicy.builder("p").rule(PolicyRule.deny().domain("Bad Domain")).build(),
                "servicePolicies[p].rules[0].domains[0]",
                "\"Bad Domain\" (expected: a lowercase DNS name, optionally starting with \"*.\", or \"*\")");
        assertRejected(() -> ServicePolicy.builder("p").rule(PolicyRule.deny().method("GE T")).build(),
                "servicePolicies[p].rules[0].methods[0]", "\"GE T\" (expected: an HTTP method such as GET)");
        assertRejected(() -> ServicePolicy.builder("p").rule(PolicyRule.deny().name("No")).build(),
                "servicePolicies[p].rules[0].name", "\"No\" (expected: a lowercase DNS label)");
    }

    @Test
    void rejectsDuplicateRuleNamesNamingTheFirstHolder() {
        assertRejected(() -> ServicePolicy.builder("p").rule(PolicyRule.allow().name("a"))
                        .rule(PolicyRule.deny().name("b")).rule(PolicyRule.deny().name("a")).build(),
                "servicePolicies[p].rules[2].name",
                "\"a\" (expected: a name unique within the policy; rules[0] has it)");
    }

    @Test
    void rejectsARateLimitOnADenyRule() {
        assertRejected(() -> ServicePolicy.builder("p")
                        .rule(PolicyRule.deny().rateLimit(RateLimit.of(5, Duration.ofSeconds(1)))).build(),
                "servicePolicies[p].rules[0].rateLimit",
                "5/1s burst 5 per SOURCE_IP (expected: no rate limit on a DENY rule; limits apply to the requests "
                        + "a rule allows)");
    }

    @Test
    void rejectsBadPathAndHeaderMatches() {
        assertRejected(() -> PathMatch.prefix("api/"), "prefix", "\"api/\" (expected: a path starting with \"/\")");
        assertRejected(() -> PathMatch.exact(""), "exact", "\"\" (expected: a path starting with \"/\")");
        assertThatThrownBy(() -> PathMatch.regex("/orders/(")).hasMessageStartingWith(
                "regex: \"/orders/(\" (expected: a Java regular expression; Unclosed group");
        assertRejected(() -> HeaderMatch.present("x api"), "name",
                "\"x api\" (expected: an HTTP header name such as x-api-key)");
        assertThatThrownBy(() -> HeaderMatch.regex("x-a", "[")).hasMessageStartingWith(
                "regex: \"[\" (expected: a Java regular expression; Unclosed character class");
    }

    @Test
    void rejectsRateLimitsOutOfRange() {
        assertRejected(() -> RateLimit.of(0, Duration.ofSeconds(1)), "requests", "0 (expected: 1-1000000000)");
        assertRejected(() -> RateLimit.of(1, Duration.ZERO), "period", "0s (expected: 1ms-1d)");
        assertRejected(() -> RateLimit.of(1, Duration.ofDays(2)), "period", "2d (expected: 1ms-1d)");
        assertRejected(() -> RateLimit.builder(1, Duration.ofSeconds(1)).burst(0).build(), "burst",
                "0 (expected: 1-1000000000)");
    }

    @Test
    void pathAndHeaderMatchesMatchOnTheirOwn() {
        assertThat(PathMatch.exact("/a").matches("/a")).isTrue();
        assertThat(PathMatch.exact("/a").matches("/a/")).isFalse();
        assertThat(PathMatch.prefix("/a/").matches("/a/b")).isTrue();
        assertThat(PathMatch.regex("/a/[0-9]+").matches("/a/12")).isTrue();
        assertThat(PathMatch.regex("/a/[0-9]+").matches("/a/12/b")).isFalse();
        assertThat(HeaderMatch.present("a").matches(List.of())).isFalse();
        assertThat(HeaderMatch.present("a").inverted().matches(List.of())).isTrue();
        assertThat(HeaderMatch.exact("a", "x").matches(List.of("y", "x"))).isTrue();
        assertThat(HeaderMatch.regex("a", "x+").matches(List.of("xxx"))).isTrue();
        assertThat(HeaderMatch.regex("a", "x+").inverted().matches(List.of("xxx"))).isFalse();
        assertThat(HeaderMatch.exact("a", "x").inverted().inverted()).isEqualTo(HeaderMatch.exact("A", "x"));
        assertThat(HeaderMatch.regex("a", "x+").inverted()).hasToString("!(a ~ /x+/)");
        assertThat(PathMatch.prefix("/api/")).hasToString("prefix:/api/");
    }

    @Test
    void normalisesMethodsAndHeaderNames() {
        PolicyRule rule = PolicyRule.allow().method("get").header(HeaderMatch.exact("X-Env", "Prod")).build();
        assertThat(rule.methods()).containsExactly("GET");
        assertThat(rule.headers().get(0).name()).isEqualTo("x-env");
        assertThat(rule.headers().get(0).value()).isEqualTo("Prod");
    }

    @Test
    void defaultsAreDenyForPoliciesAndAllowForFirewalls() {
        assertThat(ServicePolicy.builder("p").build().defaultAction()).isEqualTo(PolicyAction.DENY);
        assertThat(NetworkFirewall.builder("f").site("tokyo").build().defaultAction()).isEqualTo(PolicyAction.ALLOW);
        FirewallRule rule = FirewallRule.deny().build();
        assertThat(rule.direction()).isEqualTo(FirewallRule.Direction.INGRESS);
        assertThat(rule.protocol()).isEqualTo(FirewallRule.Protocol.ANY);
        assertThat(rule.order()).isZero();
    }

    @Test
    void rulesAreSnapshotsOfTheirBuilders() {
        PolicyRule.Builder rule = PolicyRule.allow().method("GET");
        ServicePolicy.Builder policy = ServicePolicy.builder("p").rule(rule);
        rule.method("POST");
        assertThat(policy.build().rules().get(0).methods()).containsExactly("GET");
    }

    @Test
    void rejectsBadPortsAndOrdersOfAFirewallRule() {
        assertRejected(() -> NetworkFirewall.builder("edge").site("tokyo")
                        .rule(FirewallRule.allow().port("443")).rule(FirewallRule.allow().port("8080-8000")).build(),
                "networkFirewalls[edge].rules[1].ports[0]",
                "\"8080-8000\" (expected: a port or a range of ports in 1-65535, e.g. 443 or 8000-8080)");
        for (String bad : List.of("0", "65536", "80-", "-80", "http", "80-90-100", "")) {
            assertThatThrownBy(() -> PortRange.parse(bad)).as(bad).hasMessageStartingWith("\"" + bad + "\" (expected: ");
        }
        assertRejected(() -> NetworkFirewall.builder("edge").site("tokyo").rule(FirewallRule.allow().order(-1)).build(),
                "networkFirewalls[edge].rules[0].order", "-1 (expected: 0-1000000)");
        assertRejected(() -> NetworkFirewall.builder("edge").site("tokyo")
                        .rule(FirewallRule.allow().sourceCidr("10.0.0.0/8").destinationCidr("fe80::1/10")).build(),
                "networkFirewalls[edge].rules[0].destinationCidrs[0]",
                "\"fe80::1/10\" (expected: an IPv4 or IPv6 CIDR with no address bits set after the prefix, "
                        + "e.g. fe80::/10)");
    }

    @Test
    void firewallMustBeAttachedToSomething() {
        assertRejected(() -> NetworkFirewall.builder("edge").rule(FirewallRule.deny()).build(),
                "networkFirewalls[edge]",
                "attached to nothing (expected: at least one of sites, siteSelector or listeners)");
        assertRejected(() -> NetworkFirewall.builder("edge").listener("shop/osaka-app/x").build(),
                "networkFirewalls[edge].listeners[0]",
                "\"shop/osaka-app/x\" (expected: a load balancer as name or namespace/name)");
        assertRejected(() -> NetworkFirewall.builder("edge").listener("Shop/app").build(),
                "networkFirewalls[edge].listeners[0]",
                "\"Shop/app\" (expected: a load balancer as name or namespace/name, each a lowercase DNS label)");
    }

    @Test
    void listenersDefaultToTheDefaultNamespace() {
        NetworkFirewall fw = NetworkFirewall.builder("edge").listener("osaka-app").listener("shop/cart").build();
        assertThat(fw.listeners()).containsExactly(ObjectKey.of(Kind.LOAD_BALANCER, "default", "osaka-app"),
                ObjectKey.of(Kind.LOAD_BALANCER, "shop", "cart"));
    }

    @Test
    void firewallAppliesToNamedOrSelectedSites() {
        NetworkFirewall fw = NetworkFirewall.builder("edge").site("tokyo").siteSelector("tier", "edge")
                .siteSelector("region", "kansai").build();
        assertThat(fw.appliesTo(Site.of("tokyo"))).isTrue();
        assertThat(fw.appliesTo(Site.builder("osaka").label("tier", "edge").label("region", "kansai").build())).isTrue();
        assertThat(fw.appliesTo(Site.builder("kobe").label("tier", "edge").build())).isFalse();
        assertThat(NetworkFirewall.builder("l").listener("app").build().appliesTo(Site.of("nara"))).isTrue();
    }

    @Test
    void toBuilderGivesAnEqualObject() {
        ServicePolicy policy = ServicePolicy.builder("p").namespace("shop")
                .rule(PolicyRule.allow().name("a").sourceSite("tokyo").clientCidr("2001:db8::/32")
                        .path(PathMatch.regex("/x/[0-9]+")).header(HeaderMatch.present("a").inverted())
                        .rateLimit(RateLimit.builder(10, Duration.ofMinutes(1)).burst(3).key(RateLimit.Key.RULE).build()))
                .defaultAction(PolicyAction.ALLOW).build();
        assertThat(policy.toBuilder().build()).isEqualTo(policy).hasSameHashCodeAs(policy);
        NetworkFirewall fw = NetworkFirewall.builder("edge").site("tokyo").siteSelector("tier", "edge").listener("app")
                .rule(FirewallRule.deny().name("x").order(5).protocol(FirewallRule.Protocol.UDP)
                        .direction(FirewallRule.Direction.EGRESS).port(53).port("8000-8080").sourceCidr("10.0.0.0/8")
                        .destinationCidr("::/0"))
                .defaultAction(PolicyAction.DENY).build();
        assertThat(fw.toBuilder().build()).isEqualTo(fw).hasSameHashCodeAs(fw);
    }
}
