package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SpiffeId;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sets up an accepted tunnel connection: TLS 1.3 with a required client certificate from the mesh
 * trust bundle, then an identity check (a SPIFFE id of this trust domain naming a known site) before
 * a single HTTP/2 frame is read.
 */
final class TunnelAcceptor extends ChannelInitializer<Channel> {

    private static final Logger logger = LoggerFactory.getLogger(TunnelAcceptor.class);

    private final RouterContext router;
    private final OriginConnector origins;

    TunnelAcceptor(RouterContext router, OriginConnector origins) {
        this.router = router;
        this.origins = origins;
    }

    @Override
    protected void initChannel(Channel ch) {
        SslHandler ssl = router.tunnelServerTls.newHandler(ch.alloc());
        ssl.setHandshakeTimeoutMillis(router.connectTimeoutMillis);
        ch.pipeline().addLast(new LingeringClose(), ssl, new Negotiation());
    }

    private final class Negotiation extends ApplicationProtocolNegotiationHandler {

        Negotiation() {
            super("");
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            SpiffeId peer;
            try {
                peer = PeerIdentity.of(ctx.pipeline().get(SslHandler.class), router.trustDomain);
                if (router.config.current().site(peer.site()) == null) {
                    throw new MeshIdentityException("peer " + peer + " names site " + peer.site()
                            + ", which is not a site of this mesh");
                }
                if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                    throw new MeshIdentityException("peer negotiated ALPN \"" + protocol + "\" (expected: h2)");
                }
            } catch (MeshIdentityException e) {
                refuse(ctx, e.getMessage());
                return;
            }
            // Only a failed handshake closes with a linger; the tunnel's reads and writes no longer pass it.
            ctx.pipeline().remove(LingeringClose.class);
            Http2FrameCodec codec = IngressInitializer.serverCodec(router.settings, TunnelClient.STREAM_WINDOW,
                    router.drainMillis());
            ctx.pipeline().addLast(codec, new AcceptedStreams(codec.connection(), router, origins, peer),
                    new IngressInitializer.ErrorSink());
            try {
                codec.connection().local().flowController().incrementWindowSize(
                        codec.connection().connectionStream(), TunnelClient.CONNECTION_WINDOW - 65_535);
            } catch (io.netty.handler.codec.http2.Http2Exception e) {
                logger.debug("could not widen the connection window", e);
            }
            Channel ch = ctx.channel();
            router.listener.tunnelEstablished(peer, ch.remoteAddress(), false);
            ch.closeFuture().addListener(f -> router.listener.tunnelClosed(peer, ch.remoteAddress(), false));
            logger.info("tunnel from {} at {} accepted", peer, ch.remoteAddress());
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            // The SslHandler sends the TLS alert and closes the connection itself; closing here first
            // would drop the alert, and the peer would see a reset instead of the reason.
            report(ctx, "TLS handshake failed: " + Exchange.describe(cause));
        }

        private void refuse(ChannelHandlerContext ctx, String reason) {
            report(ctx, reason);
            ctx.close();
        }

        private void report(ChannelHandlerContext ctx, String reason) {
            logger.warn("tunnel from {} refused: {}", ctx.channel().remoteAddress(), reason);
            router.listener.tunnelRejected(ctx.channel().remoteAddress(), reason, false);
        }
    }
}
