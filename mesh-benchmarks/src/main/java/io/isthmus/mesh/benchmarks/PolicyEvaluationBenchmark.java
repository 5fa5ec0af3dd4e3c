package io.isthmus.mesh.benchmarks;

import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.HeaderMatch;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.policy.ConnectionFacts;
import io.isthmus.mesh.policy.FirewallDecision;
import io.isthmus.mesh.policy.FirewallEngine;
import io.isthmus.mesh.policy.PolicyDecision;
import io.isthmus.mesh.policy.RateLimiter;
import io.isthmus.mesh.policy.RequestFacts;
import io.isthmus.mesh.policy.ServicePolicyEngine;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Evaluation of a service policy with 100 rules (CIDRs, wildcard domains, regex paths, headers) and of a
 * firewall with 100 rules, for requests decided by the first rule, by the last rule, and by the default.
 *
 * <pre>{@code
 * java -jar mesh-benchmarks/target/benchmarks.jar PolicyEvaluation -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * }</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PolicyEvaluationBenchmark {

    private ServicePolicyEngine policies = ServicePolicyEngine.compile(List.of());
    private FirewallEngine firewall = FirewallEngine.compile(List.of(), Site.of("tokyo"));
    private RateLimiter limiter = RateLimiter.of(RateLimit.of(1, Duration.ofSeconds(1)));
    private RequestFacts firstRule = RequestFacts.builder().build();
    private RequestFacts lastRule = firstRule;
    private RequestFacts noRule = firstRule;
    private ConnectionFacts lastFirewallRule = ConnectionFacts.builder(InetAddress.getLoopbackAddress(), 1).build();
    private InetAddress client = InetAddress.getLoopbackAddress();

    /** Compiles the policies once, as a router does per config snapshot. */
    @Setup
    public void setUp() throws UnknownHostException {
        policies = ServicePolicyEngine.compile(List.of(hundredRules()));
        firewall = FirewallEngine.compile(List.of(hundredFirewallRules()), Site.of("tokyo"));
        // Effectively unlimited, so that every call takes the success path.
        limiter = RateLimiter.of(RateLimit.builder(1_000_000_000, Duration.ofMillis(1)).burst(1_000_000_000).build());
        client = InetAddress.getByName("2001:db8::5");
        firstRule = RequestFacts.builder().sourceSite("tokyo").clientIp(InetAddress.getByName("10.0.1.2"))
                .host("shop.osaka.example").method("GET").path("/orders/42").build();
        lastRule = RequestFacts.builder().sourceSite("tokyo").clientIp(client).host("shop.osaka.example")
                .method("POST").path("/orders/42").header("x-env", "prod").header("user-agent", "bench/1.0").build();
        noRule = RequestFacts.builder().sourceSite("nara").clientIp(InetAddress.getByName("203.0.113.7"))
                .host("other.example").method("DELETE").path("/x").build();
        lastFirewallRule = ConnectionFacts.builder(InetAddress.getByName("2001:db8:ffff::1"), 8443).build();
        check(policies.decide(firstRule).ruleIndex() == 0, "first request decided by rule 0");
        check(policies.decide(lastRule).ruleIndex() == 99, "last request decided by rule 99");
        check(policies.decide(noRule).isDefault(), "no rule matches the third request");
        check(firewall.decide(lastFirewallRule).ruleIndex() == 99, "connection decided by rule 99");
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new IllegalStateException("benchmark set-up is wrong: expected " + what);
        }
    }

    /** A request that the first rule decides. */
    @Benchmark
    public PolicyDecision decideFirstRule() {
        return policies.decide(firstRule);
    }

    /** A request that only the 100th rule matches: every rule is evaluated. */
    @Benchmark
    public PolicyDecision decideLastRule() {
        return policies.decide(lastRule);
    }

    /** A request that no rule matches: every rule is evaluated, then the default applies. */
    @Benchmark
    public PolicyDecision decideDefault() {
        return policies.decide(noRule);
    }

    /** A connection that only the 100th firewall rule matches. */
    @Benchmark
    public FirewallDecision firewallLastRule() {
        return firewall.decide(lastFirewallRule);
    }

    /** One token from a per-client bucket. */
    @Benchmark
    public boolean rateLimiterAcquire() {
        return limiter.tryAcquire(client);
    }

    static ServicePolicy hundredRules() {
        ServicePolicy.Builder b = ServicePolicy.builder("hundred");
        b.rule(PolicyRule.allow().name("first").method("GET").clientCidr("10.0.0.0/16"));
        for (int i = 1; i < 99; i++) {
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
                    rule.method("POST").header(HeaderMatch.regex("user-agent", "curl/" + i + "\\..*"));
                    break;
            }
            b.rule(rule);
        }
        b.rule(PolicyRule.allow().name("last").sourceSite("tokyo").clientCidr("2001:db8::/32")
                .domain("*.osaka.example").method("POST").path(PathMatch.regex("/orders/[0-9]+"))
                .header(HeaderMatch.exact("x-env", "prod")));
        return b.build();
    }

    static NetworkFirewall hundredFirewallRules() {
        NetworkFirewall.Builder b = NetworkFirewall.builder("edge").site("tokyo");
        for (int i = 0; i < 99; i++) {
            b.rule(FirewallRule.deny().order(i).protocol(i % 2 == 0 ? FirewallRule.Protocol.TCP
                    : FirewallRule.Protocol.ANY).sourceCidr("10." + i + ".0.0/16")
                    .sourceCidr("2001:db8:" + Integer.toHexString(i + 1) + "::/48").port(1000 + i));
        }
        b.rule(FirewallRule.allow().order(99).sourceCidr("2001:db8::/32").port("8000-9000"));
        return b.build();
    }
}
