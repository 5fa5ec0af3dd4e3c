package io.isthmus.mesh.policy;

import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.RateLimit;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of evaluating service policies for one request: allow or deny, which policy and rule
 * decided (or that a default applied), a short reason, and the rate limit to apply. Immutable.
 *
 * <p>Decisions are computed once per rule when a {@link ServicePolicyEngine} is compiled and shared by
 * every request that rule decides, so evaluation allocates nothing; the per-request part of a rate limit,
 * its key, comes from {@link #rateLimitKey(RequestFacts)}.
 *
 * <pre>{@code
 * PolicyDecision d = engine.decide(facts);
 * if (!d.allowed()) {
 *     respond(403, d.reason());
 * } else if (!d.tryAcquire(facts)) {
 *     respond(429, d.reason());
 * }
 * }</pre>
 */
public final class PolicyDecision {

    private static final Object WHOLE_RULE = new Object() {
        @Override
        public String toString() {
            return "rule";
        }
    };

    private final PolicyAction action;
    private final @Nullable ObjectKey policy;
    private final int ruleIndex;
    private final @Nullable String ruleName;
    private final String reason;
    private final @Nullable RateLimiter rateLimiter;
    private final @Nullable PolicyDeniedException denial;

    PolicyDecision(PolicyAction action, @Nullable ObjectKey policy, int ruleIndex, @Nullable String ruleName,
            String reason, @Nullable RateLimiter rateLimiter) {
        this.action = action;
        this.policy = policy;
        this.ruleIndex = ruleIndex;
        this.ruleName = ruleName;
        this.reason = reason;
        this.rateLimiter = rateLimiter;
        this.denial = action == PolicyAction.DENY ? new PolicyDeniedException(reason) : null;
    }

    /** @return {@code true} when the request may proceed (before any rate limit) */
    public boolean allowed() {
        return action == PolicyAction.ALLOW;
    }

    /** @return the action taken */
    public PolicyAction action() {
        return action;
    }

    /** @return the policy that decided, or {@code null} when the load balancer has no service policy */
    public @Nullable ObjectKey policy() {
        return policy;
    }

    /** @return the index of the deciding rule within its policy, or -1 when a default action decided */
    public int ruleIndex() {
        return ruleIndex;
    }

    /** @return the name of the deciding rule, or {@code null} when it has none or a default decided */
    public @Nullable String ruleName() {
        return ruleName;
    }

    /** @return {@code true} when no rule matched and a default action decided */
    public boolean isDefault() {
        return ruleIndex < 0;
    }

    /**
     * Returns a short reason for logs and responses, e.g. {@code rule 1 (tokyo) of default/allow-tokyo
     * allows}.
     *
     * @return the reason
     */
    public String reason() {
        return reason;
    }

    /** @return the rate limit of the deciding rule, or {@code null} when none applies */
    public @Nullable RateLimit rateLimit() {
        RateLimiter limiter = rateLimiter;
        return limiter == null ? null : limiter.limit();
    }

    /**
     * Returns the limiter of the deciding rule, shared by every request the rule decides, or {@code null}
     * when none applies.
     *
     * @return the limiter, or {@code null}
     */
    public @Nullable RateLimiter rateLimiter() {
        return rateLimiter;
    }

    /**
     * Returns what a request is counted by under this decision's rate limit: its client address, its
     * source site, or one key for the whole rule. A missing address or site counts as one shared key.
     *
     * @param facts the request
     * @return the key; never {@code null}
     */
    public Object rateLimitKey(RequestFacts facts) {
        RateLimiter limiter = rateLimiter;
        if (limiter == null) {
            return WHOLE_RULE;
        }
        switch (limiter.limit().key()) {
            case SOURCE_IP:
                Object ip = facts.clientIp();
                return ip == null ? WHOLE_RULE : ip;
            case SOURCE_SITE:
                String site = facts.sourceSite();
                return site == null ? "" : site;
            default:
                return WHOLE_RULE;
        }
    }

    /**
     * Takes a token for a request from the deciding rule's rate limiter.
     *
     * @param facts the request
     * @return {@code true} when there is no rate limit or the request is within it
     */
    public boolean tryAcquire(RequestFacts facts) {
        RateLimiter limiter = rateLimiter;
        return limiter == null || limiter.tryAcquire(rateLimitKey(facts));
    }

    /**
     * Returns the exception that reports this denial: shared, without a stack trace, so cheap to throw
     * on the hot path.
     *
     * @return the exception, or {@code null} for a decision that allows
     */
    public @Nullable PolicyDeniedException denial() {
        return denial;
    }

    @Override
    public String toString() {
        RateLimit limit = rateLimit();
        return action + ": " + reason + (limit == null ? "" : "; rate limit " + limit);
    }
}
