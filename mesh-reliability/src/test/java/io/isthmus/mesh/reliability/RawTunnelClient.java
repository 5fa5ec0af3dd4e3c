package io.isthmus.mesh.reliability;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * A hand-built tunnel client: TLS with any key and certificate chain a test chooses, ALPN
 * {@code h2}, then one HTTP/2 request carrying the mesh's pool header, exactly as a router would
 * send it. Lets tests present identities that {@code SiteCredentials} refuses to hold.
 */
final class RawTunnelClient implements AutoCloseable {

    /** What came back: a response, or the reason there was none. */
    record Outcome(int status, String body, String failure) {
        boolean answered() {
            return status > 0;
        }
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /**
     * Connects to a router's tunnel port with the given identity, sends {@code GET path} for the load
     * balancer {@code host} with {@code x-isthmus-pool: pool}, and completes with the response or the
     * reason there was none.
     */
    CompletableFuture<Outcome> request(InetSocketAddress tunnel, PrivateKey key, List<X509Certificate> chain,
            List<X509Certificate> trusted, String tlsProtocol, String host, String pool, String path) {
        SslContext tls;
        try {
            tls = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .protocols(tlsProtocol)
                    // Identity is the SPIFFE id, which the router checks; the client checks nothing by name.
                    .endpointIdentificationAlgorithm(null)
                    .keyManager(key, chain.toArray(new X509Certificate[0]))
                    .trustManager(trusted.toArray(new X509Certificate[0]))
                    .applicationProtocolConfig(new ApplicationProtocolConfig(
                            ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2))
                    .build();
        } catch (SSLException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        SslHandler ssl = tls.newHandler(ch.alloc(), "peer.invalid", tunnel.getPort());
                        ssl.handshakeFuture().addListener((Future<? super Channel> f) -> {
                            if (!f.isSuccess()) {
                                outcome.complete(new Outcome(0, "", "TLS handshake failed: " + f.cause()));
                            }
                        });
                        ch.pipeline().addLast(ssl, Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new SimpleChannelInboundHandler<Object>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                        // Streams opened by the server are ignored.
                                    }
                                }));
                    }
                });
        bootstrap.connect(tunnel).addListener((io.netty.channel.ChannelFuture connected) -> {
            if (!connected.isSuccess()) {
                outcome.complete(new Outcome(0, "", "connect failed: " + connected.cause()));
                return;
            }
            Channel ch = connected.channel();
            ch.closeFuture().addListener(f -> outcome.complete(
                    new Outcome(0, "", "connection closed by the router before a response")));
            outcome.whenComplete((o, e) -> ch.close());
            new Http2StreamChannelBootstrap(ch)
                    .handler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel stream) {
                            stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                                    new HttpObjectAggregator(1 << 20),
                                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx,
                                                FullHttpResponse response) {
                                            outcome.complete(new Outcome(response.status().code(),
                                                    response.content().toString(StandardCharsets.UTF_8), ""));
                                        }
                                    });
                        }
                    })
                    .open()
                    .addListener((Future<Http2StreamChannel> opened) -> {
                        if (!opened.isSuccess()) {
                            outcome.complete(new Outcome(0, "", "stream not opened: " + opened.cause()));
                            return;
                        }
                        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
                                HttpMethod.GET, path);
                        request.headers().set("host", host).set("x-isthmus-pool", pool);
                        opened.getNow().writeAndFlush(request);
                    });
        });
        return outcome.completeOnTimeout(new Outcome(0, "", "no response within 10 s"), 10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
