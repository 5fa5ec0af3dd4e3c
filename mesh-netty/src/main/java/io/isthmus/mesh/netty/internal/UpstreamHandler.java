package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of a pooled origin connection, and the connection's {@link UpstreamLink}: passes
 * response parts to the exchange the connection currently serves. An idle connection has no
 * exchange; whatever arrives then is dropped.
 *
 * <p>With an idle timeout, a connection that stays without an exchange that long is closed, before
 * the origin closes it under a request. The check costs nothing per request: detaching notes the
 * time, and one timer per connection, scheduled when it first goes idle, looks at that time when it
 * fires and schedules itself again for what is left (or for a whole period while the connection is
 * busy).
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter implements UpstreamLink {

    private final long idleTimeoutNanos;
    private final OriginSlots slots;
    private @Nullable String endpoint;
    private @Nullable Exchange exchange;
    private @Nullable ChannelHandlerContext ctx;
    /** When the connection last went idle ({@link System#nanoTime}). */
    private long idleSince;
    private io.netty.util.concurrent.@Nullable ScheduledFuture<?> idleTimer;

    /**
     * @param idleTimeoutMillis how long the connection may stay idle in its pool; 0 for no limit
     * @param slots the pool the connection returns to when released
     */
    UpstreamHandler(long idleTimeoutMillis, OriginSlots slots) {
        this.idleTimeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
        this.slots = slots;
    }

    @Override
    public void attach(Exchange exchange) {
        this.exchange = exchange;
    }

    /** The connection; the handler is added before the connection is handed out. */
    Channel channel() {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            throw new IllegalStateException("the handler is not in a pipeline yet");
        }
        return c.channel();
    }

    @Override
    public void write(HttpObject part) {
        // Write failures reach exceptionCaught, which ends the exchange.
        Channel ch = channel();
        ch.write(part, ch.voidPromise());
    }

    @Override
    public void flush() {
        channel().flush();
    }

    @Override
    public boolean isWritable() {
        return channel().isWritable();
    }

    @Override
    public boolean isActive() {
        return channel().isActive();
    }

    @Override
    public void readResponse(boolean read) {
        channel().config().setAutoRead(read);
    }

    @Override
    public void release(boolean reusable) {
        detach();
        channel().config().setAutoRead(true);
        slots.release(this, reusable);
    }

    @Override
    public String endpoint() {
        String e = endpoint;
        if (e == null) {
            e = Upstream.endpoint(channel().remoteAddress());
            endpoint = e;
        }
        return e;
    }

    private void detach() {
        this.exchange = null;
        ChannelHandlerContext c = ctx;
        if (idleTimeoutNanos > 0 && c != null) {
            idleSince = System.nanoTime();
            if (idleTimer == null) {
                scheduleIdleCheck(c, idleTimeoutNanos);
            }
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // A new connection is idle until its first exchange attaches.
        if (exchange == null) {
            detach();
        }
        ctx.fireChannelActive();
    }

    private void scheduleIdleCheck(ChannelHandlerContext c, long delayNanos) {
        idleTimer = c.executor().schedule(() -> checkIdle(c), delayNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void checkIdle(ChannelHandlerContext c) {
        idleTimer = null;
        if (!c.channel().isActive()) {
            return;
        }
        if (exchange != null) {
            scheduleIdleCheck(c, idleTimeoutNanos);
            return;
        }
        long left = idleSince + idleTimeoutNanos - System.nanoTime();
        if (left > 0) {
            scheduleIdleCheck(c, left);
            return;
        }
        // An idle pooled connection: close it before the origin does so mid-request.
        c.close();
    }

    private void cancelIdleTimer() {
        io.netty.util.concurrent.ScheduledFuture<?> timer = idleTimer;
        if (timer != null) {
            timer.cancel(false);
            idleTimer = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Exchange e = exchange;
        if (e != null && msg instanceof HttpObject) {
            e.onResponsePart((HttpObject) msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null) {
            e.flushDownstream();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null) {
            e.onUpstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelIdleTimer();
        Exchange e = exchange;
        if (e != null) {
            e.onUpstreamClosed(null);
        } else {
            // An idle connection that closes leaves its pool.
            slots.idle.remove(this);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Exchange e = exchange;
        if (e != null) {
            e.onUpstreamClosed(cause);
        }
        ctx.close();
    }
}
