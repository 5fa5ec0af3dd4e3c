package io.isthmus.mesh.internal.policy;

import static io.isthmus.mesh.internal.DocumentFields.describe;
import static io.isthmus.mesh.internal.DocumentFields.objects;
import static io.isthmus.mesh.internal.DocumentFields.string;
import static io.isthmus.mesh.internal.DocumentFields.strings;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.HeaderMatch;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code spec} of {@code ServicePolicy} and {@code NetworkFirewall} documents, read and written for
 * {@link io.isthmus.mesh.config.MeshObjectCodec}.
 *
 * <p>Errors follow the codec: an unknown field is named by its place in the document ({@code
 * servicePolicies[api].spec.rules[0].methodz}), a bad value by the model's field path ({@code
 * servicePolicies[api].rules[0].clientCidrs[1]}).
 */
public final class PolicyDocuments {

    private static final List<String> SERVICE_POLICY_FIELDS = List.of("rules", "defaultAction");
    private static final List<String> POLICY_RULE_FIELDS = List.of("name", "action", "sourceSites",
            "sourceIdentities", "clientCidrs", "domains", "methods", "paths", "headers", "rateLimit");
    private static final List<String> PATH_FIELDS = List.of("exact", "prefix", "regex");
    private static final List<String> HEADER_FIELDS = List.of("name", "present", "exact", "regex", "invert");
    private static final List<String> RATE_LIMIT_FIELDS = List.of("requests", "period", "burst", "key");
    private static final List<String> FIREWALL_FIELDS = List.of("sites", "siteSelector", "listeners", "rules",
            "defaultAction");
    private static final List<String> FIREWALL_RULE_FIELDS = List.of("name", "action", "order", "direction",
            "protocol", "sourceCidrs", "destinationCidrs", "ports");

    private PolicyDocuments() {}

    // ---- writing

    /** Writes a service policy's fields into its document's {@code spec}. */
    public static void writeServicePolicy(ServicePolicy policy, ObjectNode spec) {
        ArrayNode rules = spec.putArray("rules");
        for (PolicyRule rule : policy.rules()) {
            ObjectNode r = rules.addObject();
            if (rule.name() != null) {
                r.put("name", rule.name());
            }
            r.put("action", rule.action().name());
            putStrings(r, "sourceSites", rule.sourceSites());
            putStrings(r, "sourceIdentities", rule.sourceIdentities());
            putStrings(r, "clientCidrs", texts(rule.clientCidrs()));
            putStrings(r, "domains", rule.domains());
            putStrings(r, "methods", rule.methods());
            if (!rule.paths().isEmpty()) {
                ArrayNode paths = r.putArray("paths");
                rule.paths().forEach(p -> paths.addObject().put(p.type().name().toLowerCase(Locale.ROOT), p.value()));
            }
            if (!rule.headers().isEmpty()) {
                ArrayNode headers = r.putArray("headers");
                for (HeaderMatch h : rule.headers()) {
                    ObjectNode o = headers.addObject().put("name", h.name());
                    if (h.type() == HeaderMatch.Type.PRESENT) {
                        o.put("present", true);
                    } else {
                        o.put(h.type().name().toLowerCase(Locale.ROOT), h.value());
                    }
                    if (h.invert()) {
                        o.put("invert", true);
                    }
                }
            }
            RateLimit limit = rule.rateLimit();
            if (limit != null) {
                r.putObject("rateLimit").put("requests", limit.requests())
                        .put("period", PolicyValidation.formatDuration(limit.period()))
                        .put("burst", limit.burst())
                        .put("key", limit.key().name());
            }
        }
        spec.put("defaultAction", policy.defaultAction().name());
    }

    /** Writes a firewall's fields into its document's {@code spec}. */
    public static void writeNetworkFirewall(NetworkFirewall firewall, ObjectNode spec) {
        putStrings(spec, "sites", firewall.sites());
        if (!firewall.siteSelector().isEmpty()) {
            ObjectNode selector = spec.putObject("siteSelector");
            firewall.siteSelector().forEach(selector::put);
        }
        List<String> listeners = new ArrayList<>();
        for (ObjectKey l : firewall.listeners()) {
            listeners.add(l.qualifiedName());
        }
        putStrings(spec, "listeners", listeners);
        ArrayNode rules = spec.putArray("rules");
        for (FirewallRule rule : firewall.rules()) {
            ObjectNode r = rules.addObject();
            if (rule.name() != null) {
                r.put("name", rule.name());
            }
            r.put("action", rule.action().name());
            r.put("order", rule.order());
            r.put("direction", rule.direction().name());
            r.put("protocol", rule.protocol().name());
            putStrings(r, "sourceCidrs", texts(rule.sourceCidrs()));
            putStrings(r, "destinationCidrs", texts(rule.destinationCidrs()));
            putStrings(r, "ports", texts(rule.ports()));
        }
        spec.put("defaultAction", firewall.defaultAction().name());
    }

    private static List<String> texts(List<?> values) {
        List<String> texts = new ArrayList<>(values.size());
        values.forEach(v -> texts.add(v.toString()));
        return texts;
    }

    private static void putStrings(ObjectNode object, String field, List<String> values) {
        if (!values.isEmpty()) {
            ArrayNode array = object.putArray(field);
            values.forEach(array::add);
        }
    }

    // ---- reading

    /**
     * Reads a service policy from its document's {@code spec}.
     *
     * @param path the object's path, e.g. {@code servicePolicies[api]}
     */
    public static ServicePolicy readServicePolicy(String name, @Nullable String namespace, JsonNode spec,
            String path) {
        checkFields(spec, SERVICE_POLICY_FIELDS, path + ".spec");
        ServicePolicy.Builder b = ServicePolicy.builder(name);
        if (namespace != null) {
            b.namespace(namespace);
        }
        PolicyAction defaultAction = enumValue(spec, "defaultAction", PolicyAction.class, path + ".defaultAction");
        if (defaultAction != null) {
            b.defaultAction(defaultAction);
        }
        List<JsonNode> rules = objects(spec, "rules", path);
        for (int i = 0; i < rules.size(); i++) {
            b.rule(policyRule(rules.get(i), path + ".rules[" + i + ']', path + ".spec.rules[" + i + ']'));
        }
        return b.build();
    }

    private static PolicyRule.Builder policyRule(JsonNode node, String path, String documentPath) {
        checkFields(node, POLICY_RULE_FIELDS, documentPath);
        PolicyAction action = enumValue(node, "action", PolicyAction.class, path + ".action");
        if (action == null) {
            throw new ConfigValidationException(path + ".action", "is required (expected: ALLOW or DENY)");
        }
        PolicyRule.Builder b = PolicyRule.builder(action);
        String name = string(node, "name", path + ".name");
        if (name != null) {
            b.name(name);
        }
        each(strings(node, "sourceSites", path), b::sourceSite);
        each(strings(node, "sourceIdentities", path), b::sourceIdentity);
        each(strings(node, "clientCidrs", path), b::clientCidr);
        each(strings(node, "domains", path), b::domain);
        each(strings(node, "methods", path), b::method);
        List<JsonNode> paths = objects(node, "paths", path);
        for (int i = 0; i < paths.size(); i++) {
            b.path(pathMatch(paths.get(i), path + ".paths[" + i + ']', documentPath + ".paths[" + i + ']'));
        }
        List<JsonNode> headers = objects(node, "headers", path);
        for (int i = 0; i < headers.size(); i++) {
            b.header(headerMatch(headers.get(i), path + ".headers[" + i + ']', documentPath + ".headers[" + i + ']'));
        }
        JsonNode limit = node.get("rateLimit");
        if (limit != null && !limit.isNull()) {
            b.rateLimit(rateLimit(limit, path + ".rateLimit", documentPath + ".rateLimit"));
        }
        return b;
    }

    private static PathMatch pathMatch(JsonNode node, String path, String documentPath) {
        checkFields(node, PATH_FIELDS, documentPath);
        if (node.size() != 1) {
            throw new ConfigValidationException(path, describe(node)
                    + " (expected: exactly one of exact, prefix or regex)");
        }
        String field = node.propertyNames().iterator().next();
        String value = string(node, field, path + '.' + field);
        if (value == null) {
            throw new ConfigValidationException(path + '.' + field, "is required");
        }
        try {
            switch (field) {
                case "exact":
                    return PathMatch.exact(value);
                case "prefix":
                    return PathMatch.prefix(value);
                default:
                    return PathMatch.regex(value);
            }
        } catch (ConfigValidationException e) {
            throw PolicyValidation.prefixed(path, e);
        }
    }

    private static HeaderMatch headerMatch(JsonNode node, String path, String documentPath) {
        checkFields(node, HEADER_FIELDS, documentPath);
        String name = string(node, "name", path + ".name");
        if (name == null) {
            throw new ConfigValidationException(path + ".name", "is required");
        }
        boolean present = bool(node, "present", path + ".present");
        String exact = string(node, "exact", path + ".exact");
        String regex = string(node, "regex", path + ".regex");
        int kinds = (present ? 1 : 0) + (exact != null ? 1 : 0) + (regex != null ? 1 : 0);
        if (kinds != 1) {
            throw new ConfigValidationException(path, describe(node)
                    + " (expected: exactly one of present: true, exact or regex)");
        }
        try {
            HeaderMatch match = present ? HeaderMatch.present(name)
                    : exact != null ? HeaderMatch.exact(name, exact) : HeaderMatch.regex(name, requireText(regex));
            return bool(node, "invert", path + ".invert") ? match.inverted() : match;
        } catch (ConfigValidationException e) {
            throw PolicyValidation.prefixed(path, e);
        }
    }

    private static String requireText(@Nullable String value) {
        if (value == null) {
            throw new IllegalStateException("checked above");
        }
        return value;
    }

    private static RateLimit rateLimit(JsonNode node, String path, String documentPath) {
        if (!node.isObject()) {
            throw new ConfigValidationException(path, describe(node)
                    + " (expected: an object with requests, period, burst and key)");
        }
        checkFields(node, RATE_LIMIT_FIELDS, documentPath);
        Integer requests = integer(node, "requests", path + ".requests");
        if (requests == null) {
            throw new ConfigValidationException(path + ".requests", "is required");
        }
        String period = string(node, "period", path + ".period");
        if (period == null) {
            throw new ConfigValidationException(path + ".period", "is required (expected: a duration such as 1s)");
        }
        try {
            RateLimit.Builder b = RateLimit.builder(requests, PolicyValidation.duration(period, "period"));
            Integer burst = integer(node, "burst", "burst");
            if (burst != null) {
                b.burst(burst);
            }
            RateLimit.Key key = enumValue(node, "key", RateLimit.Key.class, "key");
            if (key != null) {
                b.key(key);
            }
            return b.build();
        } catch (ConfigValidationException e) {
            throw PolicyValidation.prefixed(path, e);
        }
    }

    /**
     * Reads a firewall from its document's {@code spec}.
     *
     * @param path the object's path, e.g. {@code networkFirewalls[edge]}
     */
    public static NetworkFirewall readNetworkFirewall(String name, JsonNode spec, String path) {
        checkFields(spec, FIREWALL_FIELDS, path + ".spec");
        NetworkFirewall.Builder b = NetworkFirewall.builder(name);
        each(strings(spec, "sites", path), b::site);
        JsonNode selector = spec.get("siteSelector");
        if (selector != null && !selector.isNull()) {
            if (!selector.isObject()) {
                throw new ConfigValidationException(path + ".siteSelector", describe(selector)
                        + " (expected: a map of strings to strings)");
            }
            for (Map.Entry<String, JsonNode> label : selector.properties()) {
                if (!label.getValue().isString()) {
                    throw new ConfigValidationException(path + ".siteSelector[" + label.getKey() + ']',
                            describe(label.getValue()) + " (expected: a string)");
                }
                b.siteSelector(label.getKey(), label.getValue().stringValue());
            }
        }
        each(strings(spec, "listeners", path), b::listener);
        PolicyAction defaultAction = enumValue(spec, "defaultAction", PolicyAction.class, path + ".defaultAction");
        if (defaultAction != null) {
            b.defaultAction(defaultAction);
        }
        List<JsonNode> rules = objects(spec, "rules", path);
        for (int i = 0; i < rules.size(); i++) {
            b.rule(firewallRule(rules.get(i), path + ".rules[" + i + ']', path + ".spec.rules[" + i + ']'));
        }
        return b.build();
    }

    private static FirewallRule.Builder firewallRule(JsonNode node, String path, String documentPath) {
        checkFields(node, FIREWALL_RULE_FIELDS, documentPath);
        PolicyAction action = enumValue(node, "action", PolicyAction.class, path + ".action");
        if (action == null) {
            throw new ConfigValidationException(path + ".action", "is required (expected: ALLOW or DENY)");
        }
        FirewallRule.Builder b = FirewallRule.builder(action);
        String name = string(node, "name", path + ".name");
        if (name != null) {
            b.name(name);
        }
        Integer order = integer(node, "order", path + ".order");
        if (order != null) {
            b.order(order);
        }
        FirewallRule.Direction direction = enumValue(node, "direction", FirewallRule.Direction.class,
                path + ".direction");
        if (direction != null) {
            b.direction(direction);
        }
        FirewallRule.Protocol protocol = enumValue(node, "protocol", FirewallRule.Protocol.class, path + ".protocol");
        if (protocol != null) {
            b.protocol(protocol);
        }
        each(strings(node, "sourceCidrs", path), b::sourceCidr);
        each(strings(node, "destinationCidrs", path), b::destinationCidr);
        JsonNode ports = node.get("ports");
        if (ports != null && !ports.isNull()) {
            if (!ports.isArray()) {
                throw new ConfigValidationException(path + ".ports", describe(ports)
                        + " (expected: a list of ports and port ranges)");
            }
            for (int i = 0; i < ports.size(); i++) {
                JsonNode port = ports.get(i);
                if (port.isString()) {
                    b.port(port.stringValue());
                } else if (port.isIntegralNumber() && port.canConvertToInt()) {
                    b.port(Integer.toString(port.intValue()));
                } else {
                    throw new ConfigValidationException(path + ".ports[" + i + ']', describe(port)
                            + " (expected: a port or a range of ports, e.g. 443 or \"8000-8080\")");
                }
            }
        }
        return b;
    }

    // ---- shared helpers, phrased like the codec's

    private static <T> void each(List<T> values, Consumer<T> sink) {
        values.forEach(sink);
    }

    private static void checkFields(JsonNode object, List<String> known, String path) {
        if (!object.isObject()) {
            throw new ConfigValidationException(path, describe(object) + " (expected: an object)");
        }
        for (String field : object.propertyNames()) {
            if (!known.contains(field)) {
                throw new ConfigValidationException(path + '.' + field,
                        "(unknown field; expected one of: " + String.join(", ", known) + ')');
            }
        }
    }

    private static boolean bool(JsonNode object, String field, String path) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: true or false)");
        }
        return value.booleanValue();
    }

    private static @Nullable Integer integer(JsonNode object, String field, String path) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: a whole number)");
        }
        return value.intValue();
    }

    private static <E extends Enum<E>> @Nullable E enumValue(JsonNode object, String field, Class<E> type,
            String path) {
        String text = string(object, field, path);
        if (text == null) {
            return null;
        }
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(text)) {
                return constant;
            }
        }
        List<String> names = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            names.add(constant.name());
        }
        throw new ConfigValidationException(path, Validation.quote(text) + " (expected: one of "
                + String.join(", ", names) + ')');
    }

}
