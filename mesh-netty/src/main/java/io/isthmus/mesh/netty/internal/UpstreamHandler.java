package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * The last handler of an upstream channel: passes response parts to the exchange the channel
 * currently serves. An idle pooled connection has no exchange; whatever arrives then is dropped.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {

    private @Nullable Exchange exchange;
    private @Nullable Runnable onIdleClose;

    void attach(Exchange exchange) {
        this.exchange = exchange;
    }

    void detach() {
        this.exchange = null;
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
        if (evt instanceof io.netty.handler.timeout.IdleStateEvent && exchange == null) {
            // An idle pooled connection: close it before the origin does so mid-request.
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
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
