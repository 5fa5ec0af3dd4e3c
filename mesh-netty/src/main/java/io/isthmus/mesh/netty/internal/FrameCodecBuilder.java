package io.isthmus.mesh.netty.internal;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;

/**
 * Builds the HTTP/2 frame codecs of tunnels and of the h2c ingress. Their streams share the
 * connection's send window evenly ({@link UniformStreamByteDistributor}) instead of by the priority
 * tree Netty keeps by default: RFC 9113 deprecates stream priorities, no router sends them, and the
 * tree costs several objects and updates for every stream opened and closed.
 */
final class FrameCodecBuilder extends Http2FrameCodecBuilder {

    private final boolean server;

    private FrameCodecBuilder(boolean server) {
        this.server = server;
        // As Netty's own builders: no graceful-shutdown timeout unless one is set.
        gracefulShutdownTimeoutMillis(0);
    }

    /** A builder for the accepting side of a connection. */
    static Http2FrameCodecBuilder accepting() {
        return new FrameCodecBuilder(true);
    }

    /** A builder for the connecting side of a connection. */
    static Http2FrameCodecBuilder connecting() {
        return new FrameCodecBuilder(false);
    }

    @Override
    public boolean isServer() {
        return server;
    }

    @Override
    public Http2FrameCodec build() {
        DefaultHttp2Connection connection = new DefaultHttp2Connection(server, maxReservedStreams());
        connection.remote().flowController(
                new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
        connection(connection);
        return super.build();
    }
}
