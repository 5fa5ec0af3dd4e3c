package io.isthmus.mesh.policy;

import io.isthmus.mesh.model.HeaderMatch;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyRule;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** One service policy rule, compiled: arrays, integer CIDRs and precompiled regexes; no allocation to match. */
final class CompiledServiceRule {

    final String source;
    final int index;
    final PolicyRule rule;
    final PolicyDecision decision;
    private final String[] sites;
    private final String[] identities;
    private final CidrSet cidrs;
    private final boolean domainsSet;
    private final boolean anyDomain;
    private final String[] exactDomains;
    private final String[] wildcardSuffixes;
    private final String[] methods;
    private final PathMatch[] paths;
    private final @Nullable CompiledRegex[] pathRegexes;
    private final HeaderMatch[] headers;
    private final @Nullable CompiledRegex[] headerRegexes;

    CompiledServiceRule(String source, int index, PolicyRule rule, PolicyDecision decision) {
        this.source = source;
        this.index = index;
        this.rule = rule;
        this.decision = decision;
        this.sites = rule.sourceSites().toArray(new String[0]);
        this.identities = rule.sourceIdentities().toArray(new String[0]);
        this.cidrs = new CidrSet(rule.clientCidrs());
        this.domainsSet = !rule.domains().isEmpty();
        this.anyDomain = rule.domains().contains("*");
        this.exactDomains = rule.domains().stream().filter(d -> !d.startsWith("*")).toArray(String[]::new);
        // "*.example.com" matches one or more labels before ".example.com".
        this.wildcardSuffixes = rule.domains().stream().filter(d -> d.startsWith("*."))
                .map(d -> d.substring(1)).toArray(String[]::new);
        this.methods = rule.methods().toArray(new String[0]);
        this.paths = rule.paths().toArray(new PathMatch[0]);
        this.pathRegexes = new CompiledRegex[paths.length];
        for (int i = 0; i < paths.length; i++) {
            pathRegexes[i] = paths[i].type() == PathMatch.Type.REGEX ? new CompiledRegex(paths[i].value()) : null;
        }
        this.headers = rule.headers().toArray(new HeaderMatch[0]);
        this.headerRegexes = new CompiledRegex[headers.length];
        for (int i = 0; i < headers.length; i++) {
            String value = headers[i].value();
            headerRegexes[i] = headers[i].type() == HeaderMatch.Type.REGEX && value != null
                    ? new CompiledRegex(value) : null;
        }
    }

    boolean matches(RequestFacts facts) {
        return methodMatches(facts) && siteMatches(facts) && identityMatches(facts) && domainMatches(facts)
                && cidrMatches(facts) && pathMatches(facts) && headersMatch(facts);
    }

    private boolean methodMatches(RequestFacts facts) {
        return methods.length == 0 || contains(methods, facts.method());
    }

    private boolean siteMatches(RequestFacts facts) {
        return sites.length == 0 || contains(sites, facts.sourceSite());
    }

    private boolean identityMatches(RequestFacts facts) {
        return identities.length == 0 || contains(identities, facts.sourceIdentity());
    }

    private boolean cidrMatches(RequestFacts facts) {
        return cidrs.isEmpty() || cidrs.contains(facts.clientBits);
    }

    private boolean domainMatches(RequestFacts facts) {
        if (!domainsSet || anyDomain) {
            return true;
        }
        String host = facts.host();
        if (contains(exactDomains, host)) {
            return true;
        }
        for (String suffix : wildcardSuffixes) {
            if (host.length() > suffix.length() && host.endsWith(suffix)) {
                return true;
            }
        }
        return false;
    }

    private boolean pathMatches(RequestFacts facts) {
        if (paths.length == 0) {
            return true;
        }
        String path = facts.path();
        for (int i = 0; i < paths.length; i++) {
            PathMatch p = paths[i];
            CompiledRegex regex = pathRegexes[i];
            boolean matches;
            switch (p.type()) {
                case EXACT:
                    matches = path.equals(p.value());
                    break;
                case PREFIX:
                    matches = path.startsWith(p.value());
                    break;
                default:
                    matches = regex != null && regex.matches(path);
                    break;
            }
            if (matches) {
                return true;
            }
        }
        return false;
    }

    private boolean headersMatch(RequestFacts facts) {
        for (int i = 0; i < headers.length; i++) {
            if (!headerMatches(i, facts.header(headers[i].name()))) {
                return false;
            }
        }
        return true;
    }

    private boolean headerMatches(int index, List<String> values) {
        HeaderMatch h = headers[index];
        boolean plain;
        if (h.type() == HeaderMatch.Type.PRESENT) {
            plain = !values.isEmpty();
        } else {
            plain = false;
            CompiledRegex regex = headerRegexes[index];
            for (int v = 0; v < values.size() && !plain; v++) {
                String value = values.get(v);
                plain = regex == null ? value.equals(h.value()) : regex.matches(value);
            }
        }
        return plain != h.invert();
    }

    private static boolean contains(String[] values, @Nullable String value) {
        if (value == null) {
            return false;
        }
        for (String v : values) {
            if (v.equals(value)) {
                return true;
            }
        }
        return false;
    }

    /** Returns null when the rule matches, or why it does not; fills {@code held} with the conditions that held. */
    @Nullable String mismatch(RequestFacts facts, List<String> held) {
        if (methods.length > 0) {
            if (!methodMatches(facts)) {
                return "method " + facts.method() + " not in " + rule.methods();
            }
            held.add("method " + facts.method() + " in " + rule.methods());
        }
        if (sites.length > 0) {
            if (!siteMatches(facts)) {
                return "source site " + (facts.sourceSite() == null ? "(unknown)" : facts.sourceSite()) + " not in "
                        + rule.sourceSites();
            }
            held.add("source site " + facts.sourceSite() + " in " + rule.sourceSites());
        }
        if (identities.length > 0) {
            if (!identityMatches(facts)) {
                return "source identity " + (facts.sourceIdentity() == null ? "(none)" : facts.sourceIdentity())
                        + " not in " + rule.sourceIdentities();
            }
            held.add("source identity " + facts.sourceIdentity() + " in " + rule.sourceIdentities());
        }
        if (domainsSet) {
            if (!domainMatches(facts)) {
                return "host " + facts.host() + " matches none of " + rule.domains();
            }
            held.add("host " + facts.host() + " matches " + rule.domains());
        }
        if (!cidrs.isEmpty()) {
            String ip = facts.clientIp() == null ? "(unknown)" : facts.clientIp().getHostAddress();
            if (!cidrMatches(facts)) {
                return "client " + ip + " in none of " + rule.clientCidrs();
            }
            held.add("client " + ip + " in " + rule.clientCidrs());
        }
        if (paths.length > 0) {
            if (!pathMatches(facts)) {
                return "path " + facts.path() + " matches none of " + rule.paths();
            }
            held.add("path " + facts.path() + " matches " + rule.paths());
        }
        for (int i = 0; i < headers.length; i++) {
            HeaderMatch h = headers[i];
            List<String> values = facts.header(h.name());
            String seen = values.isEmpty() ? "absent" : "values " + values;
            if (!headerMatches(i, values)) {
                return "header " + h + " fails (" + h.name() + ' ' + seen + ')';
            }
            held.add("header " + h + " holds");
        }
        return null;
    }
}
