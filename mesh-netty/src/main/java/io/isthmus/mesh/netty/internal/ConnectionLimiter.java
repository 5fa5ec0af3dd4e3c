package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
    private volatile boolean closed;

    ConnectionLimiter(String listener, int maxConnections) {
        this.listener = listener;
        this.maxConnections = maxConnections;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
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

    /** From now on every new connection is closed at accept. */
    void close() {
        closed = true;
    }

    /** @return the connections open now */
    int open() {
        return open.get();
    }

    /** @return the connections closed at accept because of the limit or draining */
    long rejected() {
        return rejected.get();
    }

    /** @return the open connections of this listener */
    ChannelGroup channels() {
        return channels;
    }
}
