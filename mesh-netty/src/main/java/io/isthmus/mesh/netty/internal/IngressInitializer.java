package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import java.util.Collection;

/**
 * The pipeline of an application connection on the ingress port: HTTP/1.1 with strict parsing, or
 * HTTP/2 in cleartext (h2c) with prior knowledge or through {@code Upgrade: h2c}, then the router. The
 * same pipeline serves the dedicated port of HTTP load balancers, which routes among their Hosts only.
 */
final class IngressInitializer extends ChannelInitializer<Channel> {

    /** The largest body of an {@code Upgrade: h2c} request (it is read whole before switching). */
    static final int MAX_UPGRADE_BODY = 1 << 20;
    /** RST_STREAM frames a client may send per window before the connection is closed (CVE-2023-44487). */
    static final int MAX_RST_FRAMES = 200;
    static final int RST_WINDOW_SECONDS = 30;

    private final RouterContext router;
    private final OriginConnector origins;
    private final TunnelClient tunnels;
    /** The dedicated load balancer port this listener serves, or 0 for the shared ingress port. */
    private final int dedicatedPort;

    IngressInitializer(RouterContext router, OriginConnector origins, TunnelClient tunnels) {
        this(router, origins, tunnels, 0);
    }

    /** @param dedicatedPort the HTTP load balancers' port this listener serves; 0 for the shared port */
    IngressInitializer(RouterContext router, OriginConnector origins, TunnelClient tunnels, int dedicatedPort) {
        this.router = router;
        this.origins = origins;
        this.tunnels = tunnels;
        this.dedicatedPort = dedicatedPort;
    }

    /** The strict HTTP/1.1 request parsing every listener of the router uses. */
    static HttpDecoderConfig decoderConfig(RouterSettings settings) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(settings.maxInitialLineLength)
                .setMaxHeaderSize(settings.maxHeaderSize)
                .setValidateHeaders(true)
                .setTrailersFactory(Headers.TRAILERS)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true);
    }

    /** HTTP/2 settings and abuse limits shared by the h2c ingress and the tunnel server. */
    static Http2FrameCodec serverCodec(RouterSettings settings, int initialWindow, long gracefulShutdownMillis) {
        return serverCodecBuilder(settings, initialWindow, gracefulShutdownMillis).build();
    }

    private static Http2FrameCodecBuilder serverCodecBuilder(RouterSettings settings, int initialWindow,
            long gracefulShutdownMillis) {
        return FrameCodecBuilder.accepting()
                .initialSettings(Http2Settings.defaultSettings()
                        .initialWindowSize(initialWindow)
                        .maxConcurrentStreams(settings.maxConcurrentStreams)
                        .maxHeaderListSize(settings.maxHeaderSize))
                .decoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES, RST_WINDOW_SECONDS)
                .gracefulShutdownTimeoutMillis(gracefulShutdownMillis)
                .autoAckPingFrame(true)
                .validateHeaders(true)
                .headerSensitivityDetector(NOT_INDEXED);
    }

    /**
     * Header fields HPACK sends as literals never indexed: values unique to one request (indexing them
     * only churns the dynamic table) and secrets (RFC 7541 section 7.1.3).
     */
    static final io.netty.handler.codec.http2.Http2HeadersEncoder.SensitivityDetector NOT_INDEXED =
            new io.netty.handler.codec.http2.Http2HeadersEncoder.SensitivityDetector() {
                private final AsciiString[] names = {
                        AsciiString.cached("x-request-id"), AsciiString.cached("traceparent"),
                        AsciiString.cached("tracestate"), AsciiString.cached("authorization"),
                        AsciiString.cached("cookie"), AsciiString.cached("set-cookie")};
                /** Bit n set when one of the names has n characters: most fields are passed over on their length. */
                private final long lengths = lengthsOf(names);

                @Override
                public boolean isSensitive(CharSequence name, CharSequence value) {
                    int length = name.length();
                    if (length >= Long.SIZE || (lengths & 1L << length) == 0) {
                        return false;
                    }
                    for (AsciiString candidate : names) {
                        if (candidate.length() == length && candidate.contentEqualsIgnoreCase(name)) {
                            return true;
                        }
                    }
                    return false;
                }

                private long lengthsOf(AsciiString[] all) {
                    long bits = 0;
                    for (AsciiString n : all) {
                        bits |= 1L << n.length();
                    }
                    return bits;
                }
            };

    @Override
    protected void initChannel(Channel ch) {
        HttpServerCodec codec = new HttpServerCodec(decoderConfig(router.settings));
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                        ? new H2cUpgradeCodec(newHttp2Codec())
                        : null, MAX_UPGRADE_BODY);
        ch.pipeline().addLast(
                new ObsFoldGuard(),
                new CleartextHttp2ServerUpgradeHandler(codec, upgrade, new PriorKnowledge()),
                new IngressHandler(router, origins, tunnels, false, dedicatedPort));
    }

    /**
     * The HTTP/2 codec of an application connection: the tunnel server's settings and limits, plus
     * the end of connections whose client resets streams before their response ({@link
     * PrematureResetGuard}; tunnels, whose client is a router, do without). The server's SETTINGS go
     * out with the first flush (at the latest at the end of the read that switched to HTTP/2, or after
     * the 101 response of an upgrade), together with the SETTINGS ack: one write instead of two.
     */
    private Http2FrameCodec newHttp2Codec() {
        PrematureResetGuard resets = new PrematureResetGuard();
        Http2FrameCodec codec = serverCodecBuilder(router.settings, Http2CodecUtil.DEFAULT_WINDOW_SIZE,
                router.drainMillis()).frameLogger(resets).flushPreface(false).build();
        resets.watch(codec.connection());
        return codec;
    }

    private Http2MultiplexHandler newMultiplexer() {
        ChannelInitializer<Http2StreamChannel> streams = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                        new IngressHandler(router, origins, tunnels, true, dedicatedPort));
            }
        };
        return new Http2MultiplexHandler(streams, streams);
    }

    /** Replaces the HTTP/1.1 router with HTTP/2 once a connection starts with the HTTP/2 preface. */
    private final class PriorKnowledge extends ChannelHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.pipeline().remove(IngressHandler.class);
            ctx.pipeline().remove(ObsFoldGuard.class);
            ctx.pipeline().addAfter(ctx.name(), "h2-codec", newHttp2Codec());
            ctx.pipeline().addAfter("h2-codec", "h2-streams", new StreamOpeningBatch());
            ctx.pipeline().addAfter("h2-streams", null, newMultiplexer());
            ctx.pipeline().addLast(new ErrorSink());
            ctx.pipeline().remove(this);
        }
    }

    /** Switches to HTTP/2 after {@code Upgrade: h2c}; the upgrading request becomes stream 1. */
    private final class H2cUpgradeCodec implements HttpServerUpgradeHandler.UpgradeCodec {

        private final Http2ServerUpgradeCodec delegate;

        H2cUpgradeCodec(Http2FrameCodec codec) {
            this.delegate = new Http2ServerUpgradeCodec(codec, new StreamOpeningBatch(), newMultiplexer());
        }

        @Override
        public Collection<CharSequence> requiredUpgradeHeaders() {
            return delegate.requiredUpgradeHeaders();
        }

        @Override
        public boolean prepareUpgradeResponse(ChannelHandlerContext ctx, FullHttpRequest request,
                HttpHeaders headers) {
            return delegate.prepareUpgradeResponse(ctx, request, headers);
        }

        @Override
        public void upgradeTo(ChannelHandlerContext ctx, FullHttpRequest request) {
            ctx.pipeline().remove(IngressHandler.class);
            if (ctx.pipeline().get(ObsFoldGuard.class) != null) {
                ctx.pipeline().remove(ObsFoldGuard.class);
            }
            delegate.upgradeTo(ctx, request);
            ctx.pipeline().addLast(new ErrorSink());
        }
    }

    /**
     * The end of an HTTP/2 connection's pipeline: protocol errors were already answered with GOAWAY or
     * RST_STREAM by the codec, which also closes the connection when needed; they are logged at debug
     * level. A connection error that closes the connection at once also stops reading from it: the
     * codec ignores whatever else the peer sent, so the rest of a flood is not even read (and the read
     * loop does not run into the closed socket).
     */
    static final class ErrorSink extends io.netty.channel.ChannelInboundHandlerAdapter {
        private static final org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger(ErrorSink.class);

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Http2Exception http2 = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
            if (http2 != null && http2.shutdownHint() == Http2Exception.ShutdownHint.HARD_SHUTDOWN) {
                ctx.channel().config().setAutoRead(false);
            }
            logger.debug("HTTP/2 connection {}: {}", ctx.channel(), cause.toString());
        }
    }
}
