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
 * One L3/L4 rule of a {@link NetworkFirewall}: direction, protocol, source and destination address
 * blocks, destination ports, an action and an order. Immutable.
 *
 * <p>A rule matches a connection when every condition holds; an empty list holds for any value and a
 * list with several values holds when any matches. Rules are tried by ascending {@linkplain #order()
 * order}; rules with the same order keep their place in the firewall, and firewalls with the same order
 * are taken by name.
 *
 * <pre>{@code
 * FirewallRule rule = FirewallRule.deny()
 *         .name("no-telnet").order(10)
 *         .protocol(FirewallRule.Protocol.TCP)
 *         .port("23").port("8000-8080")
 *         .sourceCidr("0.0.0.0/0").sourceCidr("::/0")
 *         .build();
 * }</pre>
 */
public final class FirewallRule {

    /** The transport protocols a rule matches. */
    public enum Protocol {
        /** TCP only. */
        TCP,
        /** UDP only. */
        UDP,
        /** Any protocol. */
        ANY
    }

    /** Which connections a rule looks at. */
    public enum Direction {
        /** Connections that clients or other sites open to this site's listeners. */
        INGRESS,
        /** Connections that this site's router opens to origins or other sites. */
        EGRESS
    }

    /** The largest {@linkplain #order() order}. */
    public static final int MAX_ORDER = 1_000_000;

    private final @Nullable String name;
    private final PolicyAction action;
    private final Direction direction;
    private final Protocol protocol;
    private final List<Cidr> sourceCidrs;
    private final List<Cidr> destinationCidrs;
    private final List<PortRange> ports;
    private final int order;

    private FirewallRule(Builder b, String path) {
        this.name = b.name == null ? null : Validation.dnsLabel(b.name, PolicyValidation.join(path, "name"));
        this.action = b.action;
        this.direction = b.direction;
        this.protocol = b.protocol;
        this.sourceCidrs = cidrs(b.sourceCidrs, PolicyValidation.join(path, "sourceCidrs"));
        this.destinationCidrs = cidrs(b.destinationCidrs, PolicyValidation.join(path, "destinationCidrs"));
        List<PortRange> ports = new ArrayList<>();
        for (int i = 0; i < b.ports.size(); i++) {
            try {
                ports.add(PortRange.parse(b.ports.get(i)));
            } catch (ConfigValidationException e) {
                throw PolicyValidation.prefixed(PolicyValidation.join(path, "ports[" + i + ']'), e);
            }
        }
        this.ports = List.copyOf(ports);
        if (b.order < 0 || b.order > MAX_ORDER) {
            throw new ConfigValidationException(PolicyValidation.join(path, "order"), b.order
                    + " (expected: 0-" + MAX_ORDER + ')');
        }
        this.order = b.order;
    }

    private static List<Cidr> cidrs(List<String> texts, String path) {
        List<Cidr> cidrs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            try {
                cidrs.add(Cidr.parse(texts.get(i)));
            } catch (ConfigValidationException e) {
                throw PolicyValidation.prefixed(path + '[' + i + ']', e);
            }
        }
        return List.copyOf(cidrs);
    }

    /**
     * Returns a builder of a rule that allows the connections it matches.
     *
     * @return a new builder
     */
    public static Builder allow() {
        return new Builder(PolicyAction.ALLOW);
    }

    /**
     * Returns a builder of a rule that refuses the connections it matches.
     *
     * @return a new builder
     */
    public static Builder deny() {
        return new Builder(PolicyAction.DENY);
    }

    /**
     * Returns a builder of a rule with the given action.
     *
     * @param action what the rule does with the connections it matches
     * @return a new builder
     */
    public static Builder builder(PolicyAction action) {
        return new Builder(requireNonNull(action, "action"));
    }

    /** @return the rule's name, unique within its firewall, or {@code null} */
    public @Nullable String name() {
        return name;
    }

    /** @return what the rule does with the connections it matches */
    public PolicyAction action() {
        return action;
    }

    /** @return the direction of the connections the rule looks at (default {@link Direction#INGRESS}) */
    public Direction direction() {
        return direction;
    }

    /** @return the protocol the rule matches (default {@link Protocol#ANY}) */
    public Protocol protocol() {
        return protocol;
    }

    /** @return the source address blocks; empty for any */
    public List<Cidr> sourceCidrs() {
        return sourceCidrs;
    }

    /** @return the destination address blocks; empty for any */
    public List<Cidr> destinationCidrs() {
        return destinationCidrs;
    }

    /** @return the destination ports; empty for any */
    public List<PortRange> ports() {
        return ports;
    }

    /** @return the order, 0 to {@link #MAX_ORDER}; lower orders are tried first (default 0) */
    public int order() {
        return order;
    }

    /**
     * Returns a builder initialised with this rule's values.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder(action).direction(direction).protocol(protocol).order(order);
        b.name = name;
        sourceCidrs.forEach(c -> b.sourceCidrs.add(c.toString()));
        destinationCidrs.forEach(c -> b.destinationCidrs.add(c.toString()));
        ports.forEach(p -> b.ports.add(p.toString()));
        return b;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        if (!(o instanceof FirewallRule)) {
            return false;
        }
        FirewallRule that = (FirewallRule) o;
        return Objects.equals(that.name, name) && that.action == action && that.direction == direction
                && that.protocol == protocol && that.sourceCidrs.equals(sourceCidrs)
                && that.destinationCidrs.equals(destinationCidrs) && that.ports.equals(ports) && that.order == order;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, action, direction, protocol, sourceCidrs, destinationCidrs, ports, order);
    }

    @Override
    public String toString() {
        return action + (name == null ? "" : " " + name) + " order " + order + ' ' + direction + ' ' + protocol
                + (sourceCidrs.isEmpty() ? "" : " from " + sourceCidrs)
                + (destinationCidrs.isEmpty() ? "" : " to " + destinationCidrs)
                + (ports.isEmpty() ? "" : " ports " + ports);
    }

    /** Builds a {@link FirewallRule}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private final PolicyAction action;
        private Direction direction = Direction.INGRESS;
        private Protocol protocol = Protocol.ANY;
        private final List<String> sourceCidrs = new ArrayList<>();
        private final List<String> destinationCidrs = new ArrayList<>();
        private final List<String> ports = new ArrayList<>();
        private int order;

        private Builder(PolicyAction action) {
            this.action = action;
        }

        /**
         * Names the rule.
         *
         * @param name a lowercase DNS label, unique within the firewall
         * @return this builder
         */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /**
         * Sets the direction (default {@link Direction#INGRESS}).
         *
         * @param direction the direction
         * @return this builder
         */
        public Builder direction(Direction direction) {
            this.direction = requireNonNull(direction, "direction");
            return this;
        }

        /**
         * Sets the protocol (default {@link Protocol#ANY}).
         *
         * @param protocol the protocol
         * @return this builder
         */
        public Builder protocol(Protocol protocol) {
            this.protocol = requireNonNull(protocol, "protocol");
            return this;
        }

        /**
         * Adds a source address block.
         *
         * @param cidr e.g. {@code 10.0.0.0/8} or {@code 2001:db8::/32}
         * @return this builder
         */
        public Builder sourceCidr(String cidr) {
            sourceCidrs.add(requireNonNull(cidr, "cidr"));
            return this;
        }

        /**
         * Adds a destination address block.
         *
         * @param cidr e.g. {@code 10.0.0.0/8} or {@code 2001:db8::/32}
         * @return this builder
         */
        public Builder destinationCidr(String cidr) {
            destinationCidrs.add(requireNonNull(cidr, "cidr"));
            return this;
        }

        /**
         * Adds a destination port or range of ports.
         *
         * @param ports e.g. {@code 443} or {@code 8000-8080}
         * @return this builder
         */
        public Builder port(String ports) {
            this.ports.add(requireNonNull(ports, "ports"));
            return this;
        }

        /**
         * Adds a destination port.
         *
         * @param port 1-65535
         * @return this builder
         */
        public Builder port(int port) {
            return port(Integer.toString(port));
        }

        /**
         * Sets the order; lower orders are tried first (default 0).
         *
         * @param order 0 to {@link #MAX_ORDER}
         * @return this builder
         */
        public Builder order(int order) {
            this.order = order;
            return this;
        }

        /**
         * Validates the values and builds the rule. Field paths in errors are relative to the rule; a
         * {@link NetworkFirewall} that builds its rules puts them below {@code networkFirewalls[name].rules[i]}.
         *
         * @return the rule
         * @throws ConfigValidationException naming the first bad field
         */
        public FirewallRule build() {
            return new FirewallRule(this, "");
        }

        FirewallRule build(String path) {
            return new FirewallRule(this, path);
        }

        Builder copy() {
            Builder b = new Builder(action).direction(direction).protocol(protocol).order(order);
            b.name = name;
            b.sourceCidrs.addAll(sourceCidrs);
            b.destinationCidrs.addAll(destinationCidrs);
            b.ports.addAll(ports);
            return b;
        }
    }
}
