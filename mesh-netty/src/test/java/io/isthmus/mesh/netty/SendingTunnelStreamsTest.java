package io.isthmus.mesh.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The streams the sending router opens on a tunnel, seen frame by frame by a peer that stands in for
 * the remote site's router with that site's real certificate: how an exchange ends on the wire, and a
 * response head that is not valid HTTP.
 */
class SendingTunnelStreamsTest {

    private MeshFixture mesh;
    private MeshRouter tokyo;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Peer peer;

    @BeforeEach
    void setUp() throws Exception {
        mesh = new MeshFixture();
        tokyo = mesh.site("tokyo");
        peer = new Peer(mesh.ca.issueSite("osaka"));
        mesh.store.put(Site.builder("osaka").tunnelEndpoint(MeshFixture.endpoint(peer.address())).build());
        // The pool's origin is the peer's business: the router only names the pool to it.
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", Endpoint.of("127.0.0.1", MeshFixture.closedPort()));
        mesh.awaitApplied(tokyo);
    }

    @AfterEach
    void tearDown() {
        mesh.close();
        peer.channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private HttpResponse<String> get(HttpClient client, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://osaka-app" + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void endsEachFinishedExchangeWithEndStreamAloneAndNoReset() throws Exception {
        HttpClient client = MeshFixture.clientOf(tokyo);
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> response = get(client, "/n/" + i);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("from osaka /n/" + i + "\n");
        }

        assertThat(peer.connections).hasValue(1);
        assertThat(peer.requests).hasSize(10).allSatisfy(r -> assertThat(r).endsWith(" ended"));
        // A reset of a stream would have reached the peer before the next stream's HEADERS.
        assertThat(peer.resets).isEmpty();
    }

    @Test
    void answersAResponseHeadWithAMalformedStatus502AndResetsOnlyThatStream() throws Exception {
        HttpClient client = MeshFixture.clientOf(tokyo);

        HttpResponse<String> bad = get(client, "/bad-status");
        HttpResponse<String> next = get(client, "/after");

        assertThat(bad.statusCode()).isEqualTo(502);
        assertThat(bad.headers().firstValue("x-isthmus-error").orElse("")).contains("malformed");
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(next.body()).isEqualTo("from osaka /after\n");
        assertThat(peer.resets).containsExactly("stream " + peer.streamOf.get("/bad-status") + " "
                + Http2Error.PROTOCOL_ERROR.code());
        assertThat(peer.connections).hasValue(1);
    }

    /**
     * A tunnel listener with the certificate of site osaka: it answers each request on its own with
     * {@code from osaka PATH} (a status that is not a number for {@code /bad-status}), and notes each
     * request's HEADERS and every RST_STREAM as it reads them off the wire, before the frame codec
     * drops those of streams that have closed.
     */
    private final class Peer {
        final Channel channel;
        final AtomicInteger connections = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();
        final List<String> resets = new CopyOnWriteArrayList<>();
        final Map<String, Integer> streamOf = new ConcurrentHashMap<>();

        Peer(SiteCredentials credentials) throws Exception {
            SslContext tls = mesh.tunnelPeerTls(SslContextBuilder.forServer(credentials.privateKey(),
                            credentials.certificateChain().toArray(new X509Certificate[0]))
                    .clientAuth(ClientAuth.REQUIRE));
            Http2FrameLogger wire = new Http2FrameLogger(LogLevel.TRACE) {
                @Override
                public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
                    if (direction == Direction.INBOUND) {
                        resets.add("stream " + streamId + " " + errorCode);
                    }
                }
            };
            channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            connections.incrementAndGet();
                            ch.pipeline().addLast(tls.newHandler(ch.alloc()),
                                    Http2FrameCodecBuilder.forServer().frameLogger(wire).build(), new Answers());
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) channel.localAddress();
        }

        private final class Answers extends Http2ChannelDuplexHandler {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame) {
                    Http2HeadersFrame request = (Http2HeadersFrame) msg;
                    String path = String.valueOf(request.headers().path());
                    streamOf.put(path, request.stream().id());
                    requests.add(request.headers().method() + " " + path + (request.isEndStream() ? " ended" : ""));
                    Http2Headers head = new DefaultHttp2Headers(false).status(
                            path.equals("/bad-status") ? "2x0" : "200");
                    byte[] body = ("from osaka " + path + "\n").getBytes(StandardCharsets.UTF_8);
                    head.addInt("content-length", body.length);
                    ctx.write(new DefaultHttp2HeadersFrame(head, false).stream(request.stream()));
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true)
                            .stream(request.stream()));
                }
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
