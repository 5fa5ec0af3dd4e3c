package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The first handler of an HTTP/2 stream channel on the ingress: holds what the stream receives until
 * the read batch of the connection that opened it is over, then adds the handlers that serve the
 * stream behind itself, lets what it held through and steps aside.
 *
 * <p>Why: a rapid-reset flood (CVE-2023-44487) sends HEADERS followed at once by RST_STREAM, hundreds
 * per TCP read. Routing each stream and acquiring an upstream for it (an origin connection, a tunnel
 * stream) before its reset is seen costs the event loop, and the origin, far more than the stream
 * itself, and delays every other connection sharing that loop. A stream reset within the batch that
 * opened it is closed before the batch ends and is dropped here without any of that work; a stream
 * that survives the batch proceeds one batch later, which costs a well-behaved client nothing (the
 * batch is a single pass of the event loop). The stream's other handlers are only created then, so a
 * reset stream does not build its pipeline either.
 *
 * <p>Runs on the event loop of the stream's connection; one instance per stream.
 */
final class StreamStartGate extends ChannelInboundHandlerAdapter {

    /** Messages held until the batch ends; {@code null} once the gate is open or the stream is gone. */
    private @Nullable ArrayDeque<Object> held = new ArrayDeque<>(2);
    private final Supplier<ChannelHandler[]> handlers;

    /** @param handlers creates the handlers that serve the stream once it survived its first batch */
    StreamStartGate(Supplier<ChannelHandler[]> handlers) {
        this.handlers = handlers;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ArrayDeque<Object> queue = held;
        if (queue == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        queue.add(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ArrayDeque<Object> queue = held;
        if (queue != null && open(ctx.channel())) {
            held = null;
            ctx.pipeline().addLast(handlers.get());
            Object msg;
            while ((msg = queue.poll()) != null) {
                ctx.fireChannelRead(msg);
            }
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        drop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        drop();
    }

    /**
     * Whether a stream may proceed: it was not reset, and its connection was not closed in the same
     * batch (a connection error such as too many resets closes the connection before its streams).
     */
    private static boolean open(Channel stream) {
        Channel connection = stream.parent();
        return stream.isActive() && (connection == null || connection.isActive());
    }

    /** Whether the stream's messages still wait for the end of the read batch that opened it. */
    boolean holding() {
        return held != null;
    }

    private void drop() {
        ArrayDeque<Object> queue = held;
        if (queue != null) {
            held = null;
            Object msg;
            while ((msg = queue.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
