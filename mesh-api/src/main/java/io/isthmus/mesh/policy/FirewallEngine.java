package io.isthmus.mesh.policy;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.NetworkFirewall;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PortRange;
import io.isthmus.mesh.model.Site;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The network firewalls of one site, compiled for evaluation. Immutable and thread-safe; compile once
 * per config snapshot and share it.
 *
 * <p>Semantics, precisely:
 *
 * <ol>
 *   <li>Only the firewalls that {@linkplain NetworkFirewall#appliesTo(Site) apply at the site} are
 *       compiled; a firewall limited to {@linkplain NetworkFirewall#listeners() listeners} applies only
 *       to connections whose {@link ConnectionFacts#listener()} is one of them.</li>
 *   <li>The rules of the applicable firewalls are tried by ascending {@link FirewallRule#order()}; rules
 *       with the same order are taken by firewall name, then by their place in the firewall. The first
 *       rule that matches decides.</li>
 *   <li>When no rule matches, the connection is denied if the default action of any firewall that
 *       applies to it is DENY (the first such firewall by name is reported), and allowed otherwise.</li>
 *   <li>When no firewall applies, every connection is allowed.</li>
 * </ol>
 *
 * <pre>{@code
 * FirewallEngine firewall = FirewallEngine.compile(snapshotFirewalls, localSite);
 * FirewallDecision d = firewall.decide(ConnectionFacts.builder(remoteAddress, 8443).build());
 * if (!d.allowed()) {
 *     channel.close();
 * }
 * }</pre>
 */
public final class FirewallEngine {

    private final String site;
    private final List<NetworkFirewall> firewalls;
    private final ObjectKey[][] firewallListeners;
    private final Rule[] rules;
    private final FirewallDecision[] defaultDenials;
    private final FirewallDecision defaultAllow;

    private FirewallEngine(List<NetworkFirewall> all, Site site) {
        this.site = site.name();
        List<NetworkFirewall> applicable = new ArrayList<>();
        for (NetworkFirewall fw : all) {
            if (fw.appliesTo(site)) {
                applicable.add(fw);
            }
        }
        applicable.sort(Comparator.comparing(NetworkFirewall::name));
        this.firewalls = List.copyOf(applicable);
        this.firewallListeners = new ObjectKey[firewalls.size()][];
        this.defaultDenials = new FirewallDecision[firewalls.size()];
        List<Rule> rules = new ArrayList<>();
        for (int f = 0; f < firewalls.size(); f++) {
            NetworkFirewall fw = firewalls.get(f);
            firewallListeners[f] = fw.listeners().toArray(new ObjectKey[0]);
            for (int i = 0; i < fw.rules().size(); i++) {
                FirewallRule rule = fw.rules().get(i);
                String reason = "rule " + i + (rule.name() == null ? "" : " (" + rule.name() + ')') + " of firewall "
                        + fw.name() + ' ' + verb(rule.action());
                rules.add(new Rule(f, fw, i, rule, firewallListeners[f],
                        new FirewallDecision(rule.action(), fw.key(), i, rule.name(), reason)));
            }
            defaultDenials[f] = fw.defaultAction() == PolicyAction.DENY
                    ? new FirewallDecision(PolicyAction.DENY, fw.key(), -1, null,
                            "no rule matched; the default action of firewall " + fw.name() + " denies")
                    : null;
        }
        // A stable sort: equal orders keep firewall-name, then rule, order.
        rules.sort(Comparator.comparingInt(r -> r.rule.order()));
        this.rules = rules.toArray(new Rule[0]);
        this.defaultAllow = new FirewallDecision(PolicyAction.ALLOW, null, -1, null, firewalls.isEmpty()
                ? "no network firewall applies at site " + this.site + "; allowed"
                : "no rule matched; no applicable firewall's default action denies");
    }

    private static String verb(PolicyAction action) {
        return action == PolicyAction.ALLOW ? "allows" : "denies";
    }

    /**
     * Compiles the firewalls that apply at a site.
     *
     * @param firewalls every firewall of a snapshot; those that do not apply at the site are left out
     * @param site the local site, with its labels
     * @return the engine
     */
    public static FirewallEngine compile(List<NetworkFirewall> firewalls, Site site) {
        return new FirewallEngine(List.copyOf(requireNonNull(firewalls, "firewalls")), requireNonNull(site, "site"));
    }

    /**
     * Decides a connection. Allocates nothing; thread-safe.
     *
     * @param facts the connection
     * @return the decision
     */
    public FirewallDecision decide(ConnectionFacts facts) {
        requireNonNull(facts, "facts");
        for (Rule rule : rules) {
            if (rule.matches(facts)) {
                return rule.decision;
            }
        }
        return defaultDecision(facts);
    }

    private FirewallDecision defaultDecision(ConnectionFacts facts) {
        for (int f = 0; f < defaultDenials.length; f++) {
            FirewallDecision denial = defaultDenials[f];
            if (denial != null && appliesToListener(firewallListeners[f], facts.listener())) {
                return denial;
            }
        }
        return defaultAllow;
    }

    static boolean appliesToListener(ObjectKey[] listeners, @Nullable ObjectKey listener) {
        if (listeners.length == 0) {
            return true;
        }
        if (listener == null) {
            return false;
        }
        for (ObjectKey l : listeners) {
            if (l.equals(listener)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Decides a connection and says why: every rule tried in order, why it did or did not match, and
     * the decision (the same {@link #decide(ConnectionFacts)} gives).
     *
     * @param facts the connection
     * @return the trace
     */
    public Explanation<FirewallDecision> explain(ConnectionFacts facts) {
        requireNonNull(facts, "facts");
        List<Explanation.Step> steps = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (firewalls.isEmpty()) {
            notes.add("no network firewall applies at site " + site);
        }
        for (int f = 0; f < firewalls.size(); f++) {
            if (!appliesToListener(firewallListeners[f], facts.listener())) {
                notes.add("firewall " + firewalls.get(f).name() + " is limited to listeners " + names(firewallListeners[f])
                        + "; its rules and default are skipped");
            }
        }
        FirewallDecision decision = null;
        for (int r = 0; r < rules.length; r++) {
            Rule rule = rules[r];
            if (!appliesToListener(rule.listeners, facts.listener())) {
                continue;
            }
            String mismatch = rule.mismatch(facts);
            String source = "firewall " + rule.firewall.name() + " (order " + rule.rule.order() + ')';
            steps.add(new Explanation.Step(source, rule.index, rule.rule.name(), rule.rule.action().name(),
                    mismatch == null, mismatch == null ? rule.describe() : mismatch));
            if (mismatch == null) {
                decision = rule.decision;
                break;
            }
        }
        if (decision == null) {
            decision = defaultDecision(facts);
        }
        return new Explanation<>("network firewalls at site " + site + " for " + facts, steps, notes, decision);
    }

    private static String names(ObjectKey[] keys) {
        List<String> names = new ArrayList<>();
        for (ObjectKey k : keys) {
            names.add(k.qualifiedName());
        }
        return names.toString();
    }

    /** @return the firewalls that apply at the site, by name */
    public List<NetworkFirewall> firewalls() {
        return firewalls;
    }

    @Override
    public String toString() {
        return "FirewallEngine{site=" + site + ", firewalls=" + firewalls.size() + ", rules=" + rules.length + '}';
    }

    /** One firewall rule, compiled. */
    private static final class Rule {

        final NetworkFirewall firewall;
        final int index;
        final FirewallRule rule;
        final ObjectKey[] listeners;
        final FirewallDecision decision;
        private final CidrSet sources;
        private final CidrSet destinations;
        private final int[] portFirst;
        private final int[] portLast;

        Rule(int firewallIndex, NetworkFirewall firewall, int index, FirewallRule rule, ObjectKey[] listeners,
                FirewallDecision decision) {
            this.firewall = firewall;
            this.index = index;
            this.rule = rule;
            this.listeners = listeners;
            this.decision = decision;
            this.sources = new CidrSet(rule.sourceCidrs());
            this.destinations = new CidrSet(rule.destinationCidrs());
            this.portFirst = rule.ports().stream().mapToInt(PortRange::first).toArray();
            this.portLast = rule.ports().stream().mapToInt(PortRange::last).toArray();
        }

        boolean matches(ConnectionFacts facts) {
            return appliesToListener(listeners, facts.listener()) && rule.direction() == facts.direction()
                    && (rule.protocol() == FirewallRule.Protocol.ANY || rule.protocol() == facts.protocol())
                    && portMatches(facts.destinationPort())
                    && (sources.isEmpty() || sources.contains(facts.sourceBits))
                    && (destinations.isEmpty() || destinations.contains(facts.destinationBits));
        }

        private boolean portMatches(int port) {
            if (portFirst.length == 0) {
                return true;
            }
            for (int i = 0; i < portFirst.length; i++) {
                if (port >= portFirst[i] && port <= portLast[i]) {
                    return true;
                }
            }
            return false;
        }

        @Nullable String mismatch(ConnectionFacts facts) {
            if (rule.direction() != facts.direction()) {
                return "direction " + facts.direction() + " is not " + rule.direction();
            }
            if (rule.protocol() != FirewallRule.Protocol.ANY && rule.protocol() != facts.protocol()) {
                return "protocol " + facts.protocol() + " is not " + rule.protocol();
            }
            if (!portMatches(facts.destinationPort())) {
                return "port " + facts.destinationPort() + " in none of " + rule.ports();
            }
            if (!sources.isEmpty() && !sources.contains(facts.sourceBits)) {
                return "source " + facts.sourceIp().getHostAddress() + " in none of " + rule.sourceCidrs();
            }
            if (!destinations.isEmpty() && !destinations.contains(facts.destinationBits)) {
                InetAddress destination = facts.destinationIp();
                return "destination " + (destination == null ? "(unknown)" : destination.getHostAddress())
                        + " in none of " + rule.destinationCidrs();
            }
            return null;
        }

        String describe() {
            return rule.direction() + " " + rule.protocol()
                    + (rule.ports().isEmpty() ? ", any port" : ", port in " + rule.ports())
                    + (rule.sourceCidrs().isEmpty() ? "" : ", source in " + rule.sourceCidrs())
                    + (rule.destinationCidrs().isEmpty() ? "" : ", destination in " + rule.destinationCidrs());
        }
    }
}
