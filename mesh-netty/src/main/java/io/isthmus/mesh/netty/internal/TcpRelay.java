package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Pipes the bytes of one TCP connection both ways, with back-pressure: a side stops reading while
 * the other cannot take more. One side is a socket ({@link ByteBuf}s); the other a socket too (origin
 * at this site) or an HTTP/2 stream of a tunnel ({@link Http2DataFrame}s, {@code END_STREAM} for a
 * half-close), with a channel or without one ({@link Peer}). Both sides share one event loop.
 */
final class TcpRelay {

    private TcpRelay() {}

    /** Opens a TCP connection to an origin endpoint on {@code loop}; its reads go to {@code peer}. */
    static ChannelFuture connect(OriginConnector origins, EventLoop loop, Peer peer, Endpoint endpoint) {
        return new Bootstrap()
                .group(loop)
                .channel(origins.transport.clientChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, origins.connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new SocketSide(peer))
                .connect(endpoint.host(), endpoint.port());
    }

    /** Starts reading on both sides. */
    static void start(Channel socket, Peer peer) {
        resumeReading(socket);
        peer.resumeReading();
    }

    /**
     * Reads from {@code ch} again, unless it is closed or its input has ended: asking the transport for
     * more input after the peer's FIN fails (with epoll, the socket is no longer watched for reading),
     * and that failure would close a connection that still has bytes to deliver the other way.
     */
    static void resumeReading(Channel ch) {
        if (ch.isActive() && !(ch instanceof DuplexChannel && ((DuplexChannel) ch).isInputShutdown())) {
            ch.config().setAutoRead(true);
        }
    }

    /**
     * Where the bytes a socket reads go: another socket, a tunnel stream with a channel ({@link #of}),
     * or a stream of an accepted tunnel. Used on the socket's event loop.
     */
    interface Peer {

        /** Writes bytes read from {@code source}; it goes out with the next flush, and a failure closes {@code source}. */
        void write(ByteBuf bytes, Channel source);

        /** Sends what was written. */
        void flush();

        /** Whether the peer takes more bytes without buffering them beyond its limits. */
        boolean isWritable();

        /** Reads from the peer again, once the socket can take more. */
        void resumeReading();

        /** Ends the output towards the peer after what was written: {@code END_STREAM}, or a half-close. */
        void endOutput();

        /** The socket closed: the peer ends after what was written, and then closes. */
        void finish();
    }

    /** The peer that is a channel: a socket, or a tunnel stream ({@code stream}: bytes go as DATA frames). */
    static Peer of(Channel channel, boolean stream) {
        return new Peer() {
            @Override
            public void write(ByteBuf bytes, Channel source) {
                channel.write(stream ? new DefaultHttp2DataFrame(bytes, false) : bytes).addListener(closeOnFailure(source));
            }

            @Override
            public void flush() {
                channel.flush();
            }

            @Override
            public boolean isWritable() {
                return channel.isWritable();
            }

            @Override
            public void resumeReading() {
                TcpRelay.resumeReading(channel);
            }

            @Override
            public void endOutput() {
                TcpRelay.endOutput(channel, stream);
            }

            @Override
            public void finish() {
                if (stream) {
                    // End the stream cleanly after the data still queued for it, then close it.
                    TcpRelay.endOutput(channel, true).addListener(f -> channel.close());
                } else {
                    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                }
            }
        };
    }

    /** The handler of a socket whose bytes go to {@code peer}. */
    static final class SocketSide extends ChannelInboundHandlerAdapter {

        private final Peer peer;

        SocketSide(Peer peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            peer.write((ByteBuf) msg, ctx.channel());
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                peer.resumeReading();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                peer.endOutput();
                if (ctx.channel() instanceof DuplexChannel && ((DuplexChannel) ctx.channel()).isOutputShutdown()) {
                    ctx.close();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            peer.finish();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * The handler of a tunnel stream whose DATA goes to the socket {@code peer} (set once it is
     * connected): {@code END_STREAM} half-closes the socket, a reset closes it.
     */
    static class StreamSide extends ChannelInboundHandlerAdapter {

        private @Nullable Channel peer;
        private boolean ended;
        /** DATA that arrived before the socket was connected. */
        private final java.util.ArrayDeque<Http2DataFrame> early = new java.util.ArrayDeque<>(2);
        private @Nullable ChannelHandlerContext context;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.context = ctx;
        }

        /** Connects the stream to its socket and passes on what arrived before. */
        void peer(Channel socket) {
            this.peer = socket;
            ChannelHandlerContext ctx = context;
            Http2DataFrame frame;
            while (ctx != null && (frame = early.poll()) != null) {
                channelRead(ctx, frame);
            }
            socket.flush();
        }

        /** Passes a HEADERS frame on (the CONNECT answer or request); the subclass decides. */
        void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame headers) {
            ReferenceCountUtil.release(headers);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame) {
                onHeaders(ctx, (Http2HeadersFrame) msg);
                return;
            }
            Channel p = peer;
            if (msg instanceof Http2DataFrame && p == null) {
                early.add((Http2DataFrame) msg);
                return;
            }
            if (msg instanceof Http2DataFrame && p != null) {
                Http2DataFrame data = (Http2DataFrame) msg;
                boolean end = data.isEndStream();
                if (data.content().isReadable()) {
                    p.write(data.content().retain()).addListener(closeOnFailure(ctx.channel()));
                }
                data.release();
                if (!p.isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
                if (end) {
                    ended = true;
                    endOutput(p, false);
                }
                return;
            }
            if (msg instanceof Http2ResetFrame && p != null) {
                p.close();
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Channel p = peer;
            if (p != null) {
                p.flush();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            Channel p = peer;
            if (ctx.channel().isWritable() && p != null) {
                resumeReading(p);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Http2DataFrame frame;
            while ((frame = early.poll()) != null) {
                frame.release();
            }
            Channel p = peer;
            if (p != null) {
                // After a clean END_STREAM the socket closes once its queued bytes are out.
                if (ended) {
                    p.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                } else {
                    p.close();
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private static final io.netty.util.AttributeKey<Boolean> OUTPUT_ENDED =
            io.netty.util.AttributeKey.valueOf("isthmus.tcp.outputEnded");

    /**
     * Ends the output towards {@code ch} once everything written before has gone out: {@code
     * END_STREAM} on a stream, a half-close on a socket. Returns the future of that last write.
     */
    static ChannelFuture endOutput(Channel ch, boolean stream) {
        if (ch.attr(OUTPUT_ENDED).setIfAbsent(Boolean.TRUE) != null || !ch.isActive()) {
            return ch.newSucceededFuture();
        }
        if (stream) {
            return ch.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        }
        // Shutting the output down at once would drop what is still queued: wait for it to go out.
        ChannelFuture flushed = ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        flushed.addListener(f -> {
            if (ch instanceof DuplexChannel) {
                ((DuplexChannel) ch).shutdownOutput();
            } else {
                ch.close();
            }
        });
        return flushed;
    }

    static ChannelFutureListener closeOnFailure(Channel source) {
        return f -> {
            if (!f.isSuccess()) {
                source.close();
            }
        };
    }
}
