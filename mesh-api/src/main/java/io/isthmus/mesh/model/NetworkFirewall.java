package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A network firewall: L3/L4 rules for the connections of some sites or of some load balancers'
 * listeners, and a default action. Cluster-wide, not namespaced: a firewall is infrastructure that
 * mesh operators attach to sites (by name or by label selector), like the {@link Site}s themselves;
 * load balancers are named {@code namespace/name} (or {@code name} in the {@value
 * MeshObject#DEFAULT_NAMESPACE} namespace). Immutable.
 *
 * <p>Attachment: a firewall applies at a site when the site is in {@link #sites()} or carries every
 * label of {@link #siteSelector()}; with neither set it applies at every site. When {@link
 * #listeners()} is set it only applies to the connections of those load balancers' listeners. At
 * least one of the three must be set, so that no firewall covers the whole mesh by accident.
 *
 * <p>Evaluation (see {@link io.isthmus.mesh.policy.FirewallEngine}): the rules of every firewall
 * that applies are tried by ascending order, and the first that matches decides; when none matches,
 * the connection is denied if any applicable firewall's default action is DENY, and allowed otherwise.
 *
 * <pre>{@code
 * NetworkFirewall fw = NetworkFirewall.builder("edge")
 *         .siteSelector("tier", "edge")
 *         .rule(FirewallRule.allow().name("office").sourceCidr("192.168.0.0/16").port("8000-8080"))
 *         .rule(FirewallRule.deny().name("rest").order(100))
 *         .build();
 * }</pre>
 */
public final class NetworkFirewall implements MeshObject {

    private final ObjectKey key;
    private final List<FirewallRule> rules;
    private final PolicyAction defaultAction;
    private final List<String> sites;
    private final Map<String, String> siteSelector;
    private final List<ObjectKey> listeners;

    private NetworkFirewall(Builder b) {
        String path = MeshObject.pathOf(Kind.NETWORK_FIREWALL, b.name);
        this.key = ObjectKey.of(Kind.NETWORK_FIREWALL, Validation.dnsLabel(b.name, path + ".name"));
        List<String> sites = new ArrayList<>();
        for (int i = 0; i < b.sites.size(); i++) {
            sites.add(Validation.dnsLabel(b.sites.get(i), path + ".sites[" + i + ']'));
        }
        this.sites = List.copyOf(sites);
        Map<String, String> selector = new LinkedHashMap<>();
        b.siteSelector.forEach((k, v) -> {
            if (k.isEmpty() || k.length() > 63) {
                throw new ConfigValidationException(path + ".siteSelector", Validation.quote(k)
                        + " (expected: a label key of 1-63 characters)");
            }
            selector.put(k, v);
        });
        this.siteSelector = Collections.unmodifiableMap(selector);
        List<ObjectKey> listeners = new ArrayList<>();
        for (int i = 0; i < b.listeners.size(); i++) {
            listeners.add(listener(b.listeners.get(i), path + ".listeners[" + i + ']'));
        }
        this.listeners = List.copyOf(listeners);
        if (sites.isEmpty() && selector.isEmpty() && listeners.isEmpty()) {
            throw new ConfigValidationException(path, "attached to nothing (expected: at least one of sites, "
                    + "siteSelector or listeners)");
        }
        List<FirewallRule> rules = new ArrayList<>(b.rules.size());
        Map<String, Integer> names = new HashMap<>();
        for (int i = 0; i < b.rules.size(); i++) {
            String rulePath = path + ".rules[" + i + ']';
            FirewallRule rule = b.rules.get(i).build(rulePath);
            if (rule.name() != null) {
                Integer previous = names.putIfAbsent(rule.name(), i);
                if (previous != null) {
                    throw new ConfigValidationException(rulePath + ".name", Validation.quote(rule.name())
                            + " (expected: a name unique within the firewall; rules[" + previous + "] has it)");
                }
            }
            rules.add(rule);
        }
        this.rules = List.copyOf(rules);
        this.defaultAction = b.defaultAction;
    }

    private static ObjectKey listener(String ref, String path) {
        int slash = ref.indexOf('/');
        if (slash != ref.lastIndexOf('/')) {
            throw new ConfigValidationException(path, Validation.quote(ref)
                    + " (expected: a load balancer as name or namespace/name)");
        }
        try {
            return slash < 0
                    ? ObjectKey.of(Kind.LOAD_BALANCER, DEFAULT_NAMESPACE, Validation.dnsLabel(ref, path))
                    : ObjectKey.of(Kind.LOAD_BALANCER, Validation.dnsLabel(ref.substring(0, slash), path),
                            Validation.dnsLabel(ref.substring(slash + 1), path));
        } catch (ConfigValidationException e) {
            throw new ConfigValidationException(path, Validation.quote(ref)
                    + " (expected: a load balancer as name or namespace/name, each a lowercase DNS label)");
        }
    }

    /**
     * Returns a builder for a firewall.
     *
     * @param name the firewall's name, a lowercase DNS label
     * @return a new builder
     */
    public static Builder builder(String name) {
        return new Builder().name(name);
    }

    @Override
    public ObjectKey key() {
        return key;
    }

    /** @return the rules, in the order they were given (evaluation sorts them by order) */
    public List<FirewallRule> rules() {
        return rules;
    }

    /** @return what happens to a connection no rule matches (default {@link PolicyAction#ALLOW}) */
    public PolicyAction defaultAction() {
        return defaultAction;
    }

    /** @return the sites the firewall is attached to by name */
    public List<String> sites() {
        return sites;
    }

    /** @return the labels a site must all carry for the firewall to apply there */
    public Map<String, String> siteSelector() {
        return siteSelector;
    }

    /** @return the load balancers whose listeners the firewall is limited to; empty for all listeners */
    public List<ObjectKey> listeners() {
        return listeners;
    }

    /**
     * Returns whether the firewall applies at a site (for some or all of its listeners).
     *
     * @param site the site
     * @return {@code true} when the site is named, selected, or neither sites nor a selector are set
     */
    public boolean appliesTo(Site site) {
        requireNonNull(site, "site");
        if (sites.isEmpty() && siteSelector.isEmpty()) {
            return true;
        }
        if (sites.contains(site.name())) {
            return true;
        }
        return !siteSelector.isEmpty() && siteSelector.entrySet().stream()
                .allMatch(e -> e.getValue().equals(site.labels().get(e.getKey())));
    }

    /**
     * Returns a builder initialised with this firewall's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder().name(name()).defaultAction(defaultAction);
        rules.forEach(b::rule);
        sites.forEach(b::site);
        siteSelector.forEach(b::siteSelector);
        listeners.forEach(l -> b.listener(l.qualifiedName()));
        return b;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (!(o instanceof NetworkFirewall)) {
            return false;
        }
        NetworkFirewall that = (NetworkFirewall) o;
        return that.key.equals(key) && that.rules.equals(rules) && that.defaultAction == defaultAction
                && that.sites.equals(sites) && that.siteSelector.equals(siteSelector) && that.listeners.equals(listeners);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(key, rules, defaultAction, sites, siteSelector, listeners);
    }

    @Override
    public String toString() {
        return "NetworkFirewall{" + name() + ", sites=" + sites + ", siteSelector=" + siteSelector + ", listeners="
                + listeners + ", rules=" + rules + ", defaultAction=" + defaultAction + '}';
    }

    /** Builds a {@link NetworkFirewall}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private final List<FirewallRule.Builder> rules = new ArrayList<>();
        private PolicyAction defaultAction = PolicyAction.ALLOW;
        private final List<String> sites = new ArrayList<>();
        private final Map<String, String> siteSelector = new LinkedHashMap<>();
        private final List<String> listeners = new ArrayList<>();

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
         * Adds a rule.
         *
         * @param rule the rule
         * @return this builder
         */
        public Builder rule(FirewallRule rule) {
            rules.add(requireNonNull(rule, "rule").toBuilder());
            return this;
        }

        /**
         * Adds a rule, built (and validated, with field paths below {@code networkFirewalls[name].rules[i]})
         * when the firewall is built. Later changes to the rule's builder are not seen.
         *
         * @param rule the rule's builder
         * @return this builder
         */
        public Builder rule(FirewallRule.Builder rule) {
            rules.add(requireNonNull(rule, "rule").copy());
            return this;
        }

        /**
         * Sets what happens to a connection no rule matches (default {@link PolicyAction#ALLOW}, so that a
         * firewall attached to a whole site does not cut its tunnels by accident).
         *
         * @param action the default action
         * @return this builder
         */
        public Builder defaultAction(PolicyAction action) {
            this.defaultAction = requireNonNull(action, "action");
            return this;
        }

        /**
         * Attaches the firewall to a site.
         *
         * @param site a site name
         * @return this builder
         */
        public Builder site(String site) {
            sites.add(requireNonNull(site, "site"));
            return this;
        }

        /**
         * Adds a label that a site must carry for the firewall to apply there.
         *
         * @param key the label key
         * @param value the label value
         * @return this builder
         */
        public Builder siteSelector(String key, String value) {
            siteSelector.put(requireNonNull(key, "key"), requireNonNull(value, "value"));
            return this;
        }

        /**
         * Limits the firewall to the listener of a load balancer.
         *
         * @param loadBalancer {@code name} (in the default namespace) or {@code namespace/name}
         * @return this builder
         */
        public Builder listener(String loadBalancer) {
            listeners.add(requireNonNull(loadBalancer, "loadBalancer"));
            return this;
        }

        /**
         * Validates the values and builds the firewall.
         *
         * @return the firewall
         * @throws ConfigValidationException naming the first bad field
         */
        public NetworkFirewall build() {
            return new NetworkFirewall(this);
        }
    }
}
