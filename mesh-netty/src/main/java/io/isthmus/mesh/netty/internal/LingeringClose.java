package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection whose TLS handshake failed gracefully: the alert goes out, the write side is
 * shut down, and what the peer still sends is read and dropped for a moment before the socket
 * closes. Closing at once with unread data would make the kernel answer with a reset, and the peer
 * would often lose the alert that says why it was refused (e.g. "certificate required").
 *
 * <p>Sits first in the pipeline, in front of the {@link SslHandler}.
 */
final class LingeringClose extends ChannelDuplexHandler {

    private static final long LINGER_MILLIS = 1000;

    private boolean draining;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        Future<?> handshake = ssl == null ? null : ssl.handshakeFuture();
        if (draining || handshake == null || !handshake.isDone() || handshake.isSuccess()
                || !(ctx.channel() instanceof DuplexChannel) || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        draining = true;
        ctx.flush();
        ((DuplexChannel) ctx.channel()).shutdownOutput();
        ctx.channel().config().setAutoRead(true);
        ctx.executor().schedule(() -> {
            ctx.close(promise);
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (draining) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
