package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.pki.SpiffeId;
import io.isthmus.mesh.snapshot.CompiledLoadBalancer;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.nio.channels.ClosedChannelException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the streams of an accepted tunnel connection, without a stream channel each ({@link
 * TunnelStreams}). A stream opens with its first HEADERS frame: a request becomes an {@link
 * HttpStream}, served by a {@link TunnelStreamHandler}; a {@code CONNECT} request carries one TCP
 * connection of a TCP load balancer (its {@code :authority} is {@code name.namespace:port}) and
 * becomes a {@link TcpStream}, piped to an origin of the pool at this site.
 *
 * <p>The handler after the connection's frame codec; runs on the connection's event loop, one
 * instance per connection.
 */
final class AcceptedStreams extends TunnelStreams {

    private static final Logger logger = LoggerFactory.getLogger(AcceptedStreams.class);
    private static final ClosedChannelException CLOSED = new ClosedChannelException();

    private final RouterContext router;
    private final OriginConnector origins;
    private final SpiffeId peer;
    private final TunnelStreamHandler.CarriedClient carried;

    /**
     * @param connection the HTTP/2 connection of the frame codec before this handler
     * @param peer the identity the sending router proved in the TLS handshake
     */
    AcceptedStreams(Http2Connection connection, RouterContext router, OriginConnector origins, SpiffeId peer) {
        super(connection);
        this.router = router;
        this.origins = origins;
        this.peer = peer;
        this.carried = new TunnelStreamHandler.CarriedClient(router.site, peer);
    }

    /** A stream opens with the HEADERS of its request; any other frame of an unknown stream is dropped. */
    @Override
    void onUnknownStreamFrame(ChannelHandlerContext ctx, Http2StreamFrame frame) {
        Http2FrameStream frameStream = frame.stream();
        if (!(frame instanceof Http2HeadersFrame) || frameStream == null) {
            ReferenceCountUtil.release(frame);
            return;
        }
        CharSequence method = ((Http2HeadersFrame) frame).headers().method();
        Stream stream = method != null && HttpMethod.CONNECT.asciiName().contentEquals(method)
                ? new TcpStream(frameStream) : new HttpStream(frameStream);
        stream.register();
        stream.onFrame(frame);
    }

    /** The CONNECT authority of a TCP load balancer. */
    static String authority(LoadBalancer lb) {
        return lb.name() + '.' + lb.namespace() + ':' + lb.port();
    }

    /** Finds a TCP load balancer by its CONNECT authority, {@code name.namespace:port}. */
    static @Nullable CompiledLoadBalancer find(RoutingTable table, String authority) {
        int colon = authority.lastIndexOf(':');
        String host = colon < 0 ? authority : authority.substring(0, colon);
        int dot = host.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        try {
            CompiledLoadBalancer lb = table.loadBalancer(
                    ObjectKey.of(Kind.LOAD_BALANCER, host.substring(dot + 1), host.substring(0, dot)));
            return lb != null && lb.loadBalancer().type() == LoadBalancer.Type.TCP ? lb : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * A stream carrying one HTTP exchange: its request goes to a {@link TunnelStreamHandler}, which
     * writes the response to it as to any {@link Downstream}.
     */
    final class HttpStream extends Stream implements Downstream {

        private final TunnelStreamHandler handler;
        /** Whether the last part of the response was written: the stream's close is then the exchange's end. */
        private boolean responseEnded;

        HttpStream(Http2FrameStream frameStream) {
            super(frameStream);
            handler = new TunnelStreamHandler(router, origins, peer, carried);
            handler.open(this);
        }

        @Override
        void consume(Http2StreamFrame frame) {
            if (frame instanceof Http2HeadersFrame) {
                Http2HeadersFrame headers = (Http2HeadersFrame) frame;
                handler.read(TunnelStreamCodec.toRequest(headers.headers(), headers.isEndStream()));
            } else if (frame instanceof Http2DataFrame) {
                handler.read(content((Http2DataFrame) frame));
            } else {
                ReferenceCountUtil.release(frame);
            }
        }

        @Override
        void readComplete() {
            handler.readComplete();
        }

        @Override
        void writabilityChanged() {
            handler.writabilityChanged();
        }

        /**
         * The stream closed. After the last part of the response went out without a reset, that is the
         * exchange's own end: the frame codec closes the stream as the last frame is written, before the
         * exchange hears that it was, and the exchange finishes by itself (its origin connection reused).
         */
        @Override
        void ended() {
            if (!responseEnded || closeCause != null) {
                handler.closed();
            }
        }

        @Override
        public EventLoop eventLoop() {
            return context().channel().eventLoop();
        }

        @Override
        public ByteBufAllocator alloc() {
            return context().alloc();
        }

        @Override
        public void write(HttpObject part) {
            sendAll(part);
        }

        @Override
        public Future<Void> writeLast(HttpObject part) {
            responseEnded = true;
            ChannelFuture written = sendAll(part);
            flush();
            return written;
        }

        @Override
        public void readRequests(boolean read) {
            readFrames(read);
        }

        @Override
        public void close() {
            reset(Http2Error.CANCEL, CLOSED);
        }

        @Override
        public String toString() {
            return "tunnel stream " + frameStream.id() + " from " + peer;
        }
    }

    /**
     * A {@code CONNECT} stream: one TCP connection of a TCP load balancer, piped to an origin socket
     * of its pool. Its DATA goes to the socket ({@code END_STREAM} half-closes it, a reset closes it);
     * the socket's bytes come back as DATA ({@link TcpRelay.Peer}). Its frames wait while the socket
     * connects.
     */
    final class TcpStream extends Stream implements TcpRelay.Peer {

        private @Nullable Channel socket;
        private @Nullable ChannelFuture outputEnded;
        private boolean decided;
        private boolean inputEnded;

        TcpStream(Http2FrameStream frameStream) {
            super(frameStream);
        }

        @Override
        void consume(Http2StreamFrame frame) {
            if (frame instanceof Http2HeadersFrame) {
                CharSequence authority = ((Http2HeadersFrame) frame).headers().authority();
                ReferenceCountUtil.release(frame);
                if (!decided) {
                    decided = true;
                    connect(authority == null ? "" : authority.toString());
                }
                return;
            }
            Channel s = socket;
            if (!(frame instanceof Http2DataFrame) || s == null) {
                ReferenceCountUtil.release(frame);
                return;
            }
            Http2DataFrame data = (Http2DataFrame) frame;
            boolean end = data.isEndStream();
            ByteBuf bytes = content(data).content();
            if (bytes.isReadable()) {
                s.write(bytes).addListener(this);
            } else {
                bytes.release();
            }
            if (!s.isWritable()) {
                readFrames(false);
            }
            if (end) {
                inputEnded = true;
                TcpRelay.endOutput(s, false);
            }
        }

        private void connect(String authority) {
            RoutingTable table = router.config.current();
            CompiledLoadBalancer lb = find(table, authority);
            if (lb == null) {
                refuse("404", "no TCP load balancer " + authority + " at site " + router.site);
                return;
            }
            CompiledPool pool = table.pool(lb.loadBalancer().defaultPoolKey());
            Endpoint endpoint;
            try {
                if (pool == null) {
                    throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, "pool_not_configured",
                            "origin pool " + lb.loadBalancer().defaultPool() + " is not configured");
                }
                endpoint = origins.endpoint(router, pool, null, null);
            } catch (RouteException e) {
                refuse(Integer.toString(e.status().code()), e.getMessage());
                return;
            }
            readFrames(false);
            ChannelFuture connect = TcpRelay.connect(origins, context().channel().eventLoop(), this, endpoint);
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    refuse("502", "origin " + endpoint + " of TCP load balancer " + authority + " is unreachable: "
                            + Exchange.describe(f.cause()));
                    // What arrived meanwhile is dropped, and the stream's end can be told.
                    readFrames(true);
                    return;
                }
                Channel s = connect.channel();
                if (closed) {
                    s.close();
                    readFrames(true);
                    return;
                }
                socket = s;
                send(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), false));
                flush();
                logger.debug("site {}: TCP connection for {} from {} piped to {}", router.site, authority, peer, endpoint);
                TcpRelay.start(s, this);
            });
        }

        private void refuse(String status, String reason) {
            logger.debug("site {}: CONNECT from {} refused: {} {}", router.site, peer, status, reason);
            Http2Headers headers = new DefaultHttp2Headers().status(status);
            headers.set(Responses.ERROR_HEADER, status + " " + reason.replace('\n', ' '));
            send(new DefaultHttp2HeadersFrame(headers, true));
            flush();
        }

        @Override
        void readComplete() {
            Channel s = socket;
            if (s != null) {
                s.flush();
            }
        }

        @Override
        void writabilityChanged() {
            Channel s = socket;
            if (s != null && isWritable()) {
                TcpRelay.resumeReading(s);
            }
        }

        /** The stream closed: after a clean {@code END_STREAM} the socket closes once its queued bytes are out. */
        @Override
        void ended() {
            Channel s = socket;
            if (s == null) {
                return;
            }
            if (inputEnded && closeCause == null) {
                s.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                s.close();
            }
        }

        @Override
        public void write(ByteBuf bytes, Channel source) {
            // A failed write resets the stream, and its end closes the socket.
            send(new DefaultHttp2DataFrame(bytes, false));
        }

        @Override
        public void resumeReading() {
            readFrames(true);
        }

        @Override
        public void endOutput() {
            endStream();
        }

        private ChannelFuture endStream() {
            ChannelFuture ended = outputEnded;
            if (ended == null) {
                ended = send(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
                outputEnded = ended;
                flush();
            }
            return ended;
        }

        /** The socket closed: the stream ends after what is queued, and is reset if the peer has not ended it. */
        @Override
        public void finish() {
            endStream().addListener(f -> reset(Http2Error.CANCEL, CLOSED));
        }
    }
}
