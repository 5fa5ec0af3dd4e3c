package io.isthmus.mesh.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.HeaderMatch;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.policy.ConnectionFacts;
import io.isthmus.mesh.policy.FirewallEngine;
import io.isthmus.mesh.policy.RequestFacts;
import io.isthmus.mesh.policy.ServicePolicyEngine;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyDocumentsTest {

    private static final MeshObjectCodec codec = MeshObjectCodec.create();

    /** Every option of a service policy set at least once. */
    static final ServicePolicy POLICY = ServicePolicy.builder("allow-tokyo").namespace("shop")
            .rule(PolicyRule.deny().name("no-admin").path(PathMatch.prefix("/admin/"))
                    .header(HeaderMatch.present("x-admin-token").inverted()))
            .rule(PolicyRule.allow().name("tokyo").sourceSite("tokyo").sourceSite("kyoto")
                    .sourceIdentity("spiffe://mesh.example/site/tokyo")
                    .clientCidr("10.0.0.0/8").clientCidr("2001:db8::/32")
                    .domain("api.example.com").domain("*.osaka.example").domain("*")
                    .method("GET").method("HEAD")
                    .path(PathMatch.exact("/healthz")).path(PathMatch.regex("/orders/[0-9]+"))
                    .header(HeaderMatch.exact("x-env", "prod")).header(HeaderMatch.regex("user-agent", ".*curl.*"))
                    .header(HeaderMatch.exact("x-beta", "1").inverted())
                    .rateLimit(RateLimit.builder(100, Duration.ofMillis(1500)).burst(200)
                            .key(RateLimit.Key.SOURCE_SITE).build()))
            .rule(PolicyRule.allow().rateLimit(RateLimit.builder(5, Duration.ofMinutes(1)).key(RateLimit.Key.RULE)
                    .build()))
            .defaultAction(PolicyAction.ALLOW)
            .build();

    /** Every option of a firewall set at least once. */
    static final NetworkFirewall FIREWALL = NetworkFirewall.builder("edge")
            .site("tokyo").site("osaka").siteSelector("tier", "edge").siteSelector("zone", "123")
            .listener("osaka-app").listener("shop/cart")
            .rule(FirewallRule.allow().name("office").order(10).protocol(FirewallRule.Protocol.TCP)
                    .sourceCidr("192.168.0.0/16").sourceCidr("fd00::/8").destinationCidr("10.0.0.0/8")
                    .port(443).port("8000-8080"))
            .rule(FirewallRule.deny().order(20).direction(FirewallRule.Direction.EGRESS)
                    .protocol(FirewallRule.Protocol.UDP).port(53))
            .rule(FirewallRule.deny())
            .defaultAction(PolicyAction.DENY)
            .build();

    @Test
    void servicePolicyRoundTripsThroughYamlJsonAndMaps() {
        assertThat(codec.read(codec.toYaml(POLICY))).isEqualTo(POLICY);
        assertThat(codec.read(codec.toJson(POLICY))).isEqualTo(POLICY);
        assertThat(codec.fromMap(codec.toMap(POLICY))).isEqualTo(POLICY);
    }

    @Test
    void firewallRoundTripsThroughYamlJsonAndMaps() {
        assertThat(codec.read(codec.toYaml(FIREWALL))).isEqualTo(FIREWALL);
        assertThat(codec.read(codec.toJson(FIREWALL))).isEqualTo(FIREWALL);
        assertThat(codec.fromMap(codec.toMap(FIREWALL))).isEqualTo(FIREWALL);
    }

    @Test
    void writesAServicePolicyAsDocumented() {
        assertThat(codec.toYaml(ServicePolicy.builder("api")
                .rule(PolicyRule.deny().name("no-admin").path(PathMatch.prefix("/admin/")))
                .rule(PolicyRule.allow().clientCidr("2001:db8::/32").header(HeaderMatch.present("a").inverted())
                        .rateLimit(RateLimit.of(100, Duration.ofSeconds(1))))
                .build())).isEqualTo(String.join("\n",
                "kind: ServicePolicy",
                "metadata:",
                "  name: api",
                "  namespace: default",
                "spec:",
                "  rules:",
                "    - name: no-admin",
                "      action: DENY",
                "      paths:",
                "        - prefix: /admin/",
                "    - action: ALLOW",
                "      clientCidrs:",
                "        - 2001:db8::/32",
                "      headers:",
                "        - name: a",
                "          present: true",
                "          invert: true",
                "      rateLimit:",
                "        requests: 100",
                "        period: 1s",
                "        burst: 100",
                "        key: SOURCE_IP",
                "  defaultAction: DENY",
                ""));
    }

    @Test
    void writesAFirewallWithoutNamespace() {
        String yaml = codec.toYaml(NetworkFirewall.builder("edge").site("tokyo")
                .rule(FirewallRule.deny().port("8000-8080")).build());
        assertThat(yaml).isEqualTo(String.join("\n",
                "kind: NetworkFirewall",
                "metadata:",
                "  name: edge",
                "spec:",
                "  sites:",
                "    - tokyo",
                "  rules:",
                "    - action: DENY",
                "      order: 0",
                "      direction: INGRESS",
                "      protocol: ANY",
                "      ports:",
                "        - 8000-8080",
                "  defaultAction: ALLOW",
                ""));
        assertRejected("kind: NetworkFirewall\nmetadata: {name: edge, namespace: x}\nspec: {sites: [tokyo]}\n",
                "networkFirewalls[edge].namespace",
                "\"x\" (expected: none; a NetworkFirewall is not namespaced)");
    }

    @Test
    void readsEnumsInAnyCaseAndPortsAsNumbers() {
        NetworkFirewall fw = (NetworkFirewall) codec.read("kind: networkfirewalls\nmetadata: {name: fw}\n"
                + "spec: {sites: [tokyo], rules: [{action: deny, protocol: udp, ports: [53, \"8000-8080\"]}]}\n");
        assertThat(fw.rules().get(0).protocol()).isEqualTo(FirewallRule.Protocol.UDP);
        assertThat(fw.rules().get(0).ports()).hasToString("[53, 8000-8080]");
        ServicePolicy policy = (ServicePolicy) codec.read("kind: ServicePolicy\nmetadata: {name: p}\n"
                + "spec: {rules: [{action: allow, rateLimit: {requests: 3, period: PT0.25S}}]}\n");
        assertThat(policy.rules().get(0).rateLimit()).isEqualTo(RateLimit.of(3, Duration.ofMillis(250)));
    }

    private static void assertRejected(String text, String fieldPath, String problem) {
        assertThatThrownBy(() -> codec.read(text))
                .isInstanceOfSatisfying(ConfigValidationException.class,
                        e -> assertThat(e.fieldPath()).as("field path").isEqualTo(fieldPath))
                .hasMessage(fieldPath + ": " + problem);
    }

    private static String policy(String rule) {
        return "kind: ServicePolicy\nmetadata: {name: allow-tokyo}\nspec:\n  rules:\n  - {action: ALLOW}\n  - " + rule
                + "\n";
    }

    @Test
    void rejectsUnknownFieldsWithTheirPlaceInTheDocument() {
        assertRejected("kind: ServicePolicy\nmetadata: {name: p}\nspec: {rulez: []}\n", "servicePolicies[p].spec.rulez",
                "(unknown field; expected one of: rules, defaultAction)");
        assertRejected(policy("{action: ALLOW, methodz: [GET]}"), "servicePolicies[allow-tokyo].spec.rules[1].methodz",
                "(unknown field; expected one of: name, action, sourceSites, sourceIdentities, clientCidrs, domains, "
                        + "methods, paths, headers, rateLimit)");
        assertRejected(policy("{action: ALLOW, paths: [{suffix: /x}]}"),
                "servicePolicies[allow-tokyo].spec.rules[1].paths[0].suffix",
                "(unknown field; expected one of: exact, prefix, regex)");
        assertRejected(policy("{action: ALLOW, headers: [{name: a, present: true, negate: true}]}"),
                "servicePolicies[allow-tokyo].spec.rules[1].headers[0].negate",
                "(unknown field; expected one of: name, present, exact, regex, invert)");
        assertRejected(policy("{action: ALLOW, rateLimit: {requests: 1, period: 1s, per: ip}}"),
                "servicePolicies[allow-tokyo].spec.rules[1].rateLimit.per",
                "(unknown field; expected one of: requests, period, burst, key)");
        assertRejected("kind: NetworkFirewall\nmetadata: {name: fw}\nspec: {sites: [a], rules: [{action: DENY, "
                        + "port: 22}]}\n", "networkFirewalls[fw].spec.rules[0].port",
                "(unknown field; expected one of: name, action, order, direction, protocol, sourceCidrs, "
                        + "destinationCidrs, ports)");
    }

    @Test
    void rejectsBadValuesWithTheModelsFieldPath() {
        assertRejected(policy("{action: ALLOW, clientCidrs: [10.0.0.0/8, 10.0.0.300/8]}"),
                "servicePolicies[allow-tokyo].rules[1].clientCidrs[1]",
                "\"10.0.0.300/8\" (expected: an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32)");
        assertRejected(policy("{action: PERMIT}"), "servicePolicies[allow-tokyo].rules[1].action",
                "\"PERMIT\" (expected: one of ALLOW, DENY)");
        assertRejected(policy("{name: x}"), "servicePolicies[allow-tokyo].rules[1].action",
                "is required (expected: ALLOW or DENY)");
        assertRejected(policy("{action: ALLOW, paths: [{prefix: admin}]}"),
                "servicePolicies[allow-tokyo].rules[1].paths[0].prefix", "\"admin\" (expected: a path starting with \"/\")");
        assertRejected(policy("{action: ALLOW, paths: [{prefix: /a, exact: /b}]}"),
                "servicePolicies[allow-tokyo].rules[1].paths[0]",
                "{\"prefix\":\"/a\",\"exact\":\"/b\"} (expected: exactly one of exact, prefix or regex)");
        assertRejected(policy("{action: ALLOW, headers: [{name: a}]}"),
                "servicePolicies[allow-tokyo].rules[1].headers[0]",
                "{\"name\":\"a\"} (expected: exactly one of present: true, exact or regex)");
        assertRejected(policy("{action: ALLOW, headers: [{name: a, present: yes}]}"),
                "servicePolicies[allow-tokyo].rules[1].headers[0].present", "\"yes\" (expected: true or false)");
        assertRejected(policy("{action: ALLOW, rateLimit: {requests: 10, period: soon}}"),
                "servicePolicies[allow-tokyo].rules[1].rateLimit.period",
                "\"soon\" (expected: a duration such as 500ms, 1s, 1m, 1h or PT1S)");
        assertRejected(policy("{action: ALLOW, rateLimit: {requests: 10, period: 1s, burst: 0}}"),
                "servicePolicies[allow-tokyo].rules[1].rateLimit.burst", "0 (expected: 1-1000000000)");
        assertRejected(policy("{action: ALLOW, rateLimit: {requests: 1.5, period: 1s}}"),
                "servicePolicies[allow-tokyo].rules[1].rateLimit.requests", "1.5 (expected: a whole number)");
        assertRejected(policy("{action: ALLOW, methods: GET}"), "servicePolicies[allow-tokyo].rules[1].methods",
                "\"GET\" (expected: a list of strings)");
        assertRejected("kind: NetworkFirewall\nmetadata: {name: fw}\nspec: {sites: [a], rules: [{action: DENY, "
                        + "ports: [\"100-90\"]}]}\n", "networkFirewalls[fw].rules[0].ports[0]",
                "\"100-90\" (expected: a port or a range of ports in 1-65535, e.g. 443 or 8000-8080)");
        assertRejected("kind: NetworkFirewall\nmetadata: {name: fw}\nspec: {sites: [a], rules: [{action: DENY, "
                        + "ports: [true]}]}\n", "networkFirewalls[fw].rules[0].ports[0]",
                "true (expected: a port or a range of ports, e.g. 443 or \"8000-8080\")");
        assertRejected("kind: NetworkFirewall\nmetadata: {name: fw}\nspec: {rules: []}\n", "networkFirewalls[fw]",
                "attached to nothing (expected: at least one of sites, siteSelector or listeners)");
        assertRejected("kind: NetworkFirewall\nmetadata: {name: fw}\nspec: {siteSelector: {tier: 1}}\n",
                "networkFirewalls[fw].siteSelector[tier]", "1 (expected: a string)");
    }

    @Test
    void readsTheSampleFilesAndTheyBehaveAsTheirCommentsSay() throws IOException {
        Path config = Path.of("..", "examples", "config");
        List<MeshObject> policies = codec.readYaml(Files.readString(config.resolve("service-policy.yaml"),
                StandardCharsets.UTF_8));
        List<MeshObject> firewalls = codec.readYaml(Files.readString(config.resolve("network-firewall.yaml"),
                StandardCharsets.UTF_8));
        assertThat(policies).singleElement().isInstanceOf(ServicePolicy.class);
        assertThat(firewalls).singleElement().isInstanceOf(NetworkFirewall.class);
        ServicePolicy policy = (ServicePolicy) policies.get(0);
        NetworkFirewall firewall = (NetworkFirewall) firewalls.get(0);
        assertThat(policy.kind()).isEqualTo(Kind.SERVICE_POLICY);
        assertThat(policy.rules()).hasSize(3);
        assertThat(codec.read(codec.toYaml(policy))).isEqualTo(policy);
        assertThat(codec.read(codec.toYaml(firewall))).isEqualTo(firewall);

        ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(policy));
        RequestFacts read = RequestFacts.builder().sourceSite("tokyo")
                .sourceIdentity("spiffe://demo.isthmus.io/site/tokyo").clientIp(InetAddress.getByName("10.1.2.3"))
                .host("osaka-app").method("GET").path("/orders?id=42").header("user-agent", "Java-http-client/17")
                .build();
        assertThat(engine.decide(read).ruleName()).isEqualTo("tokyo-reads");
        RequestFacts admin = RequestFacts.builder().sourceSite("tokyo").host("osaka-app").path("/admin/x").build();
        assertThat(engine.decide(admin).ruleName()).isEqualTo("no-admin-from-outside");
        FirewallEngine fw = FirewallEngine.compile(firewalls.stream().map(NetworkFirewall.class::cast).toList(),
                Site.of("tokyo"));
        ObjectKey app = ObjectKey.of(Kind.LOAD_BALANCER, "default", "osaka-app");
        assertThat(fw.decide(ConnectionFacts.builder(InetAddress.getByName("192.168.3.4"), 8080).listener(app).build())
                .allowed()).isTrue();
        assertThat(fw.decide(ConnectionFacts.builder(InetAddress.getByName("203.0.113.1"), 8080).listener(app).build())
                .allowed()).isFalse();
        assertThat(fw.decide(ConnectionFacts.builder(InetAddress.getByName("203.0.113.1"), 8080).build()).allowed())
                .as("limited to the osaka-app listener").isTrue();
    }
}
