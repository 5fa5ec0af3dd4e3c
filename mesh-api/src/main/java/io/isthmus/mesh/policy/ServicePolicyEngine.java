package io.isthmus.mesh.policy;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The service policies of one load balancer, compiled for evaluation. Immutable and thread-safe;
 * compile once per config snapshot and share it across event loops.
 *
 * <p>Semantics, precisely:
 *
 * <ol>
 *   <li>The policies are taken in the order given (the order of {@code LoadBalancer.servicePolicies()}),
 *       and within each policy its rules in order. The first rule that matches the request decides:
 *       its action applies, and its rate limit if it has one. Later rules and policies are not tried.</li>
 *   <li>When no rule of any policy matches, the default action of the <em>last</em> policy applies; the
 *       default actions of the earlier policies are not used.</li>
 *   <li>With no policies at all, every request is allowed.</li>
 * </ol>
 *
 * <p>Evaluation is a pure function of the request facts (the rate limiters, which hold state, are
 * applied by the caller through {@link PolicyDecision#tryAcquire(RequestFacts)}); {@link
 * #decide(RequestFacts)} allocates nothing: decisions are computed per rule at compile time, CIDRs are
 * integer masks and regular expressions are compiled once. {@link #explain(RequestFacts)} gives the
 * same decision with a trace for users.
 *
 * <pre>{@code
 * ServicePolicyEngine engine = ServicePolicyEngine.compile(List.of(apiPolicy, defaultPolicy));
 * PolicyDecision d = engine.decide(facts);
 * System.out.println(engine.explain(facts));   // rule by rule, for meshctl explain
 * }</pre>
 *
 * <p>Each rule with a rate limit gets its own {@link RateLimiter}. To keep the buckets of unchanged
 * rules when a new snapshot is compiled, pass the previous engine to {@link
 * Builder#reuseRateLimitersOf(ServicePolicyEngine)}.
 */
public final class ServicePolicyEngine {

    private final List<ServicePolicy> policies;
    private final List<ObjectKey> missing;
    private final CompiledServiceRule[] rules;
    private final PolicyDecision defaultDecision;
    private final Map<String, RateLimiter> limiters;

    private ServicePolicyEngine(Builder b) {
        this.missing = List.copyOf(b.missing);
        // A missing policy fails closed: no rule is tried and every request is denied.
        this.policies = missing.isEmpty() ? List.copyOf(b.policies) : List.of();
        List<CompiledServiceRule> rules = new ArrayList<>();
        Map<String, RateLimiter> limiters = new HashMap<>();
        for (ServicePolicy policy : policies) {
            String source = label(policy.key());
            for (int i = 0; i < policy.rules().size(); i++) {
                PolicyRule rule = policy.rules().get(i);
                RateLimiter limiter = null;
                RateLimit limit = rule.rateLimit();
                if (limit != null) {
                    String limiterKey = source + "#" + i;
                    RateLimiter previous = b.previous == null ? null : b.previous.limiters.get(limiterKey);
                    limiter = previous != null && previous.limit().equals(limit) && previous.maxKeys() == b.maxKeys
                            ? previous
                            : RateLimiter.builder(limit).ticker(b.ticker).maxKeys(b.maxKeys).build();
                    limiters.put(limiterKey, limiter);
                }
                String reason = "rule " + i + (rule.name() == null ? "" : " (" + rule.name() + ')') + " of " + source
                        + ' ' + verb(rule.action());
                PolicyDecision decision = new PolicyDecision(rule.action(), policy.key(), i, rule.name(), reason,
                        limiter);
                rules.add(new CompiledServiceRule(source, i, rule, decision));
            }
        }
        this.rules = rules.toArray(new CompiledServiceRule[0]);
        this.limiters = Map.copyOf(limiters);
        if (!missing.isEmpty()) {
            ObjectKey first = missing.get(0);
            defaultDecision = new PolicyDecision(PolicyAction.DENY, first, -1, null, "service policy " + label(first)
                    + " named by the load balancer does not exist; every request is denied", null);
        } else if (policies.isEmpty()) {
            defaultDecision = new PolicyDecision(PolicyAction.ALLOW, null, -1, null, "no service policy allows",
                    null);
        } else {
            ServicePolicy last = policies.get(policies.size() - 1);
            defaultDecision = new PolicyDecision(last.defaultAction(), last.key(), -1, null,
                    "no rule matched; the default action of " + label(last.key()) + ' ' + verb(last.defaultAction()),
                    null);
        }
    }

    private static String label(ObjectKey key) {
        return key.qualifiedName();
    }

    private static String verb(PolicyAction action) {
        return action == PolicyAction.ALLOW ? "allows" : "denies";
    }

    /**
     * Compiles policies with rate limiters on {@link System#nanoTime()}.
     *
     * @param policies the policies of one load balancer, in evaluation order
     * @return the engine
     */
    public static ServicePolicyEngine compile(List<ServicePolicy> policies) {
        return builder(policies).build();
    }

    /**
     * Returns a builder of an engine.
     *
     * @param policies the policies of one load balancer, in evaluation order
     * @return a new builder
     */
    public static Builder builder(List<ServicePolicy> policies) {
        return new Builder(List.copyOf(requireNonNull(policies, "policies")));
    }

    /**
     * Returns a builder of the engine of a load balancer that names its policies, as in {@code
     * LoadBalancer.servicePolicies()}: each name is looked up in the load balancer's namespace. When a
     * named policy does not exist (yet, or any more) the engine fails closed: it denies every request,
     * and its decisions and explanations name the missing policy.
     *
     * @param namespace the load balancer's namespace
     * @param policyNames the names of its policies, in evaluation order
     * @param lookup finds a policy by key in the current snapshot; returns {@code null} when absent
     * @return a new builder
     */
    public static Builder builder(String namespace, List<String> policyNames,
            Function<ObjectKey, @Nullable ServicePolicy> lookup) {
        requireNonNull(namespace, "namespace");
        requireNonNull(lookup, "lookup");
        List<ServicePolicy> found = new ArrayList<>();
        List<ObjectKey> missing = new ArrayList<>();
        for (String name : requireNonNull(policyNames, "policyNames")) {
            ObjectKey key = ObjectKey.of(Kind.SERVICE_POLICY, namespace, name);
            ServicePolicy policy = lookup.apply(key);
            if (policy == null) {
                missing.add(key);
            } else {
                found.add(policy);
            }
        }
        Builder b = new Builder(List.copyOf(found));
        b.missing.addAll(missing);
        return b;
    }

    /**
     * Decides a request. Allocates nothing; thread-safe.
     *
     * @param facts the request
     * @return the decision
     */
    public PolicyDecision decide(RequestFacts facts) {
        requireNonNull(facts, "facts");
        for (CompiledServiceRule rule : rules) {
            if (rule.matches(facts)) {
                return rule.decision;
            }
        }
        return defaultDecision;
    }

    /**
     * Decides a request and says why: every rule tried, why it did or did not match, and the decision
     * (the same {@link #decide(RequestFacts)} gives). Meant for users and tools, not the hot path.
     *
     * @param facts the request
     * @return the trace
     */
    public Explanation<PolicyDecision> explain(RequestFacts facts) {
        requireNonNull(facts, "facts");
        List<Explanation.Step> steps = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        PolicyDecision decision = defaultDecision;
        for (ObjectKey key : missing) {
            notes.add("service policy " + label(key) + " does not exist");
        }
        if (policies.isEmpty() && missing.isEmpty()) {
            notes.add("the load balancer names no service policy");
        }
        for (CompiledServiceRule rule : rules) {
            List<String> held = new ArrayList<>();
            String mismatch = rule.mismatch(facts, held);
            String action = rule.rule.action().name();
            if (mismatch == null) {
                steps.add(new Explanation.Step(rule.source, rule.index, rule.rule.name(), action, true,
                        held.isEmpty() ? "no conditions (matches every request)" : String.join("; ", held)));
                decision = rule.decision;
                int left = rules.length - 1 - indexOf(rule);
                if (left > 0) {
                    notes.add(left + " later rule" + (left == 1 ? " was" : "s were") + " not tried");
                }
                break;
            }
            steps.add(new Explanation.Step(rule.source, rule.index, rule.rule.name(), action, false, mismatch));
        }
        String subject = "service policies " + policyNames() + " for " + facts;
        return new Explanation<>(subject, steps, notes, decision);
    }

    private int indexOf(CompiledServiceRule rule) {
        for (int i = 0; i < rules.length; i++) {
            if (rules[i] == rule) {
                return i;
            }
        }
        return -1;
    }

    private String policyNames() {
        List<String> names = new ArrayList<>();
        policies.forEach(p -> names.add(label(p.key())));
        return names.toString();
    }

    /** @return the policies, in evaluation order; empty when a named policy is missing */
    public List<ServicePolicy> policies() {
        return policies;
    }

    /** @return the keys of named policies that do not exist; when not empty, every request is denied */
    public List<ObjectKey> missingPolicies() {
        return missing;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ServicePolicyEngine{policies=%s, rules=%d}", policyNames(), rules.length);
    }

    /** Builds a {@link ServicePolicyEngine}. Not thread-safe. */
    public static final class Builder {

        private final List<ServicePolicy> policies;
        private final List<ObjectKey> missing = new ArrayList<>();
        private LongSupplier ticker = System::nanoTime;
        private int maxKeys = RateLimiter.DEFAULT_MAX_KEYS;
        private @Nullable ServicePolicyEngine previous;

        private Builder(List<ServicePolicy> policies) {
            this.policies = policies;
        }

        /**
         * Sets the time source of the rate limiters (default {@link System#nanoTime()}).
         *
         * @param nanoTicker returns a monotonic time in nanoseconds
         * @return this builder
         */
        public Builder ticker(LongSupplier nanoTicker) {
            this.ticker = requireNonNull(nanoTicker, "nanoTicker");
            return this;
        }

        /**
         * Sets the bound on the keys each rate limiter tracks (default {@value RateLimiter#DEFAULT_MAX_KEYS}).
         *
         * @param maxKeys 1 or more
         * @return this builder
         */
        public Builder maxRateLimitKeys(int maxKeys) {
            Preconditions.checkArgument(maxKeys > 0, "maxKeys: %s (expected: > 0)", maxKeys);
            this.maxKeys = maxKeys;
            return this;
        }

        /**
         * Keeps the rate limiter state of the previous engine for rules at the same place (policy and
         * index) with the same limit, so that a new snapshot does not hand every client a fresh burst.
         *
         * @param previous the engine compiled from the previous snapshot
         * @return this builder
         */
        public Builder reuseRateLimitersOf(ServicePolicyEngine previous) {
            this.previous = requireNonNull(previous, "previous");
            return this;
        }

        /**
         * Compiles the engine.
         *
         * @return the engine
         */
        public ServicePolicyEngine build() {
            return new ServicePolicyEngine(this);
        }
    }
}
