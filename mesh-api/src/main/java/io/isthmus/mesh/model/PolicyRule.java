package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import io.isthmus.mesh.internal.policy.PolicyValidation;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One rule of a {@link ServicePolicy}: an action, the conditions a request must meet for the rule to
 * match, and an optional rate limit. Immutable.
 *
 * <p>A rule matches a request when every condition it sets holds; a condition left empty holds for
 * every request. A condition with several values holds when any value matches: {@code methods: [GET,
 * HEAD]} holds for GET or HEAD. The conditions:
 *
 * <ul>
 *   <li>{@code sourceSites}: the site the request came from (the local site for requests that did not
 *       come through a tunnel);</li>
 *   <li>{@code sourceIdentities}: the SPIFFE id of the peer, e.g. {@code spiffe://mesh.example/site/tokyo};</li>
 *   <li>{@code clientCidrs}: the client's IP address, IPv4 or IPv6 blocks;</li>
 *   <li>{@code domains}: the request's host, exact ({@code api.example.com}), wildcard
 *       ({@code *.example.com}: one or more leading labels) or {@code *};</li>
 *   <li>{@code methods}: the HTTP method, compared ignoring case;</li>
 *   <li>{@code paths}: the path, see {@link PathMatch};</li>
 *   <li>{@code headers}: <em>every</em> header match must hold (unlike the other lists), see
 *       {@link HeaderMatch}.</li>
 * </ul>
 *
 * <pre>{@code
 * PolicyRule rule = PolicyRule.allow()
 *         .name("tokyo-reads")
 *         .sourceSite("tokyo")
 *         .clientCidr("10.0.0.0/8").clientCidr("2001:db8::/32")
 *         .method("GET")
 *         .path(PathMatch.prefix("/api/"))
 *         .header(HeaderMatch.present("authorization"))
 *         .rateLimit(RateLimit.of(100, Duration.ofSeconds(1)))
 *         .build();
 * }</pre>
 */
public final class PolicyRule {

    private final @Nullable String name;
    private final PolicyAction action;
    private final List<String> sourceSites;
    private final List<String> sourceIdentities;
    private final List<Cidr> clientCidrs;
    private final List<String> domains;
    private final List<String> methods;
    private final List<PathMatch> paths;
    private final List<HeaderMatch> headers;
    private final @Nullable RateLimit rateLimit;

    private PolicyRule(Builder b, String path) {
        this.name = b.name == null ? null : Validation.dnsLabel(b.name, PolicyValidation.join(path, "name"));
        this.action = b.action;
        List<String> sites = new ArrayList<>();
        for (int i = 0; i < b.sourceSites.size(); i++) {
            sites.add(Validation.dnsLabel(b.sourceSites.get(i), PolicyValidation.join(path, "sourceSites[" + i + ']')));
        }
        this.sourceSites = List.copyOf(sites);
        List<String> identities = new ArrayList<>();
        for (int i = 0; i < b.sourceIdentities.size(); i++) {
            identities.add(PolicyValidation.spiffeId(b.sourceIdentities.get(i),
                    PolicyValidation.join(path, "sourceIdentities[" + i + ']')));
        }
        this.sourceIdentities = List.copyOf(identities);
        List<Cidr> cidrs = new ArrayList<>();
        for (int i = 0; i < b.clientCidrs.size(); i++) {
            try {
                cidrs.add(Cidr.parse(b.clientCidrs.get(i)));
            } catch (ConfigValidationException e) {
                throw PolicyValidation.prefixed(PolicyValidation.join(path, "clientCidrs[" + i + ']'), e);
            }
        }
        this.clientCidrs = List.copyOf(cidrs);
        List<String> domains = new ArrayList<>();
        for (int i = 0; i < b.domains.size(); i++) {
            domains.add(Validation.domain(b.domains.get(i), PolicyValidation.join(path, "domains[" + i + ']')));
        }
        this.domains = List.copyOf(domains);
        List<String> methods = new ArrayList<>();
        for (int i = 0; i < b.methods.size(); i++) {
            methods.add(PolicyValidation.method(b.methods.get(i), PolicyValidation.join(path, "methods[" + i + ']')));
        }
        this.methods = List.copyOf(methods);
        this.paths = List.copyOf(b.paths);
        this.headers = List.copyOf(b.headers);
        if (b.rateLimit != null && action == PolicyAction.DENY) {
            throw new ConfigValidationException(PolicyValidation.join(path, "rateLimit"), b.rateLimit
                    + " (expected: no rate limit on a DENY rule; limits apply to the requests a rule allows)");
        }
        this.rateLimit = b.rateLimit;
    }

    /**
     * Returns a builder of a rule that allows the requests it matches.
     *
     * @return a new builder
     */
    public static Builder allow() {
        return new Builder(PolicyAction.ALLOW);
    }

    /**
     * Returns a builder of a rule that denies the requests it matches.
     *
     * @return a new builder
     */
    public static Builder deny() {
        return new Builder(PolicyAction.DENY);
    }

    /**
     * Returns a builder of a rule with the given action.
     *
     * @param action what the rule does with the requests it matches
     * @return a new builder
     */
    public static Builder builder(PolicyAction action) {
        return new Builder(requireNonNull(action, "action"));
    }

    /**
     * Returns the rule's name, unique within its policy, or {@code null} when it has none.
     *
     * @return the name, or {@code null}
     */
    public @Nullable String name() {
        return name;
    }

    /**
     * Returns what the rule does with the requests it matches.
     *
     * @return the action
     */
    public PolicyAction action() {
        return action;
    }

    /** @return the source sites the rule matches; empty for any */
    public List<String> sourceSites() {
        return sourceSites;
    }

    /** @return the SPIFFE ids of the peers the rule matches; empty for any */
    public List<String> sourceIdentities() {
        return sourceIdentities;
    }

    /** @return the client address blocks the rule matches; empty for any */
    public List<Cidr> clientCidrs() {
        return clientCidrs;
    }

    /** @return the domains the rule matches; empty for any */
    public List<String> domains() {
        return domains;
    }

    /** @return the HTTP methods the rule matches, in upper case; empty for any */
    public List<String> methods() {
        return methods;
    }

    /** @return the path matches, any of which must hold; empty for any path */
    public List<PathMatch> paths() {
        return paths;
    }

    /** @return the header matches, all of which must hold */
    public List<HeaderMatch> headers() {
        return headers;
    }

    /**
     * Returns the rate limit of the requests the rule allows, or {@code null} for none.
     *
     * @return the limit, or {@code null}
     */
    public @Nullable RateLimit rateLimit() {
        return rateLimit;
    }

    /**
     * Returns a builder initialised with this rule's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder(action);
        b.name = name;
        b.sourceSites.addAll(sourceSites);
        b.sourceIdentities.addAll(sourceIdentities);
        clientCidrs.forEach(c -> b.clientCidrs.add(c.toString()));
        b.domains.addAll(domains);
        b.methods.addAll(methods);
        b.paths.addAll(paths);
        b.headers.addAll(headers);
        b.rateLimit = rateLimit;
        return b;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (!(o instanceof PolicyRule)) {
            return false;
        }
        PolicyRule that = (PolicyRule) o;
        return Objects.equals(that.name, name) && that.action == action && that.sourceSites.equals(sourceSites)
                && that.sourceIdentities.equals(sourceIdentities) && that.clientCidrs.equals(clientCidrs)
                && that.domains.equals(domains) && that.methods.equals(methods) && that.paths.equals(paths)
                && that.headers.equals(headers) && Objects.equals(that.rateLimit, rateLimit);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, action, sourceSites, sourceIdentities, clientCidrs, domains, methods, paths, headers,
                rateLimit);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(action.name());
        if (name != null) {
            s.append(' ').append(name);
        }
        s.append(" when");
        int before = s.length();
        condition(s, "sourceSites", sourceSites);
        condition(s, "sourceIdentities", sourceIdentities);
        condition(s, "clientCidrs", clientCidrs);
        condition(s, "domains", domains);
        condition(s, "methods", methods);
        condition(s, "paths", paths);
        condition(s, "headers", headers);
        if (s.length() == before) {
            s.append(" always");
        }
        if (rateLimit != null) {
            s.append(", limit ").append(rateLimit);
        }
        return s.toString();
    }

    private static void condition(StringBuilder s, String field, List<?> values) {
        if (!values.isEmpty()) {
            s.append(' ').append(field).append('=').append(values);
        }
    }

    /**
     * Builds a {@link PolicyRule}; validation happens in {@link #build()}. Not thread-safe.
     */
    public static final class Builder {

        private @Nullable String name;
        private final PolicyAction action;
        private final List<String> sourceSites = new ArrayList<>();
        private final List<String> sourceIdentities = new ArrayList<>();
        private final List<String> clientCidrs = new ArrayList<>();
        private final List<String> domains = new ArrayList<>();
        private final List<String> methods = new ArrayList<>();
        private final List<PathMatch> paths = new ArrayList<>();
        private final List<HeaderMatch> headers = new ArrayList<>();
        private @Nullable RateLimit rateLimit;

        private Builder(PolicyAction action) {
            this.action = action;
        }

        /**
         * Names the rule, for decisions, logs and explanations.
         *
         * @param name a lowercase DNS label, unique within the policy
         * @return this builder
         */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /**
         * Adds a source site.
         *
         * @param site a site name
         * @return this builder
         */
        public Builder sourceSite(String site) {
            sourceSites.add(requireNonNull(site, "site"));
            return this;
        }

        /**
         * Adds a source identity.
         *
         * @param spiffeId e.g. {@code spiffe://mesh.example/site/tokyo}
         * @return this builder
         */
        public Builder sourceIdentity(String spiffeId) {
            sourceIdentities.add(requireNonNull(spiffeId, "spiffeId"));
            return this;
        }

        /**
         * Adds a client address block.
         *
         * @param cidr e.g. {@code 10.0.0.0/8} or {@code 2001:db8::/32}; a bare address is one address
         * @return this builder
         */
        public Builder clientCidr(String cidr) {
            clientCidrs.add(requireNonNull(cidr, "cidr"));
            return this;
        }

        /**
         * Adds a domain.
         *
         * @param domain a lowercase DNS name, optionally starting with {@code *.}, or {@code *}
         * @return this builder
         */
        public Builder domain(String domain) {
            domains.add(requireNonNull(domain, "domain"));
            return this;
        }

        /**
         * Adds an HTTP method.
         *
         * @param method e.g. {@code GET}; any case
         * @return this builder
         */
        public Builder method(String method) {
            methods.add(requireNonNull(method, "method"));
            return this;
        }

        /**
         * Adds a path match.
         *
         * @param path the match
         * @return this builder
         */
        public Builder path(PathMatch path) {
            paths.add(requireNonNull(path, "path"));
            return this;
        }

        /**
         * Adds a header match; every header match of a rule must hold.
         *
         * @param header the match
         * @return this builder
         */
        public Builder header(HeaderMatch header) {
            headers.add(requireNonNull(header, "header"));
            return this;
        }

        /**
         * Limits the rate of the requests the rule allows; only for ALLOW rules.
         *
         * @param rateLimit the limit
         * @return this builder
         */
        public Builder rateLimit(RateLimit rateLimit) {
            this.rateLimit = requireNonNull(rateLimit, "rateLimit");
            return this;
        }

        /**
         * Validates the values and builds the rule. Field paths in errors are relative to the rule,
         * e.g. {@code clientCidrs[0]}; a {@link ServicePolicy} that builds its rules puts them below
         * {@code servicePolicies[name].rules[i]}.
         *
         * @return the rule
         * @throws ConfigValidationException naming the first bad field
         */
        public PolicyRule build() {
            return new PolicyRule(this, "");
        }

        PolicyRule build(String path) {
            return new PolicyRule(this, path);
        }

        Builder copy() {
            Builder b = new Builder(action);
            b.name = name;
            b.sourceSites.addAll(sourceSites);
            b.sourceIdentities.addAll(sourceIdentities);
            b.clientCidrs.addAll(clientCidrs);
            b.domains.addAll(domains);
            b.methods.addAll(methods);
            b.paths.addAll(paths);
            b.headers.addAll(headers);
            b.rateLimit = rateLimit;
            return b;
        }
    }
}
