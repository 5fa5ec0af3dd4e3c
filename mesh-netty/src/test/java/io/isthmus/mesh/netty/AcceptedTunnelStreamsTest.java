package io.isthmus.mesh.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.pki.SiteCredentials;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The streams of a tunnel connection as the receiving router serves them, seen frame by frame by a
 * peer holding a real site certificate: requests and their ends, resets from the peer, and {@code
 * CONNECT} streams it refuses, all on one connection that keeps serving.
 */
class AcceptedTunnelStreamsTest {

    private MeshFixture mesh;
    private TestOrigin origin;
    private MeshRouter osaka;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Peer peer;

    @BeforeEach
    void setUp() throws Exception {
        mesh = new MeshFixture();
        origin = new TestOrigin();
        osaka = mesh.site("osaka", b -> b.meterRegistry(registry));
        SiteCredentials tokyo = mesh.ca.issueSite("tokyo");
        mesh.store.put(io.isthmus.mesh.model.Site.builder("tokyo")
                .tunnelEndpoint(Endpoint.of("127.0.0.1", MeshFixture.closedPort())).build());
        mesh.loadBalancer("osaka-app", "tokyo", "osaka", MeshFixture.endpoint(origin.address()));
        mesh.awaitApplied(osaka);
        peer = new Peer(tokyo);
    }

    @AfterEach
    void tearDown() {
        peer.channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        mesh.close();
        origin.close();
    }

    private static Http2Headers get(String pool) {
        return new DefaultHttp2Headers().method("GET").scheme("https").path("/").authority("osaka-app")
                .add("x-isthmus-pool", pool);
    }

    @Test
    void servesSequentialStreamsOfOneConnectionOverOneOriginConnection() throws Exception {
        for (int i = 0; i < 10; i++) {
            Response response = peer.exchange(get("default/osaka-app-pool"));
            assertThat(response.status).isEqualTo("200");
            assertThat(response.body).isEqualTo("first chunk\nsecond chunk\n");
        }

        assertThat(origin.requests).hasValue(10);
        // Each stream's close is its exchange's end, not a client gone: the origin connection is reused.
        assertThat(origin.connections).hasValue(1);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                registry.find("isthmus.requests").tags("listener", "tunnel", "decision", "routed").timer())
                .extracting(Timer::count).isEqualTo(10L));
        assertThat(registry.find("isthmus.requests.failed").counters()).isEmpty();
    }

    @Test
    void aStreamResetBeforeItsResponseEndsIsCountedAsTheClientsAndTheConnectionServesTheNext() throws Exception {
        CompletableFuture<Void> second = new CompletableFuture<>();
        origin.releaseSecondChunk = second;
        Stream reset = peer.open(get("default/osaka-app-pool"), true);
        Http2HeadersFrame head = (Http2HeadersFrame) reset.next();
        assertThat(head.headers().status()).hasToString("200");
        Http2DataFrame first = (Http2DataFrame) reset.next();
        assertThat(first.content().toString(StandardCharsets.UTF_8)).isEqualTo("first chunk\n");
        first.release();

        reset.reset();

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                registry.find("isthmus.requests.failed").tags("listener", "tunnel", "reason", "client_closed")
                        .counter()).isNotNull().extracting(Counter::count).isEqualTo(1.0));
        second.complete(null);
        Response next = peer.exchange(get("default/osaka-app-pool"));
        assertThat(next.status).isEqualTo("200");
        assertThat(next.body).isEqualTo("first chunk\nsecond chunk\n");
        // The unfinished response's origin connection was closed, not reused for the next request.
        assertThat(origin.connections).hasValue(2);
    }

    @Test
    void refusesAConnectForAnUnknownTcpLoadBalancerWithTheReasonAndServesTheNextStream() throws Exception {
        Response refused = peer.exchange(new DefaultHttp2Headers().method("CONNECT").authority("db.default:5432"), false);

        assertThat(refused.status).isEqualTo("404");
        assertThat(refused.ended).isTrue();
        assertThat(refused.error).isEqualTo("404 no TCP load balancer db.default:5432 at site osaka");
        assertThat(peer.exchange(get("default/osaka-app-pool")).status).isEqualTo("200");
    }

    @Test
    void answersAStreamNamingAPoolThisSiteDoesNotHaveWith404AndTheReason() throws Exception {
        Response unknown = peer.exchange(get("default/nope"));

        assertThat(unknown.status).isEqualTo("404");
        assertThat(unknown.error).isEqualTo("404 origin pool default/nope is not configured at site osaka");
        assertThat(origin.requests).hasValue(0);
        assertThat(peer.exchange(get("default/osaka-app-pool")).status).isEqualTo("200");
    }

    /** What a stream brought back: its status, the router's reason for an error, the body, and whether it ended. */
    private record Response(String status, String error, String body, boolean ended) {}

    /** The frames of one stream the peer opened, as they arrive. */
    private static final class Stream {
        private final BlockingQueue<Http2StreamFrame> frames = new LinkedBlockingQueue<>();
        private final Channel channel;
        private Http2FrameStream stream;

        Stream(Channel channel) {
            this.channel = channel;
        }

        Http2StreamFrame next() throws InterruptedException {
            Http2StreamFrame frame = frames.poll(10, TimeUnit.SECONDS);
            assertThat(frame).as("a frame of the stream within 10 s").isNotNull();
            return frame;
        }

        void reset() {
            channel.eventLoop().submit(() -> channel.writeAndFlush(
                    new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(stream))).syncUninterruptibly();
        }

        /** Reads frames until the stream ends, with END_STREAM or a reset. */
        Response response() throws InterruptedException {
            String status = null;
            String error = null;
            StringBuilder body = new StringBuilder();
            while (true) {
                Http2StreamFrame frame = next();
                if (frame instanceof Http2ResetFrame) {
                    return new Response(status, error, body.toString(), false);
                }
                boolean end;
                if (frame instanceof Http2HeadersFrame) {
                    Http2HeadersFrame headers = (Http2HeadersFrame) frame;
                    if (status == null) {
                        status = String.valueOf(headers.headers().status());
                        CharSequence reason = headers.headers().get("x-isthmus-error");
                        error = reason == null ? null : reason.toString();
                    }
                    end = headers.isEndStream();
                } else {
                    Http2DataFrame data = (Http2DataFrame) frame;
                    body.append(data.content().toString(StandardCharsets.UTF_8));
                    end = data.isEndStream();
                    data.release();
                }
                if (end) {
                    return new Response(status, error, body.toString(), true);
                }
            }
        }
    }

    /** A tunnel peer that writes and reads frames directly, with the certificate of site tokyo. */
    private final class Peer {
        private final Channel channel;
        private final ConcurrentHashMap<Integer, Stream> streams = new ConcurrentHashMap<>();
        private Frames handler;

        Peer(SiteCredentials credentials) throws Exception {
            SslContext tls = mesh.tunnelPeerTls(SslContextBuilder.forClient()
                    .endpointIdentificationAlgorithm(null)
                    .keyManager(credentials.privateKey(), credentials.certificateChain().toArray(new X509Certificate[0])));
            channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            handler = new Frames();
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), "osaka", osaka.tunnelAddress().getPort()),
                                    Http2FrameCodecBuilder.forClient().build(), handler);
                        }
                    })
                    .connect(osaka.tunnelAddress()).sync().channel();
        }

        /** Opens a stream with the HEADERS of a request, ending the stream with them or not. */
        Stream open(Http2Headers headers, boolean endStream) {
            Stream stream = new Stream(channel);
            channel.eventLoop().submit(() -> {
                stream.stream = handler.newStream();
                channel.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream).stream(stream.stream));
                // The codec gave the stream its id as it wrote the HEADERS; the answer is read on this event loop, later.
                streams.put(stream.stream.id(), stream);
            }).syncUninterruptibly();
            return stream;
        }

        Response exchange(Http2Headers headers) throws InterruptedException {
            return exchange(headers, true);
        }

        Response exchange(Http2Headers headers, boolean endStream) throws InterruptedException {
            return open(headers, endStream).response();
        }

        private final class Frames extends Http2ChannelDuplexHandler {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2StreamFrame && ((Http2StreamFrame) msg).stream() != null) {
                    Stream stream = streams.get(((Http2StreamFrame) msg).stream().id());
                    if (stream != null) {
                        stream.frames.add((Http2StreamFrame) msg);
                        return;
                    }
                }
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
