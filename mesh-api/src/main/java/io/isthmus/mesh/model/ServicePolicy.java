package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A service policy: ordered allow and deny rules for the HTTP requests of the load balancers that name
 * it, and a default action. Namespaced; a load balancer names its policies in its own namespace.
 * Immutable.
 *
 * <p>Evaluation (see {@link io.isthmus.mesh.policy.ServicePolicyEngine}): the rules are tried in order
 * and the first that matches decides; when none matches, the policy's {@linkplain #defaultAction()
 * default action} applies. When a load balancer names several policies, their rules are tried in the
 * order of the policies, then of the rules, and only the last policy's default action applies.
 *
 * <pre>{@code
 * ServicePolicy policy = ServicePolicy.builder("allow-tokyo")
 *         .rule(PolicyRule.deny().name("no-admin").path(PathMatch.prefix("/admin/")))
 *         .rule(PolicyRule.allow().name("tokyo").sourceSite("tokyo")
 *                 .rateLimit(RateLimit.of(100, Duration.ofSeconds(1))))
 *         .defaultAction(PolicyAction.DENY)
 *         .build();
 * }</pre>
 */
public final class ServicePolicy implements MeshObject {

    private final ObjectKey key;
    private final List<PolicyRule> rules;
    private final PolicyAction defaultAction;

    private ServicePolicy(Builder b) {
        String path = MeshObject.pathOf(Kind.SERVICE_POLICY, b.name);
        String name = Validation.dnsLabel(b.name, path + ".name");
        String namespace = Validation.dnsLabel(b.namespace, path + ".namespace");
        this.key = ObjectKey.of(Kind.SERVICE_POLICY, namespace, name);
        List<PolicyRule> rules = new ArrayList<>(b.rules.size());
        Map<String, Integer> names = new HashMap<>();
        for (int i = 0; i < b.rules.size(); i++) {
            String rulePath = path + ".rules[" + i + ']';
            PolicyRule rule = b.rules.get(i).build(rulePath);
            if (rule.name() != null) {
                Integer previous = names.putIfAbsent(rule.name(), i);
                if (previous != null) {
                    throw new ConfigValidationException(rulePath + ".name", Validation.quote(rule.name())
                            + " (expected: a name unique within the policy; rules[" + previous + "] has it)");
                }
            }
            rules.add(rule);
        }
        this.rules = List.copyOf(rules);
        this.defaultAction = b.defaultAction;
    }

    /**
     * Returns a builder for a policy in the {@value MeshObject#DEFAULT_NAMESPACE} namespace.
     *
     * @param name the policy's name, a lowercase DNS label
     * @return a new builder
     */
    public static Builder builder(String name) {
        return new Builder().name(name);
    }

    @Override
    public ObjectKey key() {
        return key;
    }

    /** @return the namespace */
    public String namespace() {
        return key.namespace();
    }

    /**
     * Returns the rules, in evaluation order.
     *
     * @return the rules, possibly empty
     */
    public List<PolicyRule> rules() {
        return rules;
    }

    /**
     * Returns what happens to a request that no rule matches (default {@link PolicyAction#DENY}).
     *
     * @return the default action
     */
    public PolicyAction defaultAction() {
        return defaultAction;
    }

    /**
     * Returns a builder initialised with this policy's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().name(name()).namespace(namespace()).defaultAction(defaultAction);
        rules.forEach(b::rule);
        return b;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof ServicePolicy && ((ServicePolicy) o).key.equals(key)
                && ((ServicePolicy) o).rules.equals(rules) && ((ServicePolicy) o).defaultAction == defaultAction;
    }

    @Override
    public int hashCode() {
        return (key.hashCode() * 31 + rules.hashCode()) * 31 + defaultAction.hashCode();
    }

    @Override
    public String toString() {
        return "ServicePolicy{" + key.qualifiedName() + ", rules=" + rules + ", defaultAction="
                + defaultAction + '}';
    }

    /** Builds a {@link ServicePolicy}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private @Nullable String namespace = DEFAULT_NAMESPACE;
        private final List<PolicyRule.Builder> rules = new ArrayList<>();
        private PolicyAction defaultAction = PolicyAction.DENY;

        private Builder() {}

        /**
         * Sets the name.
         *
         * @param name a lowercase DNS label
         * @return this builder
         */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /**
         * Sets the namespace (default {@value MeshObject#DEFAULT_NAMESPACE}).
         *
         * @param namespace a lowercase DNS label
         * @return this builder
         */
        public Builder namespace(String namespace) {
            this.namespace = requireNonNull(namespace, "namespace");
            return this;
        }

        /**
         * Adds a rule after the rules added so far.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder rule(PolicyRule rule) {
            rules.add(requireNonNull(rule, "rule").toBuilder());
            return this;
        }

        /**
         * Adds a rule after the rules added so far, built (and validated, with field paths below
         * {@code servicePolicies[name].rules[i]}) when the policy is built. Later changes to the
         * builder are not seen.
         *
         * @param rule the rule's builder
         * @return this builder
         */
        public Builder rule(PolicyRule.Builder rule) {
            // A copy: building it now would lose the field path, and later changes must not leak in.
            rules.add(requireNonNull(rule, "rule").copy());
            return this;
        }

        /**
         * Adds rules after the rules added so far.
         *
         * @param rules the rules, in order
         * @return this builder
         */
        public Builder rules(List<PolicyRule> rules) {
            rules.forEach(this::rule);
            return this;
        }

        /**
         * Sets what happens to a request that no rule matches (default {@link PolicyAction#DENY}).
         *
         * @param action the default action
         * @return this builder
         */
        public Builder defaultAction(PolicyAction action) {
            this.defaultAction = requireNonNull(action, "action");
            return this;
        }

        /**
         * Validates the values and builds the policy.
         *
         * @return the policy
         * @throws ConfigValidationException naming the first bad field, e.g. {@code
         *     servicePolicies[allow-tokyo].rules[1].clientCidrs[0]}
         */
        public ServicePolicy build() {
            return new ServicePolicy(this);
        }
    }
}
