package io.isthmus.mesh.model;

import java.util.Locale;

/** The kinds of mesh objects, as named in documents ({@code kind: LoadBalancer}). */
public enum Kind {
    /** A site that joins the mesh; cluster-wide, not namespaced. */
    SITE("Site", "sites", false),
    /** A load balancer: domains served at some sites, routed per request to origin pools. */
    LOAD_BALANCER("LoadBalancer", "loadBalancers", true),
    /** An origin pool: the origins of an application, at one site or several. */
    ORIGIN_POOL("OriginPool", "originPools", true),
    /** A service policy: ordered allow/deny rules for the requests of the load balancers that name it. */
    SERVICE_POLICY("ServicePolicy", "servicePolicies", true),
    /** A network firewall: L3/L4 rules attached to sites or listeners; cluster-wide, not namespaced. */
    NETWORK_FIREWALL("NetworkFirewall", "networkFirewalls", false);

    private final String kindName;
    private final String plural;
    private final boolean namespaced;

    Kind(String kindName, String plural, boolean namespaced) {
        this.kindName = kindName;
        this.plural = plural;
        this.namespaced = namespaced;
    }

    /**
     * Returns the name used in documents, e.g. {@code LoadBalancer}.
     *
     * @return the kind name
     */
    public String kindName() {
        return kindName;
    }

    /**
     * Returns the plural used in field paths and URLs, e.g. {@code loadBalancers}.
     *
     * @return the plural name
     */
    public String plural() {
        return plural;
    }

    /**
     * Returns whether objects of this kind live in a namespace.
     *
     * @return {@code true} for namespaced kinds
     */
    public boolean namespaced() {
        return namespaced;
    }

    /**
     * Parses a kind from its document name or plural, ignoring case ({@code LoadBalancer},
     * {@code loadbalancers}).
     *
     * @param name the name
     * @return the kind
     * @throws IllegalArgumentException when no kind has that name
     */
    public static Kind parse(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (Kind kind : values()) {
            if (kind.kindName.toLowerCase(Locale.ROOT).equals(lower) || kind.plural.toLowerCase(Locale.ROOT).equals(lower)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("kind: \"" + name + "\" (expected: one of Site, LoadBalancer, OriginPool, ServicePolicy, NetworkFirewall)");
    }
}
