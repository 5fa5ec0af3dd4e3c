package io.isthmus.mesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.model.HeaderMatch;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ServicePolicyEngineTest {

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static RequestFacts.Builder request() {
        return RequestFacts.builder().host("osaka-app").method("GET").path("/");
    }

    /** One policy: the rule under test allows, everything else is denied by default. */
    private static boolean allows(PolicyRule.Builder rule, RequestFacts facts) {
        ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(ServicePolicy.builder("p").rule(rule).build()));
        PolicyDecision decision = engine.decide(facts);
        // explain must always agree with decide
        assertThat(engine.explain(facts).decision()).isSameAs(decision);
        return decision.allowed();
    }

    @Nested
    class Matchers {

        @Test
        void sourceSite() {
            PolicyRule.Builder rule = PolicyRule.allow().sourceSite("tokyo").sourceSite("kyoto");
            assertThat(allows(rule, request().sourceSite("kyoto").build())).isTrue();
            assertThat(allows(rule, request().sourceSite("osaka").build())).isFalse();
            assertThat(allows(rule, request().build())).as("unknown site").isFalse();
        }

        @Test
        void sourceIdentity() {
            PolicyRule.Builder rule = PolicyRule.allow().sourceIdentity("spiffe://mesh.example/site/tokyo");
            assertThat(allows(rule, request().sourceIdentity("spiffe://mesh.example/site/tokyo").build())).isTrue();
            assertThat(allows(rule, request().sourceIdentity("spiffe://other.example/site/tokyo").build())).isFalse();
            assertThat(allows(rule, request().build())).as("unauthenticated").isFalse();
        }

        @Test
        void clientCidrIpv4() {
            PolicyRule.Builder rule = PolicyRule.allow().clientCidr("10.0.0.0/8").clientCidr("192.168.1.7");
            assertThat(allows(rule, request().clientIp(ip("10.200.3.4")).build())).isTrue();
            assertThat(allows(rule, request().clientIp(ip("192.168.1.7")).build())).isTrue();
            assertThat(allows(rule, request().clientIp(ip("192.168.1.8")).build())).isFalse();
            assertThat(allows(rule, request().clientIp(ip("11.0.0.1")).build())).isFalse();
            assertThat(allows(rule, request().build())).as("unknown client").isFalse();
        }

        @Test
        void clientCidrIpv6() {
            PolicyRule.Builder rule = PolicyRule.allow().clientCidr("2001:db8:aa::/48").clientCidr("fd00::/8")
                    .clientCidr("2001:db8:ff::1:2/127");
            assertThat(allows(rule, request().clientIp(ip("2001:db8:aa:1234::9")).build())).isTrue();
            assertThat(allows(rule, request().clientIp(ip("fdab::1")).build())).isTrue();
            assertThat(allows(rule, request().clientIp(ip("2001:db8:ff::1:3")).build())).isTrue();
            assertThat(allows(rule, request().clientIp(ip("2001:db8:ff::1:4")).build())).isFalse();
            assertThat(allows(rule, request().clientIp(ip("2001:db8:ab::1")).build())).isFalse();
            assertThat(allows(rule, request().clientIp(ip("10.0.0.1")).build())).as("IPv4 client").isFalse();
        }

        @Test
        void ipv4MappedClientMatchesIpv4Blocks() {
            PolicyRule.Builder rule = PolicyRule.allow().clientCidr("10.0.0.0/8");
            assertThat(allows(rule, request().clientIp(ip("::ffff:10.1.2.3")).build())).isTrue();
        }

        @Test
        void exactAndWildcardDomains() {
            PolicyRule.Builder rule = PolicyRule.allow().domain("api.example.com").domain("*.osaka.example");
            assertThat(allows(rule, request().host("API.example.com:8443").build())).as("case and port").isTrue();
            assertThat(allows(rule, request().host("api.example.com.").build())).as("trailing dot").isTrue();
            assertThat(allows(rule, request().host("shop.osaka.example").build())).isTrue();
            assertThat(allows(rule, request().host("a.b.osaka.example").build())).as("several labels").isTrue();
            assertThat(allows(rule, request().host("osaka.example").build())).as("the bare suffix").isFalse();
            assertThat(allows(rule, request().host("xosaka.example").build())).isFalse();
            assertThat(allows(rule, request().host("www.api.example.com").build())).isFalse();
            assertThat(allows(PolicyRule.allow().domain("*"), request().host("anything").build())).isTrue();
        }

        @Test
        void method() {
            PolicyRule.Builder rule = PolicyRule.allow().method("GET").method("head");
            assertThat(allows(rule, request().method("HEAD").build())).isTrue();
            assertThat(allows(rule, request().method("get").build())).isTrue();
            assertThat(allows(rule, request().method("POST").build())).isFalse();
        }

        @Test
        void exactPrefixAndRegexPaths() {
            assertThat(allows(PolicyRule.allow().path(PathMatch.exact("/healthz")),
                    request().path("/healthz?verbose=1").build())).as("query ignored").isTrue();
            assertThat(allows(PolicyRule.allow().path(PathMatch.exact("/healthz")),
                    request().path("/healthz/").build())).isFalse();
            assertThat(allows(PolicyRule.allow().path(PathMatch.prefix("/api/")), request().path("/api/v1").build()))
                    .isTrue();
            assertThat(allows(PolicyRule.allow().path(PathMatch.prefix("/api/")), request().path("/apix").build()))
                    .isFalse();
            PolicyRule.Builder regex = PolicyRule.allow().path(PathMatch.regex("/orders/[0-9]+"));
            assertThat(allows(regex, request().path("/orders/42").build())).isTrue();
            assertThat(allows(regex, request().path("/orders/42/items").build())).as("whole path").isFalse();
            assertThat(allows(regex, request().path("/orders/x").build())).isFalse();
        }

        @Test
        void headerPresentExactAndRegex() {
            PolicyRule.Builder present = PolicyRule.allow().header(HeaderMatch.present("Authorization"));
            assertThat(allows(present, request().header("authorization", "Bearer x").build())).isTrue();
            assertThat(allows(present, request().build())).isFalse();
            PolicyRule.Builder exact = PolicyRule.allow().header(HeaderMatch.exact("x-env", "prod"));
            assertThat(allows(exact, request().header("X-Env", "dev").header("x-env", "prod").build()))
                    .as("any of several values").isTrue();
            assertThat(allows(exact, request().header("x-env", "Prod").build())).as("values are case-sensitive")
                    .isFalse();
            PolicyRule.Builder regex = PolicyRule.allow().header(HeaderMatch.regex("user-agent", "curl/[0-9.]+"));
            assertThat(allows(regex, request().header("user-agent", "curl/8.5.0").build())).isTrue();
            assertThat(allows(regex, request().header("user-agent", "Mozilla curl/8.5.0").build())).isFalse();
        }

        @Test
        void invertedHeaderMatches() {
            PolicyRule.Builder absent = PolicyRule.allow().header(HeaderMatch.present("x-debug").inverted());
            assertThat(allows(absent, request().build())).isTrue();
            assertThat(allows(absent, request().header("x-debug", "1").build())).isFalse();
            PolicyRule.Builder notProd = PolicyRule.allow().header(HeaderMatch.exact("x-env", "prod").inverted());
            assertThat(allows(notProd, request().header("x-env", "dev").build())).isTrue();
            assertThat(allows(notProd, request().build())).as("absent is not prod").isTrue();
            assertThat(allows(notProd, request().header("x-env", "prod").build())).isFalse();
        }

        @Test
        void everyConditionMustHoldAndEveryHeaderMatch() {
            PolicyRule.Builder rule = PolicyRule.allow().sourceSite("tokyo").method("GET")
                    .path(PathMatch.prefix("/api/")).header(HeaderMatch.present("a")).header(HeaderMatch.present("b"));
            RequestFacts.Builder ok = request().sourceSite("tokyo").path("/api/x").header("a", "1").header("b", "2");
            assertThat(allows(rule, ok.build())).isTrue();
            assertThat(allows(rule, request().sourceSite("tokyo").path("/api/x").header("a", "1").build())).isFalse();
            assertThat(allows(rule, request().sourceSite("osaka").path("/api/x").header("a", "1").header("b", "2")
                    .build())).isFalse();
        }

        @Test
        void aRuleWithoutConditionsMatchesEverything() {
            assertThat(allows(PolicyRule.allow(), request().build())).isTrue();
        }
    }

    @Nested
    class Order {

        private final ServicePolicy api = ServicePolicy.builder("api")
                .rule(PolicyRule.deny().name("no-admin").path(PathMatch.prefix("/admin/")))
                .rule(PolicyRule.allow().name("tokyo").sourceSite("tokyo"))
                .defaultAction(PolicyAction.ALLOW)
                .build();
        private final ServicePolicy base = ServicePolicy.builder("base").namespace("default")
                .rule(PolicyRule.allow().name("health").path(PathMatch.exact("/healthz")))
                .defaultAction(PolicyAction.DENY)
                .build();

        @Test
        void firstMatchingRuleWins() {
            ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(api));
            PolicyDecision d = engine.decide(request().sourceSite("tokyo").path("/admin/users").build());
            assertThat(d.allowed()).isFalse();
            assertThat(d.ruleIndex()).isZero();
            assertThat(d.ruleName()).isEqualTo("no-admin");
            assertThat(d.policy()).isEqualTo(ObjectKey.of(Kind.SERVICE_POLICY, "default", "api"));
            assertThat(d.reason()).isEqualTo("rule 0 (no-admin) of default/api denies");

            PolicyDecision swapped = ServicePolicyEngine.compile(List.of(api.toBuilder().build().toBuilder()
                            .name("api").build())).decide(request().sourceSite("tokyo").path("/orders").build());
            assertThat(swapped.ruleName()).isEqualTo("tokyo");
        }

        @Test
        void laterPoliciesAreTriedAfterEarlierOnesAndTheLastDefaultApplies() {
            ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(api, base));
            // api's default (ALLOW) is not used: no rule matched, so base's default decides.
            PolicyDecision d = engine.decide(request().sourceSite("osaka").path("/orders").build());
            assertThat(d.allowed()).isFalse();
            assertThat(d.isDefault()).isTrue();
            assertThat(d.ruleIndex()).isEqualTo(-1);
            assertThat(d.policy()).isEqualTo(base.key());
            assertThat(d.reason()).isEqualTo("no rule matched; the default action of default/base denies");
            // a rule of the second policy matches when no rule of the first one does
            PolicyDecision health = engine.decide(request().sourceSite("osaka").path("/healthz").build());
            assertThat(health.allowed()).isTrue();
            assertThat(health.policy()).isEqualTo(base.key());
            assertThat(health.ruleName()).isEqualTo("health");
            // and the other way round the first policy's default is the one that applies
            PolicyDecision reversed = ServicePolicyEngine.compile(List.of(base, api))
                    .decide(request().sourceSite("osaka").path("/orders").build());
            assertThat(reversed.allowed()).isTrue();
            assertThat(reversed.policy()).isEqualTo(api.key());
        }

        @Test
        void noPolicyAllows() {
            PolicyDecision d = ServicePolicyEngine.compile(List.of()).decide(request().build());
            assertThat(d.allowed()).isTrue();
            assertThat(d.policy()).isNull();
            assertThat(d.reason()).isEqualTo("no service policy allows");
        }

        @Test
        void emptyPolicyAppliesItsDefault() {
            assertThat(ServicePolicyEngine.compile(List.of(ServicePolicy.builder("p").build())).decide(request().build())
                    .allowed()).isFalse();
            assertThat(ServicePolicyEngine.compile(List.of(ServicePolicy.builder("p")
                    .defaultAction(PolicyAction.ALLOW).build())).decide(request().build()).allowed()).isTrue();
        }

        @Test
        void deniedDecisionsCarryASharedExceptionWithoutStackTrace() {
            PolicyDecision d = ServicePolicyEngine.compile(List.of(api))
                    .decide(request().path("/admin/").build());
            assertThat(d.denial()).isNotNull().hasMessage("denied: rule 0 (no-admin) of default/api denies");
            assertThat(d.denial().getStackTrace()).isEmpty();
            assertThat(ServicePolicyEngine.compile(List.of(api)).decide(request().sourceSite("tokyo").build()).denial())
                    .isNull();
        }
    }

    @Nested
    class LoadBalancerPolicies {

        private final ServicePolicy api = ServicePolicy.builder("api").namespace("shop")
                .rule(PolicyRule.allow().name("reads").method("GET")).build();
        private final java.util.Map<ObjectKey, ServicePolicy> store = java.util.Map.of(api.key(), api);

        @Test
        void looksUpNamedPoliciesInTheLoadBalancersNamespace() {
            ServicePolicyEngine engine = ServicePolicyEngine.builder("shop", List.of("api"), store::get).build();
            assertThat(engine.policies()).containsExactly(api);
            assertThat(engine.missingPolicies()).isEmpty();
            assertThat(engine.decide(request().build()).ruleName()).isEqualTo("reads");
        }

        @Test
        void failsClosedWhenANamedPolicyIsMissing() {
            ServicePolicyEngine engine = ServicePolicyEngine.builder("shop", List.of("api", "gone"), store::get).build();
            ObjectKey gone = ObjectKey.of(Kind.SERVICE_POLICY, "shop", "gone");
            assertThat(engine.missingPolicies()).containsExactly(gone);
            PolicyDecision d = engine.decide(request().build());
            assertThat(d.allowed()).as("even though api's rule matches").isFalse();
            assertThat(d.policy()).isEqualTo(gone);
            assertThat(d.reason()).isEqualTo(
                    "service policy shop/gone named by the load balancer does not exist; every request is denied");
            assertThat(engine.explain(request().build()).notes()).containsExactly("service policy shop/gone does not exist");
            assertThat(ServicePolicyEngine.builder("default", List.of("api"), store::get).build()
                    .decide(request().build()).allowed()).as("api is in namespace shop").isFalse();
        }
    }

    @Nested
    class Explain {

        @Test
        void tracesEveryRuleTriedWithWhyItDidOrDidNotMatch() {
            ServicePolicy policy = ServicePolicy.builder("api")
                    .rule(PolicyRule.deny().name("no-admin").path(PathMatch.prefix("/admin/")))
                    .rule(PolicyRule.allow().name("office").clientCidr("10.0.0.0/8"))
                    .rule(PolicyRule.allow().name("tokyo").sourceSite("tokyo").method("GET")
                            .header(HeaderMatch.present("x-debug").inverted())
                            .rateLimit(RateLimit.of(100, Duration.ofSeconds(1))))
                    .rule(PolicyRule.allow().name("never-reached"))
                    .build();
            RequestFacts facts = RequestFacts.builder().sourceSite("tokyo").clientIp(ip("2001:db8::7"))
                    .host("osaka-app").method("GET").path("/orders?id=1").build();
            Explanation<PolicyDecision> explanation = ServicePolicyEngine.compile(List.of(policy)).explain(facts);

            assertThat(explanation.steps()).extracting(Explanation.Step::matched).containsExactly(false, false, true);
            assertThat(explanation.lines()).containsExactly(
                    "service policies [default/api] for GET osaka-app/orders from site tokyo, client 2001:db8:0:0:0:0:0:7",
                    "  note: 1 later rule was not tried",
                    "  default/api rules[0] no-admin (DENY): no match: path /orders matches none of [prefix:/admin/]",
                    "  default/api rules[1] office (ALLOW): no match: client 2001:db8:0:0:0:0:0:7 in none of [10.0.0.0/8]",
                    "  default/api rules[2] tokyo (ALLOW): match: method GET in [GET]; source site tokyo in [tokyo]; "
                            + "header !(x-debug present) holds",
                    "decision: ALLOW: rule 2 (tokyo) of default/api allows; rate limit 100/1s burst 100 per SOURCE_IP");
            assertThat(explanation).hasToString(String.join("\n", explanation.lines()));
        }

        @Test
        void explainsTheDefaultWhenNoRuleMatches() {
            ServicePolicy policy = ServicePolicy.builder("api")
                    .rule(PolicyRule.allow().name("reads").method("GET").header(HeaderMatch.exact("x-env", "prod")))
                    .build();
            Explanation<PolicyDecision> explanation = ServicePolicyEngine.compile(List.of(policy))
                    .explain(request().method("GET").header("x-env", "dev").build());
            assertThat(explanation.steps()).singleElement().satisfies(step -> {
                assertThat(step.matched()).isFalse();
                assertThat(step.detail()).isEqualTo("header x-env == \"prod\" fails (x-env values [dev])");
                assertThat(step.ruleName()).isEqualTo("reads");
                assertThat(step.ruleIndex()).isZero();
            });
            assertThat(explanation.lines()).last()
                    .isEqualTo("decision: DENY: no rule matched; the default action of default/api denies");
        }

        @Test
        void explainsThatThereIsNoPolicy() {
            assertThat(ServicePolicyEngine.compile(List.of()).explain(request().build()).lines()).containsExactly(
                    "service policies [] for GET osaka-app/ from unknown site",
                    "  note: the load balancer names no service policy",
                    "  (no rules)",
                    "decision: ALLOW: no service policy allows");
        }
    }

    @Nested
    class RateLimits {

        @Test
        void decisionsCarryTheRuleLimiterAndTheKeyOfTheRequest() {
            AtomicLong now = new AtomicLong();
            ServicePolicy policy = ServicePolicy.builder("p")
                    .rule(PolicyRule.allow().name("per-ip").method("GET").rateLimit(RateLimit.of(2, Duration.ofSeconds(1))))
                    .rule(PolicyRule.allow().name("per-site").method("POST").rateLimit(RateLimit.builder(1,
                            Duration.ofSeconds(1)).key(RateLimit.Key.SOURCE_SITE).build()))
                    .build();
            ServicePolicyEngine engine = ServicePolicyEngine.builder(List.of(policy)).ticker(now::get).build();
            RequestFacts a = request().clientIp(ip("10.0.0.1")).build();
            RequestFacts b = request().clientIp(ip("10.0.0.2")).build();
            PolicyDecision d = engine.decide(a);
            assertThat(d.rateLimit()).isEqualTo(RateLimit.of(2, Duration.ofSeconds(1)));
            assertThat(d.rateLimitKey(a)).isEqualTo(ip("10.0.0.1"));
            assertThat(d.tryAcquire(a)).isTrue();
            assertThat(d.tryAcquire(a)).isTrue();
            assertThat(d.tryAcquire(a)).isFalse();
            assertThat(engine.decide(b).tryAcquire(b)).as("another client has its own bucket").isTrue();

            RequestFacts tokyo1 = request().method("POST").sourceSite("tokyo").clientIp(ip("10.0.0.1")).build();
            RequestFacts tokyo2 = request().method("POST").sourceSite("tokyo").clientIp(ip("10.0.0.2")).build();
            RequestFacts kyoto = request().method("POST").sourceSite("kyoto").build();
            assertThat(engine.decide(tokyo1).tryAcquire(tokyo1)).isTrue();
            assertThat(engine.decide(tokyo2).tryAcquire(tokyo2)).as("same site, same bucket").isFalse();
            assertThat(engine.decide(kyoto).tryAcquire(kyoto)).isTrue();
            now.addAndGet(Duration.ofSeconds(1).toNanos());
            assertThat(engine.decide(tokyo2).tryAcquire(tokyo2)).as("refilled").isTrue();
        }

        @Test
        void recompilingKeepsTheBucketsOfUnchangedRulesOnly() {
            AtomicLong now = new AtomicLong();
            ServicePolicy policy = ServicePolicy.builder("p").rule(PolicyRule.allow()
                    .rateLimit(RateLimit.builder(1, Duration.ofMinutes(1)).key(RateLimit.Key.RULE).build())).build();
            ServicePolicyEngine first = ServicePolicyEngine.builder(List.of(policy)).ticker(now::get).build();
            RequestFacts facts = request().build();
            assertThat(first.decide(facts).tryAcquire(facts)).isTrue();
            ServicePolicyEngine second = ServicePolicyEngine.builder(List.of(policy)).ticker(now::get)
                    .reuseRateLimitersOf(first).build();
            assertThat(second.decide(facts).tryAcquire(facts)).as("bucket kept").isFalse();
            ServicePolicy changed = ServicePolicy.builder("p").rule(PolicyRule.allow()
                    .rateLimit(RateLimit.builder(2, Duration.ofMinutes(1)).key(RateLimit.Key.RULE).build())).build();
            ServicePolicyEngine third = ServicePolicyEngine.builder(List.of(changed)).ticker(now::get)
                    .reuseRateLimitersOf(second).build();
            assertThat(third.decide(facts).tryAcquire(facts)).as("new limit, new bucket").isTrue();
        }

        @Test
        void decisionsWithoutLimitAlwaysAcquire() {
            PolicyDecision d = ServicePolicyEngine.compile(List.of()).decide(request().build());
            assertThat(d.rateLimit()).isNull();
            assertThat(d.rateLimiter()).isNull();
            assertThat(d.tryAcquire(request().build())).isTrue();
        }
    }

    @Test
    void decidingAllocatesNothing() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(hundredRules()));
        RequestFacts facts = RequestFacts.builder().sourceSite("tokyo").clientIp(ip("2001:db8::5"))
                .host("shop.osaka.example").method("POST").path("/orders/42").header("x-env", "prod").build();
        PolicyDecision expected = engine.decide(facts);
        assertThat(expected.ruleIndex()).isEqualTo(99);
        for (int i = 0; i < 20_000; i++) {
            engine.decide(facts); // warm up, let the JIT settle
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            if (engine.decide(facts) != expected) {
                throw new AssertionError("decision changed");
            }
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // 10,000 decisions over 100 rules: far less than one byte per decision (the counter itself may
        // allocate a little).
        assertThat(allocated).isLessThan(10_000);
    }

    /** 99 rules that narrowly miss the request, then one that matches. */
    static ServicePolicy hundredRules() {
        ServicePolicy.Builder b = ServicePolicy.builder("hundred");
        for (int i = 0; i < 99; i++) {
            PolicyRule.Builder rule = i % 2 == 0 ? PolicyRule.deny() : PolicyRule.allow();
            switch (i % 5) {
                case 0:
                    rule.clientCidr("10." + i + ".0.0/16").clientCidr("2001:db8:" + Integer.toHexString(i + 1) + "::/48");
                    break;
                case 1:
                    rule.domain("*.site" + i + ".example").method("POST");
                    break;
                case 2:
                    rule.path(PathMatch.regex("/orders/" + i + "[0-9]*/items"));
                    break;
                case 3:
                    rule.sourceSite("site-" + i).header(HeaderMatch.exact("x-env", "prod"));
                    break;
                default:
                    rule.method("POST").header(HeaderMatch.exact("x-env", "stage-" + i));
                    break;
            }
            b.rule(rule);
        }
        b.rule(PolicyRule.allow().name("match").sourceSite("tokyo").clientCidr("2001:db8::/32")
                .domain("*.osaka.example").method("POST").path(PathMatch.regex("/orders/[0-9]+"))
                .header(HeaderMatch.exact("x-env", "prod")));
        return b.build();
    }

    @Test
    void concurrentDecisionsAgreeWithSequentialOnes() throws Exception {
        ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(hundredRules()));
        List<RequestFacts> requests = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            requests.add(RequestFacts.builder().sourceSite(i % 3 == 0 ? "tokyo" : "site-" + i)
                    .clientIp(ip(i % 2 == 0 ? "10." + i + ".1.1" : "2001:db8::" + i)).host("shop.osaka.example")
                    .method(i % 4 == 0 ? "GET" : "POST").path("/orders/" + i).header("x-env", "prod").build());
        }
        List<PolicyDecision> expected = new ArrayList<>();
        requests.forEach(r -> expected.add(engine.decide(r)));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                results.add(pool.submit(() -> {
                    int mismatches = 0;
                    for (int i = 0; i < 20_000; i++) {
                        int k = (i + offset) % requests.size();
                        if (engine.decide(requests.get(k)) != expected.get(k)) {
                            mismatches++;
                        }
                    }
                    return mismatches;
                }));
            }
            for (Future<Integer> result : results) {
                assertThat(result.get(30, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(expected).extracting(PolicyDecision::allowed).contains(true, false);
    }
}
