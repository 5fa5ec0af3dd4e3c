package io.isthmus.mesh.policy;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The evaluation trace of one request or connection, for users ({@code meshctl explain}): what was
 * evaluated, each rule tried in order and why it did or did not match, and the final decision.
 * Immutable.
 *
 * <p>Example {@link #toString()}:
 *
 * <pre>
 * service policies for GET osaka-app/admin/users from site tokyo, client 10.1.2.3
 *   default/api rules[0] no-admin (DENY): no match: path /admin/users matches none of [prefix:/internal/]
 *   default/api rules[1] tokyo (ALLOW): match: source site tokyo in [tokyo]; method GET in [GET]
 * decision: ALLOW: rule 1 (tokyo) of default/api allows
 * </pre>
 *
 * @param <D> the decision type, {@link PolicyDecision} or {@link FirewallDecision}
 */
public final class Explanation<D> {

    /** One rule tried during evaluation. */
    public static final class Step {

        private final String source;
        private final int ruleIndex;
        private final @Nullable String ruleName;
        private final String action;
        private final boolean matched;
        private final String detail;

        Step(String source, int ruleIndex, @Nullable String ruleName, String action, boolean matched, String detail) {
            this.source = source;
            this.ruleIndex = ruleIndex;
            this.ruleName = ruleName;
            this.action = action;
            this.matched = matched;
            this.detail = detail;
        }

        /** @return the policy or firewall the rule belongs to, e.g. {@code default/api} */
        public String source() {
            return source;
        }

        /** @return the rule's index within its policy or firewall */
        public int ruleIndex() {
            return ruleIndex;
        }

        /** @return the rule's name, or {@code null} */
        public @Nullable String ruleName() {
            return ruleName;
        }

        /** @return the rule's action, {@code ALLOW} or {@code DENY} */
        public String action() {
            return action;
        }

        /** @return whether the rule matched */
        public boolean matched() {
            return matched;
        }

        /**
         * Returns why the rule matched (the conditions that held) or did not (the first condition that
         * failed).
         *
         * @return the detail
         */
        public String detail() {
            return detail;
        }

        @Override
        public String toString() {
            return source + " rules[" + ruleIndex + ']' + (ruleName == null ? "" : " " + ruleName) + " (" + action
                    + "): " + (matched ? "match: " : "no match: ") + detail;
        }
    }

    private final String subject;
    private final List<Step> steps;
    private final List<String> notes;
    private final D decision;

    Explanation(String subject, List<Step> steps, List<String> notes, D decision) {
        this.subject = subject;
        this.steps = List.copyOf(steps);
        this.notes = List.copyOf(notes);
        this.decision = requireNonNull(decision, "decision");
    }

    /** @return what was evaluated, e.g. {@code service policies for GET osaka-app/orders from site tokyo} */
    public String subject() {
        return subject;
    }

    /** @return the rules tried, in evaluation order, up to and including the one that decided */
    public List<Step> steps() {
        return steps;
    }

    /** @return remarks on what was evaluated, e.g. a firewall that does not apply to the listener */
    public List<String> notes() {
        return notes;
    }

    /** @return the final decision, the same as the engine's {@code decide} gives */
    public D decision() {
        return decision;
    }

    /**
     * Returns the trace as lines: the subject, notes and steps indented by two spaces, and the decision.
     *
     * @return the lines
     */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add(subject);
        notes.forEach(n -> lines.add("  note: " + n));
        steps.forEach(s -> lines.add("  " + s));
        if (steps.isEmpty()) {
            lines.add("  (no rules)");
        }
        lines.add("decision: " + decision);
        return lines;
    }

    @Override
    public String toString() {
        return String.join("\n", lines());
    }
}
