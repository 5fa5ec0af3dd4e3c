package io.isthmus.mesh.reliability;

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
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * An origin on 127.0.0.1 that counts every request head it receives (even one whose body never
 * completes), records each complete request, and answers {@code 200} with a body that names a marker.
 */
final class CountingOrigin implements AutoCloseable {

    /** One complete request as the origin received it. */
    record Received(String method, String uri, String headers, String body) {}

    /** Connections accepted. */
    final AtomicInteger connections = new AtomicInteger();
    /** Request heads received, complete or not. */
    final AtomicInteger requestHeads = new AtomicInteger();
    final List<Received> received = new CopyOnWriteArrayList<>();
    /** The response body; tests put a marker in it. */
    volatile String responseBody = "hello from the origin\n";

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    CountingOrigin() {
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

    /** Requests whose path starts with the prefix. */
    long requestsTo(String pathPrefix) {
        return received.stream().filter(r -> r.uri().startsWith(pathPrefix)).count();
    }

    private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
        private @Nullable HttpRequest request;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest) {
                requestHeads.incrementAndGet();
                request = (HttpRequest) msg;
                body.reset();
            }
            if (msg instanceof HttpContent) {
                HttpContent content = (HttpContent) msg;
                if (content.decoderResult().isFailure()) {
                    ctx.close();
                    return;
                }
                byte[] bytes = new byte[content.content().readableBytes()];
                content.content().getBytes(content.content().readerIndex(), bytes);
                body.writeBytes(bytes);
            }
            if (msg instanceof LastHttpContent && request != null) {
                received.add(new Received(request.method().name(), request.uri(), request.headers().toString(),
                        body.toString(StandardCharsets.UTF_8)));
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.copiedBuffer(responseBody, StandardCharsets.UTF_8));
                response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
                HttpUtil.setContentLength(response, response.content().readableBytes());
                HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
                ctx.writeAndFlush(response);
                request = null;
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
