package io.isthmus.mesh.spring;

import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.SpiffeId;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the embedded router reported so far: open tunnels, refused tunnels and the configuration in
 * use. It is the router's {@link MeshRouterListener}, read by the health indicator and the metrics.
 *
 * <pre>{@code
 * MeshRouterStatus status = new MeshRouterStatus();
 * MeshRouter router = MeshRouter.builder(credentials, store).listener(status).build().start();
 * int open = status.openTunnels();
 * }</pre>
 *
 * <p>Thread-safe: the router updates it from its event loops, anyone may read it.
 */
public final class MeshRouterStatus implements MeshRouterListener {

    private final AtomicInteger inbound = new AtomicInteger();
    private final AtomicInteger outbound = new AtomicInteger();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong appliedRevision = new AtomicLong(-1);

    /** Creates a status with no tunnels and no configuration applied yet. */
    public MeshRouterStatus() {}

    @Override
    public void tunnelEstablished(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {
        (outbound ? this.outbound : inbound).incrementAndGet();
    }

    @Override
    public void tunnelClosed(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {
        (outbound ? this.outbound : inbound).decrementAndGet();
    }

    @Override
    public void tunnelRejected(SocketAddress remoteAddress, String reason, boolean outbound) {
        rejected.incrementAndGet();
    }

    @Override
    public void configApplied(long revision) {
        appliedRevision.set(revision);
    }

    /**
     * Returns the number of open tunnels this router dialled.
     *
     * @return the count
     */
    public int outboundTunnels() {
        return outbound.get();
    }

    /**
     * Returns the number of open tunnels other routers dialled.
     *
     * @return the count
     */
    public int inboundTunnels() {
        return inbound.get();
    }

    /**
     * Returns the number of open tunnels in both directions.
     *
     * @return the count
     */
    public int openTunnels() {
        return inbound.get() + outbound.get();
    }

    /**
     * Returns how many tunnels were refused (failed handshakes, unacceptable identities).
     *
     * @return the count since start
     */
    public long rejectedTunnels() {
        return rejected.get();
    }

    /**
     * Returns the config store revision the router last applied.
     *
     * @return the revision, {@code -1} before the first configuration
     */
    public long appliedRevision() {
        return appliedRevision.get();
    }

    @Override
    public String toString() {
        return "MeshRouterStatus(inbound=" + inbound + ", outbound=" + outbound + ", rejected=" + rejected
                + ", revision=" + appliedRevision + ')';
    }
}
