package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of an upstream channel: passes response parts to the exchange the channel
 * currently serves. An idle pooled connection has no exchange; whatever arrives then is dropped.
 *
 * <p>With an idle timeout, a connection that stays without an exchange that long is closed, before
 * the origin closes it under a request. The check costs nothing per request: detaching notes the
 * time, and one timer per connection, scheduled when it first goes idle, looks at that time when it
 * fires and schedules itself again for what is left (or for a whole period while the connection is
 * busy).
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {

    private final long idleTimeoutNanos;
    private @Nullable Exchange exchange;
    private @Nullable Runnable onIdleClose;
    private @Nullable ChannelHandlerContext ctx;
    /** When the connection last went idle ({@link System#nanoTime}). */
    private long idleSince;
    private io.netty.util.concurrent.@Nullable ScheduledFuture<?> idleTimer;

    /** An upstream channel without idle timeout (a tunnel stream, which carries one exchange). */
    UpstreamHandler() {
        this(0);
    }

    /** @param idleTimeoutMillis how long the connection may stay idle in its pool; 0 for no limit */
    UpstreamHandler(long idleTimeoutMillis) {
        this.idleTimeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
    }

    void attach(Exchange exchange) {
        this.exchange = exchange;
    }

    void detach() {
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

    /** Called when an idle (unattached) connection closes, so its pool forgets it. */
    void onIdleClose(Runnable action) {
        this.onIdleClose = action;
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
        } else if (onIdleClose != null) {
            onIdleClose.run();
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
