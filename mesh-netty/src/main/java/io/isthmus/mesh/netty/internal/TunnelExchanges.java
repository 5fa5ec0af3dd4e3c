package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * Carries the HTTP exchanges of a tunnel connection the sending router dialled, one stream each,
 * without a stream channel per request ({@link TunnelStreams}): a request opens a {@link Stream} of
 * the connection's frame codec, its parts are converted to frames ({@link TunnelStreamCodec#toFrames})
 * and written on the connection, and the frames of its response are converted back and handed to the
 * exchange, whose pace sets when their window is given back.
 *
 * <p>The last handler of the connection, after the frame codec; the connection carries no stream
 * channels (those of TCP connections have tunnels of their own: Netty's multiplexer expects a channel
 * for every active stream). Runs on the connection's event loop; one instance per connection.
 */
final class TunnelExchanges extends TunnelStreams {

    private @Nullable String endpoint;

    /** @param connection the HTTP/2 connection of the frame codec before this handler */
    TunnelExchanges(Http2Connection connection) {
        super(connection);
    }

    /** A new stream for one exchange; it opens when its first part is written. */
    Stream open() {
        return new Stream();
    }

    /** A frame of a stream released already (or of none): it is passed on, to be dropped. */
    @Override
    void onUnknownStreamFrame(ChannelHandlerContext ctx, Http2StreamFrame frame) {
        ctx.fireChannelRead(frame);
    }

    private String connectionEndpoint() {
        String e = endpoint;
        if (e == null) {
            e = Upstream.endpoint(context().channel().remoteAddress());
            endpoint = e;
        }
        return e;
    }

    /** One exchange's stream: the request goes out on it, the response comes back on it. */
    final class Stream extends TunnelStreams.Stream implements UpstreamLink {

        private @Nullable Exchange exchange;
        /** A request head not written yet: its HEADERS end the stream if an empty last part follows. */
        private @Nullable HttpRequest head;
        /** How the stream is reset if it is let go before it ends: CANCEL, or PROTOCOL_ERROR after a malformed head. */
        private Http2Error abandonWith = Http2Error.CANCEL;

        Stream() {
            super(newStream());
        }

        @Override
        public void attach(Exchange exchange) {
            this.exchange = exchange;
        }

        @Override
        public void write(HttpObject part) {
            if (closed) {
                ReferenceCountUtil.release(part);
                return;
            }
            if (part instanceof HttpRequest && !(part instanceof HttpContent)) {
                // Held until the next part: a request without a body ends with its HEADERS.
                head = (HttpRequest) part;
                return;
            }
            HttpRequest request = head;
            if (request != null) {
                head = null;
                if (part instanceof LastHttpContent && !((LastHttpContent) part).content().isReadable()
                        && ((LastHttpContent) part).trailingHeaders().isEmpty()) {
                    ((LastHttpContent) part).release();
                    send(TunnelStreamCodec.headersFrame(request, true));
                    return;
                }
                send(TunnelStreamCodec.headersFrame(request, false));
            }
            sendAll(part);
        }

        @Override
        public void flush() {
            HttpRequest request = head;
            if (request != null) {
                // The body did not come with the head: the request goes on without waiting for it.
                head = null;
                send(TunnelStreamCodec.headersFrame(request, false));
            }
            super.flush();
        }

        @Override
        public boolean isActive() {
            return isOpen();
        }

        @Override
        public void readResponse(boolean read) {
            readFrames(read);
        }

        @Override
        public void release(boolean reusable) {
            exchange = null;
            head = null;
            // An unfinished exchange: the stream is reset, as closing its channel would.
            abandon(abandonWith);
        }

        @Override
        public String endpoint() {
            return connectionEndpoint();
        }

        @Override
        void consume(Http2StreamFrame frame) {
            Exchange e = exchange;
            if (e == null) {
                ReferenceCountUtil.release(frame);
                return;
            }
            HttpObject part;
            if (frame instanceof Http2HeadersFrame) {
                Http2HeadersFrame headers = (Http2HeadersFrame) frame;
                try {
                    part = (HttpObject) TunnelStreamCodec.toResponse(headers.headers(), headers.isEndStream());
                } catch (Http2Exception malformed) {
                    // A head the exchange cannot relay: the exchange answers 502 saying what was wrong
                    // with it, and the stream it lets go is reset as malformed.
                    abandonWith = Http2Error.PROTOCOL_ERROR;
                    HttpResponse failed = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);
                    failed.setDecoderResult(DecoderResult.failure(malformed));
                    part = failed;
                }
            } else if (frame instanceof Http2DataFrame) {
                part = content((Http2DataFrame) frame);
            } else {
                ReferenceCountUtil.release(frame);
                return;
            }
            e.onResponsePart(part);
        }

        @Override
        void readComplete() {
            Exchange e = exchange;
            if (e != null) {
                e.flushDownstream();
            }
        }

        @Override
        void writabilityChanged() {
            Exchange e = exchange;
            if (e != null) {
                e.onUpstreamWritabilityChanged();
            }
        }

        @Override
        void ended() {
            Exchange e = exchange;
            if (e != null) {
                e.onUpstreamClosed(closeCause);
            }
        }
    }
}
