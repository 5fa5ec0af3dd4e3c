package io.isthmus.mesh.policy;

import static io.isthmus.mesh.policy.ServicePolicyEngineTest.ip;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.FirewallRule.Direction;
import io.isthmus.mesh.model.FirewallRule.Protocol;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.Site;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirewallEngineTest {

    private static final Site TOKYO = Site.builder("tokyo").label("tier", "edge").build();
    private static final ObjectKey APP = ObjectKey.of(Kind.LOAD_BALANCER, "default", "osaka-app");
    private static final ObjectKey SHOP = ObjectKey.of(Kind.LOAD_BALANCER, "shop", "cart");

    private static ConnectionFacts.Builder from(String source, int port) {
        return ConnectionFacts.builder(ip(source), port);
    }

    private static FirewallDecision decide(NetworkFirewall fw, ConnectionFacts facts) {
        FirewallEngine engine = FirewallEngine.compile(List.of(fw), TOKYO);
        FirewallDecision d = engine.decide(facts);
        assertThat(engine.explain(facts).decision()).isSameAs(d);
        return d;
    }

    @Test
    void matchesSourceCidrsIpv4AndIpv6() {
        NetworkFirewall fw = NetworkFirewall.builder("fw").site("tokyo").defaultAction(PolicyAction.DENY)
                .rule(FirewallRule.allow().sourceCidr("192.168.0.0/16").sourceCidr("2001:db8:1::/48")).build();
        assertThat(decide(fw, from("192.168.4.5", 443).build()).allowed()).isTrue();
        assertThat(decide(fw, from("2001:db8:1:ffff::1", 443).build()).allowed()).isTrue();
        assertThat(decide(fw, from("2001:db8:2::1", 443).build()).allowed()).isFalse();
        assertThat(decide(fw, from("192.169.0.1", 443).build()).allowed()).isFalse();
    }

    @Test
    void matchesDestinationCidrsOnlyWhenTheDestinationIsKnown() {
        NetworkFirewall fw = NetworkFirewall.builder("fw").site("tokyo")
                .rule(FirewallRule.deny().destinationCidr("10.96.0.0/12")).build();
        assertThat(decide(fw, from("1.2.3.4", 80).destinationIp(ip("10.100.0.1")).build()).allowed()).isFalse();
        assertThat(decide(fw, from("1.2.3.4", 80).destinationIp(ip("10.112.0.1")).build()).allowed()).isTrue();
        assertThat(decide(fw, from("1.2.3.4", 80).build()).allowed()).isTrue();
    }

    @Test
    void matchesPortRangesInclusively() {
        NetworkFirewall fw = NetworkFirewall.builder("fw").site("tokyo")
                .rule(FirewallRule.deny().port("8000-8080").port(23)).build();
        assertThat(decide(fw, from("1.2.3.4", 8000).build()).allowed()).isFalse();
        assertThat(decide(fw, from("1.2.3.4", 8080).build()).allowed()).isFalse();
        assertThat(decide(fw, from("1.2.3.4", 23).build()).allowed()).isFalse();
        assertThat(decide(fw, from("1.2.3.4", 7999).build()).allowed()).isTrue();
        assertThat(decide(fw, from("1.2.3.4", 8081).build()).allowed()).isTrue();
    }

    @Test
    void matchesProtocolAndDirection() {
        NetworkFirewall fw = NetworkFirewall.builder("fw").site("tokyo")
                .rule(FirewallRule.deny().protocol(Protocol.UDP).port(53).direction(Direction.EGRESS))
                .rule(FirewallRule.deny().protocol(Protocol.ANY).port(9000)).build();
        assertThat(decide(fw, from("1.2.3.4", 53).protocol(Protocol.UDP).direction(Direction.EGRESS).build())
                .allowed()).isFalse();
        assertThat(decide(fw, from("1.2.3.4", 53).protocol(Protocol.TCP).direction(Direction.EGRESS).build())
                .allowed()).isTrue();
        assertThat(decide(fw, from("1.2.3.4", 53).protocol(Protocol.UDP).build()).allowed()).as("ingress")
                .isTrue();
        assertThat(decide(fw, from("1.2.3.4", 9000).protocol(Protocol.UDP).build()).allowed()).isFalse();
        assertThat(decide(fw, from("1.2.3.4", 9000).protocol(Protocol.TCP).build()).allowed()).isFalse();
        assertThatThrownBy(() -> from("1.2.3.4", 1).protocol(Protocol.ANY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("protocol: ANY (expected: TCP or UDP; a connection has one protocol)");
    }

    @Test
    void lowerOrderWinsRegardlessOfPositionAndTiesKeepFirewallNameThenPosition() {
        NetworkFirewall b = NetworkFirewall.builder("b-fw").site("tokyo")
                .rule(FirewallRule.deny().name("late-deny").order(50).port(443))
                .rule(FirewallRule.allow().name("early-allow").order(10).port(443))
                .rule(FirewallRule.deny().name("tie-b").order(20).port(80)).build();
        NetworkFirewall a = NetworkFirewall.builder("a-fw").site("tokyo")
                .rule(FirewallRule.allow().name("tie-a").order(20).port(80))
                .rule(FirewallRule.deny().name("tie-a2").order(20).port(80)).build();
        FirewallEngine engine = FirewallEngine.compile(List.of(b, a), TOKYO);
        FirewallDecision https = engine.decide(from("1.2.3.4", 443).build());
        assertThat(https.allowed()).isTrue();
        assertThat(https.ruleName()).isEqualTo("early-allow");
        assertThat(https.ruleIndex()).isEqualTo(1);
        assertThat(https.firewall()).isEqualTo(b.key());
        FirewallDecision http = engine.decide(from("1.2.3.4", 80).build());
        assertThat(http.ruleName()).isEqualTo("tie-a");
        assertThat(http.reason()).isEqualTo("rule 0 (tie-a) of firewall a-fw allows");
    }

    @Test
    void defaultDeniesWhenAnyApplicableFirewallDefaultsToDeny() {
        NetworkFirewall open = NetworkFirewall.builder("open").site("tokyo").build();
        NetworkFirewall closed = NetworkFirewall.builder("closed").siteSelector("tier", "edge")
                .defaultAction(PolicyAction.DENY).build();
        NetworkFirewall elsewhere = NetworkFirewall.builder("elsewhere").site("osaka")
                .defaultAction(PolicyAction.DENY).build();
        FirewallDecision d = FirewallEngine.compile(List.of(open, closed), TOKYO).decide(from("1.2.3.4", 80).build());
        assertThat(d.allowed()).isFalse();
        assertThat(d.isDefault()).isTrue();
        assertThat(d.reason()).isEqualTo("no rule matched; the default action of firewall closed denies");
        assertThat(d.denial()).isNotNull();
        assertThat(d.denial().getStackTrace()).isEmpty();
        FirewallDecision other = FirewallEngine.compile(List.of(open, elsewhere), TOKYO)
                .decide(from("1.2.3.4", 80).build());
        assertThat(other.allowed()).as("a firewall of another site does not apply").isTrue();
        assertThat(other.reason()).isEqualTo("no rule matched; no applicable firewall's default action denies");
    }

    @Test
    void noFirewallAllows() {
        FirewallEngine engine = FirewallEngine.compile(List.of(), TOKYO);
        FirewallDecision d = engine.decide(from("1.2.3.4", 80).build());
        assertThat(d.allowed()).isTrue();
        assertThat(d.firewall()).isNull();
        assertThat(d.reason()).isEqualTo("no network firewall applies at site tokyo; allowed");
    }

    @Test
    void listenerFirewallsApplyOnlyToTheirListeners() {
        NetworkFirewall appOnly = NetworkFirewall.builder("app-only").listener("osaka-app")
                .rule(FirewallRule.allow().sourceCidr("10.0.0.0/8")).defaultAction(PolicyAction.DENY).build();
        FirewallEngine engine = FirewallEngine.compile(List.of(appOnly), TOKYO);
        assertThat(engine.decide(from("10.1.1.1", 80).listener(APP).build()).allowed()).isTrue();
        assertThat(engine.decide(from("11.1.1.1", 80).listener(APP).build()).allowed()).isFalse();
        assertThat(engine.decide(from("11.1.1.1", 80).listener(SHOP).build()).allowed())
                .as("rules and default skipped on other listeners").isTrue();
        assertThat(engine.decide(from("11.1.1.1", 80).build()).allowed()).as("no listener").isTrue();
    }

    @Test
    void explainsEveryRuleTriedAndSkippedFirewalls() {
        NetworkFirewall edge = NetworkFirewall.builder("edge").site("tokyo").defaultAction(PolicyAction.DENY)
                .rule(FirewallRule.allow().name("office").order(10).protocol(Protocol.TCP)
                        .sourceCidr("192.168.0.0/16").port("8000-8080"))
                .rule(FirewallRule.deny().name("no-telnet").order(20).port(23))
                .rule(FirewallRule.allow().name("dns").order(30).direction(Direction.EGRESS)).build();
        NetworkFirewall shop = NetworkFirewall.builder("shop").listener("shop/cart")
                .rule(FirewallRule.deny().name("all")).build();
        Explanation<FirewallDecision> explanation = FirewallEngine.compile(List.of(edge, shop), TOKYO)
                .explain(from("203.0.113.9", 8080).listener(APP).build());
        assertThat(explanation.lines()).containsExactly(
                "network firewalls at site tokyo for INGRESS TCP 203.0.113.9 -> :8080 on listener default/osaka-app",
                "  note: firewall shop is limited to listeners [shop/cart]; its rules and default are skipped",
                "  firewall edge (order 10) rules[0] office (ALLOW): no match: source 203.0.113.9 in none of "
                        + "[192.168.0.0/16]",
                "  firewall edge (order 20) rules[1] no-telnet (DENY): no match: port 8080 in none of [23]",
                "  firewall edge (order 30) rules[2] dns (ALLOW): no match: direction INGRESS is not EGRESS",
                "decision: DENY: no rule matched; the default action of firewall edge denies");
        Explanation<FirewallDecision> match = FirewallEngine.compile(List.of(edge), TOKYO)
                .explain(from("192.168.1.1", 8080).build());
        assertThat(match.steps()).singleElement().satisfies(step -> {
            assertThat(step.matched()).isTrue();
            assertThat(step.detail()).isEqualTo("INGRESS TCP, port in [8000-8080], source in [192.168.0.0/16]");
        });
        assertThat(match.decision().reason()).isEqualTo("rule 0 (office) of firewall edge allows");
    }
}
