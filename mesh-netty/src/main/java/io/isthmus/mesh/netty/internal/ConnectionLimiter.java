package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.policy.ConnectionFacts;
import io.isthmus.mesh.policy.FirewallDecision;
import io.isthmus.mesh.policy.FirewallEngine;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits in a listener's server channel pipeline, in front of the acceptor: counts the open connections
 * of the listener, closes a new connection at once when the limit is reached or the router drains,
 * and keeps the open ones in a group so that draining can reach them.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

    private static final Logger logger = LoggerFactory.getLogger(ConnectionLimiter.class);

    private final String listener;
    private final int maxConnections;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong rejected = new AtomicLong();
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE, true);
    private final AtomicLong denied = new AtomicLong();
    private final @Nullable ConfigFollower config;
    private final @Nullable ObjectKey loadBalancer;
    private volatile boolean closed;
    private volatile java.util.function.@Nullable BiConsumer<InetSocketAddress, String> onDenied;

    ConnectionLimiter(String listener, int maxConnections) {
        this(listener, maxConnections, null, null);
    }

    /**
     * @param config when set, every accepted connection is first decided by the network firewall that
     *     applies at the site, and closed at once when it is denied
     * @param loadBalancer the TCP load balancer this listener serves, for firewalls limited to listeners
     */
    ConnectionLimiter(String listener, int maxConnections, @Nullable ConfigFollower config,
            @Nullable ObjectKey loadBalancer) {
        this.listener = listener;
        this.maxConnections = maxConnections;
        this.config = config;
        this.loadBalancer = loadBalancer;
    }

    /** Whether the site's network firewall admits a connection; logs and counts a denial. */
    private boolean admitted(Channel child) {
        ConfigFollower c = config;
        if (c == null || !(child.remoteAddress() instanceof InetSocketAddress)
                || !(child.localAddress() instanceof InetSocketAddress)) {
            return true;
        }
        FirewallEngine firewall = c.current().firewall();
        if (firewall.firewalls().isEmpty()) {
            return true;
        }
        InetSocketAddress remote = (InetSocketAddress) child.remoteAddress();
        InetSocketAddress local = (InetSocketAddress) child.localAddress();
        ConnectionFacts.Builder facts = ConnectionFacts.builder(remote.getAddress(), local.getPort())
                .destinationIp(local.getAddress());
        if (loadBalancer != null) {
            facts.listener(loadBalancer);
        }
        FirewallDecision decision = firewall.decide(facts.build());
        if (decision.allowed()) {
            return true;
        }
        denied.incrementAndGet();
        rejected.incrementAndGet();
        logger.debug("{} listener: connection from {} denied: {}", listener, remote, decision.reason());
        java.util.function.BiConsumer<InetSocketAddress, String> hook = onDenied;
        if (hook != null) {
            hook.accept(remote, decision.reason());
        }
        return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        if (!admitted(child)) {
            child.unsafe().closeForcibly();
            return;
        }
        if (closed || open.incrementAndGet() > maxConnections) {
            if (!closed) {
                open.decrementAndGet();
            }
            long count = rejected.incrementAndGet();
            if (count == 1 || count % 1000 == 0) {
                logger.warn("{} listener: connection from {} refused ({}; {} refused so far)", listener,
                        child.remoteAddress(), closed ? "draining" : "limit of " + maxConnections + " reached", count);
            }
            // Not registered yet: close the socket directly, as the acceptor does on failure.
            child.unsafe().closeForcibly();
            return;
        }
        child.closeFuture().addListener(f -> open.decrementAndGet());
        channels.add(child);
        ctx.fireChannelRead(child);
    }

    /** Sets what runs, with the client's address and the reason, when the firewall denies a connection. */
    void onDenied(java.util.function.BiConsumer<InetSocketAddress, String> hook) {
        this.onDenied = hook;
    }

    /** From now on every new connection is closed at accept. */
    void close() {
        closed = true;
    }

    /** @return the connections open now */
    int open() {
        return open.get();
    }

    /** @return the connections closed at accept because of the limit, draining or the firewall */
    long rejected() {
        return rejected.get();
    }

    /** @return the connections closed at accept because the network firewall denied them */
    long denied() {
        return denied.get();
    }

    /** @return the open connections of this listener */
    ChannelGroup channels() {
        return channels;
    }
}
