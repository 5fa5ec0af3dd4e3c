package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;

/** The pipeline of an application connection on the ingress port: HTTP/1.1, then the router. */
final class IngressInitializer extends ChannelInitializer<Channel> {

    static final int MAX_INITIAL_LINE = 8192;
    static final int MAX_HEADER_SIZE = 16384;

    private final RouterContext router;
    private final OriginConnector origins;
    private final TunnelClient tunnels;

    IngressInitializer(RouterContext router, OriginConnector origins, TunnelClient tunnels) {
        this.router = router;
        this.origins = origins;
        this.tunnels = tunnels;
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.pipeline().addLast(
                new HttpServerCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(MAX_INITIAL_LINE)
                        .setMaxHeaderSize(MAX_HEADER_SIZE)),
                new IngressHandler(router, origins, tunnels));
    }
}
