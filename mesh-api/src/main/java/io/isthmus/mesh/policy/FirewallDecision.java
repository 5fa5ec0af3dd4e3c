package io.isthmus.mesh.policy;

import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PolicyAction;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of evaluating the network firewalls for one connection: allow or deny, which firewall and
 * rule decided (or that a default applied) and a short reason. Immutable; computed once per rule when a
 * {@link FirewallEngine} is compiled, so deciding allocates nothing.
 */
public final class FirewallDecision {

    private final PolicyAction action;
    private final @Nullable ObjectKey firewall;
    private final int ruleIndex;
    private final @Nullable String ruleName;
    private final String reason;
    private final @Nullable PolicyDeniedException denial;

    FirewallDecision(PolicyAction action, @Nullable ObjectKey firewall, int ruleIndex, @Nullable String ruleName,
            String reason) {
        this.action = action;
        this.firewall = firewall;
        this.ruleIndex = ruleIndex;
        this.ruleName = ruleName;
        this.reason = reason;
        this.denial = action == PolicyAction.DENY ? new PolicyDeniedException(reason) : null;
    }

    /** @return {@code true} when the connection may proceed */
    public boolean allowed() {
        return action == PolicyAction.ALLOW;
    }

    /** @return the action taken */
    public PolicyAction action() {
        return action;
    }

    /** @return the firewall that decided, or {@code null} when no firewall applies */
    public @Nullable ObjectKey firewall() {
        return firewall;
    }

    /** @return the index of the deciding rule within its firewall, or -1 when a default decided */
    public int ruleIndex() {
        return ruleIndex;
    }

    /** @return the name of the deciding rule, or {@code null} */
    public @Nullable String ruleName() {
        return ruleName;
    }

    /** @return {@code true} when no rule matched and a default action decided */
    public boolean isDefault() {
        return ruleIndex < 0;
    }

    /** @return a short reason, e.g. {@code rule 2 (no-telnet) of firewall edge denies} */
    public String reason() {
        return reason;
    }

    /**
     * Returns the exception that reports this denial: shared, without a stack trace.
     *
     * @return the exception, or {@code null} for a decision that allows
     */
    public @Nullable PolicyDeniedException denial() {
        return denial;
    }

    @Override
    public String toString() {
        return action + ": " + reason;
    }
}
