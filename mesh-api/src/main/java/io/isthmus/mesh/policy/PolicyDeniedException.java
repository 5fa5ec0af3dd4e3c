package io.isthmus.mesh.policy;

import io.isthmus.mesh.MeshException;

/**
 * A service policy or the network firewall refused a request or connection; the message names the
 * policy or firewall and the rule. Thrown on hot paths, so it carries no stack trace.
 */
public final class PolicyDeniedException extends MeshException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception without a stack trace.
     *
     * @param reason which policy or firewall and rule refused, e.g. {@code rule 0 (no-admin) of
     *     default/api denies}
     */
    public PolicyDeniedException(String reason) {
        super("denied: " + reason, null, false);
    }
}
