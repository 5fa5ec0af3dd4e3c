package io.isthmus.mesh.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An origin on 127.0.0.1 whose behaviour tests control exactly: it counts connections and requests,
 * and answers with a chunked response whose second chunk waits for a test's signal.
 */
final class TestOrigin implements AutoCloseable {

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    /** Completed by the test to let the origin send the rest of a streamed response. */
    volatile CompletableFuture<Void> releaseSecondChunk = CompletableFuture.completedFuture(null);
    /** Completed with the first request body bytes that arrive, as soon as they arrive (before the request ends). */
    final CompletableFuture<String> firstBodyBytes = new CompletableFuture<>();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    TestOrigin() {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(new HttpServerCodec(), new Handler());
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
        private boolean keepAlive;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest) {
                requests.incrementAndGet();
                keepAlive = HttpUtil.isKeepAlive((HttpRequest) msg);
            }
            if (msg instanceof io.netty.handler.codec.http.HttpContent
                    && ((io.netty.handler.codec.http.HttpContent) msg).content().isReadable()) {
                firstBodyBytes.complete(((io.netty.handler.codec.http.HttpContent) msg).content()
                        .toString(StandardCharsets.UTF_8));
            }
            if (msg instanceof LastHttpContent) {
                DefaultHttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                HttpUtil.setTransferEncodingChunked(response, true);
                HttpUtil.setKeepAlive(response, keepAlive);
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
                ctx.write(response);
                ctx.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer("first chunk\n", StandardCharsets.UTF_8)));
                releaseSecondChunk.whenComplete((v, e) -> ctx.executor().execute(() -> {
                    ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer("second chunk\n", StandardCharsets.UTF_8)));
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                }));
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
