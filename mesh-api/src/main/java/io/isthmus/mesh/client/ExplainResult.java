package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Whether a request would be allowed, and why: the answer of {@link MeshAdmin#explain(ExplainRequest)}.
 * Immutable.
 *
 * @param allowed whether the request would be let through
 * @param policy the policy that decided, or {@code null} when none applied
 * @param rule the rule that decided, or {@code null} when none matched
 * @param reason the decision in words
 * @param trace the steps of the evaluation, one line each
 */
public record ExplainResult(boolean allowed, @Nullable String policy, @Nullable String rule, String reason,
        List<String> trace) {

    /**
     * Creates a result, copying {@code trace}.
     *
     * @param allowed whether the request would be let through
     * @param policy the deciding policy, or {@code null}
     * @param rule the deciding rule, or {@code null}
     * @param reason the decision in words
     * @param trace the steps of the evaluation
     */
    public ExplainResult {
        requireNonNull(reason, "reason");
        trace = List.copyOf(requireNonNull(trace, "trace"));
    }
}
