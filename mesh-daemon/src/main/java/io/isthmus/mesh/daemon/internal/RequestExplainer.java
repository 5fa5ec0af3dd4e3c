package io.isthmus.mesh.daemon.internal;

import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.policy.Explanation;
import io.isthmus.mesh.policy.PolicyDecision;
import io.isthmus.mesh.policy.RequestFacts;
import io.isthmus.mesh.policy.ServicePolicyEngine;
import io.isthmus.mesh.snapshot.CompiledLoadBalancer;
import io.isthmus.mesh.snapshot.MeshSnapshot;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Answers {@code POST /v1/explain}: finds the load balancer a request would reach at this site and
 * runs its service policies in explain mode. Bad requests throw {@link IllegalArgumentException}
 * with the offending field, which the admin API turns into 400.
 */
public final class RequestExplainer {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RequestExplainer() {}

    /**
     * Explains one request against one configuration.
     *
     * @param site this router's site: a host is looked up among the load balancers advertised here
     * @param config the configuration the router applies
     * @param request {@code {"host"|"loadBalancer", "method", "path", "headers", "clientIp", "sourceSite"}}
     * @return {@code {"allowed", "loadBalancer", "policy", "rule", "reason", "trace"}}
     */
    public static ObjectNode explain(String site, ConfigSnapshot config, JsonNode request) {
        String host = text(request, "host");
        String lbRef = text(request, "loadBalancer");
        Map<ObjectKey, MeshObject> objects = new HashMap<>();
        for (Versioned<MeshObject> v : config.objects()) {
            objects.put(v.object().key(), v.object());
        }
        LoadBalancer lb;
        if (lbRef != null) {
            int slash = lbRef.indexOf('/');
            ObjectKey key = slash < 0
                    ? ObjectKey.of(Kind.LOAD_BALANCER, MeshObject.DEFAULT_NAMESPACE, lbRef)
                    : ObjectKey.of(Kind.LOAD_BALANCER, lbRef.substring(0, slash), lbRef.substring(slash + 1));
            MeshObject found = objects.get(key);
            if (found == null) {
                throw new IllegalArgumentException("loadBalancer: \"" + lbRef + "\" (expected: an existing load balancer, "
                        + "namespace/name)");
            }
            lb = (LoadBalancer) found;
        } else if (host != null) {
            CompiledLoadBalancer compiled = MeshSnapshot.compile(site, config).loadBalancerForHost(host);
            if (compiled == null) {
                throw new IllegalArgumentException("host: \"" + host + "\" (expected: a domain of a load balancer "
                        + "advertised at site " + site + ')');
            }
            lb = compiled.loadBalancer();
        } else {
            throw new IllegalArgumentException("host or loadBalancer is required (expected: e.g. {\"host\": \"osaka-app\"})");
        }

        RequestFacts.Builder facts = RequestFacts.builder()
                .host(host != null ? host : lb.domains().get(0))
                .method(orDefault(text(request, "method"), "GET"))
                .path(orDefault(text(request, "path"), "/"));
        JsonNode headers = request.get("headers");
        if (headers != null && headers.isObject()) {
            headers.properties().forEach(e -> facts.header(e.getKey(),
                    e.getValue().isString() ? e.getValue().stringValue() : e.getValue().toString()));
        }
        String clientIp = text(request, "clientIp");
        if (clientIp != null) {
            facts.clientIp(parseIp(clientIp));
        }
        String sourceSite = text(request, "sourceSite");
        if (sourceSite != null) {
            facts.sourceSite(sourceSite);
        }

        ServicePolicyEngine engine = ServicePolicyEngine
                .builder(lb.namespace(), lb.servicePolicies(), key -> (ServicePolicy) objects.get(key))
                .build();
        Explanation<PolicyDecision> explanation = engine.explain(facts.build());
        PolicyDecision decision = explanation.decision();
        ObjectNode result = NODES.objectNode();
        result.put("allowed", decision.allowed());
        result.put("loadBalancer", lb.key().qualifiedName());
        ObjectKey policy = decision.policy();
        result.put("policy", policy == null ? null : policy.qualifiedName());
        String rule = decision.ruleName() != null ? decision.ruleName()
                : decision.ruleIndex() >= 0 ? "rules[" + decision.ruleIndex() + ']' : null;
        result.put("rule", rule);
        result.put("reason", decision.reason());
        ArrayNode trace = result.putArray("trace");
        explanation.lines().forEach(trace::add);
        return result;
    }

    private static InetAddress parseIp(String text) {
        boolean literal = text.indexOf(':') >= 0 || text.chars().allMatch(c -> c == '.' || Character.isDigit(c));
        if (!literal || text.isEmpty()) {
            throw new IllegalArgumentException("clientIp: \"" + text + "\" (expected: an IPv4 or IPv6 address)");
        }
        try {
            return InetAddress.getByName(text); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("clientIp: \"" + text + "\" (expected: an IPv4 or IPv6 address)", e);
        }
    }

    private static String orDefault(@Nullable String value, String fallback) {
        return value == null || value.isEmpty() ? fallback : value;
    }

    private static @Nullable String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString()) {
            throw new IllegalArgumentException(field + ": " + value + " (expected: a string)");
        }
        return value.stringValue();
    }
}
