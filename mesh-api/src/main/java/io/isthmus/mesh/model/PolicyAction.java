package io.isthmus.mesh.model;

/** What a policy or firewall rule does with the traffic it matches. */
public enum PolicyAction {
    /** Let the request or connection through. */
    ALLOW,
    /** Refuse the request (HTTP 403) or the connection. */
    DENY
}
