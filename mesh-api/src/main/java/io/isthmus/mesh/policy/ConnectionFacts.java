package io.isthmus.mesh.policy;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.internal.Preconditions;
import io.isthmus.mesh.model.FirewallRule;
import io.isthmus.mesh.model.ObjectKey;
import java.net.InetAddress;
import org.jspecify.annotations.Nullable;

/**
 * What a network firewall looks at in one connection: source and destination addresses, destination
 * port, protocol, direction, and the load balancer whose listener took it. Immutable and thread-safe.
 *
 * <pre>{@code
 * ConnectionFacts facts = ConnectionFacts.builder(InetAddress.getByName("203.0.113.9"), 8443)
 *         .protocol(FirewallRule.Protocol.TCP)
 *         .listener(lb.key())
 *         .build();
 * }</pre>
 */
public final class ConnectionFacts {

    private final InetAddress sourceIp;
    final IpBits sourceBits;
    private final @Nullable InetAddress destinationIp;
    final IpBits destinationBits;
    private final int destinationPort;
    private final FirewallRule.Protocol protocol;
    private final FirewallRule.Direction direction;
    private final @Nullable ObjectKey listener;

    private ConnectionFacts(Builder b) {
        this.sourceIp = b.sourceIp;
        this.sourceBits = IpBits.of(b.sourceIp);
        this.destinationIp = b.destinationIp;
        this.destinationBits = IpBits.of(b.destinationIp);
        this.destinationPort = b.destinationPort;
        this.protocol = b.protocol;
        this.direction = b.direction;
        this.listener = b.listener;
    }

    /**
     * Returns a builder of an inbound TCP connection.
     *
     * @param sourceIp the address of the peer that opened the connection
     * @param destinationPort the local port it connected to, 1-65535
     * @return a new builder
     */
    public static Builder builder(InetAddress sourceIp, int destinationPort) {
        Preconditions.checkArgument(destinationPort >= 1 && destinationPort <= 65535,
                "destinationPort: %s (expected: 1-65535)", destinationPort);
        return new Builder(requireNonNull(sourceIp, "sourceIp"), destinationPort);
    }

    /** @return the address of the side that opened the connection */
    public InetAddress sourceIp() {
        return sourceIp;
    }

    /** @return the destination address, or {@code null} when unknown */
    public @Nullable InetAddress destinationIp() {
        return destinationIp;
    }

    /** @return the destination port */
    public int destinationPort() {
        return destinationPort;
    }

    /** @return the protocol, {@link FirewallRule.Protocol#TCP} or {@link FirewallRule.Protocol#UDP} */
    public FirewallRule.Protocol protocol() {
        return protocol;
    }

    /** @return the direction */
    public FirewallRule.Direction direction() {
        return direction;
    }

    /** @return the load balancer whose listener took the connection, or {@code null} */
    public @Nullable ObjectKey listener() {
        return listener;
    }

    @Override
    public String toString() {
        return direction + " " + protocol + " " + sourceIp.getHostAddress() + " -> "
                + (destinationIp == null ? "" : destinationIp.getHostAddress()) + ':' + destinationPort
                + (listener == null ? "" : " on listener " + listener.qualifiedName());
    }

    /** Builds {@link ConnectionFacts}. Not thread-safe. */
    public static final class Builder {

        private final InetAddress sourceIp;
        private final int destinationPort;
        private @Nullable InetAddress destinationIp;
        private FirewallRule.Protocol protocol = FirewallRule.Protocol.TCP;
        private FirewallRule.Direction direction = FirewallRule.Direction.INGRESS;
        private @Nullable ObjectKey listener;

        private Builder(InetAddress sourceIp, int destinationPort) {
            this.sourceIp = sourceIp;
            this.destinationPort = destinationPort;
        }

        /**
         * Sets the destination address.
         *
         * @param address the address
         * @return this builder
         */
        public Builder destinationIp(InetAddress address) {
            this.destinationIp = requireNonNull(address, "address");
            return this;
        }

        /**
         * Sets the protocol (default TCP).
         *
         * @param protocol {@link FirewallRule.Protocol#TCP} or {@link FirewallRule.Protocol#UDP}
         * @return this builder
         */
        public Builder protocol(FirewallRule.Protocol protocol) {
            Preconditions.checkArgument(requireNonNull(protocol, "protocol") != FirewallRule.Protocol.ANY,
                    "protocol: %s (expected: TCP or UDP; a connection has one protocol)", protocol);
            this.protocol = protocol;
            return this;
        }

        /**
         * Sets the direction (default INGRESS).
         *
         * @param direction the direction
         * @return this builder
         */
        public Builder direction(FirewallRule.Direction direction) {
            this.direction = requireNonNull(direction, "direction");
            return this;
        }

        /**
         * Sets the load balancer whose listener took the connection.
         *
         * @param loadBalancer the load balancer's key
         * @return this builder
         */
        public Builder listener(ObjectKey loadBalancer) {
            this.listener = requireNonNull(loadBalancer, "loadBalancer");
            return this;
        }

        /**
         * Builds the facts.
         *
         * @return the facts
         */
        public ConnectionFacts build() {
            return new ConnectionFacts(this);
        }
    }
}
