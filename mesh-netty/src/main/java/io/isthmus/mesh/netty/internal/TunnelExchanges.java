package io.isthmus.mesh.netty.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Carries the HTTP exchanges of a tunnel connection the sending router dialled, one stream each,
 * without a stream channel per request: a request opens a {@link Stream} of the connection's frame
 * codec, its parts are converted to frames ({@link TunnelStreamCodec#toFrames}) and written on the
 * connection, and the frames of its response are converted back and handed to the exchange. A
 * stream channel, its pipeline and the promises of its life cost more than the request itself; this
 * keeps what they did for an exchange: flow control (the window of a response is given back as the
 * exchange writes it on, and not while reading it is paused), writability, resets in both directions
 * and the end of the connection.
 *
 * <p>The last handler of the connection, after the frame codec; the connection carries no stream
 * channels (those of TCP connections have tunnels of their own: Netty's multiplexer expects a channel
 * for every active stream). Runs on the connection's event loop; one instance per connection.
 */
final class TunnelExchanges extends Http2ChannelDuplexHandler {

    private final Http2Connection connection;
    /** The streams of this handler, by stream id, from when their HEADERS were written. */
    private final IntObjectHashMap<Stream> streams = new IntObjectHashMap<>(16);
    /** Streams that handed response parts to their exchange in this read, to flush downstream once. */
    private final List<Stream> read = new ArrayList<>(16);
    private final Http2StreamFrame[] frames = new Http2StreamFrame[TunnelStreamCodec.MAX_FRAMES];
    private @Nullable ChannelHandlerContext ctx;
    private @Nullable String endpoint;

    /** @param connection the HTTP/2 connection of the frame codec before this handler */
    TunnelExchanges(Http2Connection connection) {
        this.connection = connection;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** A new stream for one exchange; it opens when its first part is written. */
    Stream open() {
        return new Stream(newStream());
    }

    private ChannelHandlerContext context() {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            throw new IllegalStateException("the handler is not in a pipeline");
        }
        return c;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2StreamFrame) {
            Http2FrameStream frameStream = ((Http2StreamFrame) msg).stream();
            Stream stream = frameStream == null ? null : streams.get(frameStream.id());
            if (stream != null) {
                stream.onFrame((Http2StreamFrame) msg);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        for (int i = 0; i < read.size(); i++) {
            read.get(i).flushDownstream();
        }
        read.clear();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof Http2FrameStreamEvent) {
            Http2FrameStreamEvent event = (Http2FrameStreamEvent) evt;
            Stream stream = streams.get(event.stream().id());
            if (stream != null) {
                if (event.type() == Http2FrameStreamEvent.Type.Writability) {
                    stream.onWritabilityChanged();
                } else if (event.stream().state() == Http2Stream.State.CLOSED) {
                    stream.onClosed(null);
                }
                return;
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        for (Stream stream : streams.values().toArray(new Stream[0])) {
            stream.onWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException) {
            Stream stream = streams.get(((Http2FrameStreamException) cause).stream().id());
            if (stream != null) {
                // An error of the stream's frames (as the frame codec reports it, not yet reset).
                Http2FrameStreamException failed = (Http2FrameStreamException) cause;
                stream.reset(failed.error(), failed.getCause() == null ? failed : failed.getCause());
                return;
            }
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // The codec closed the streams as the connection went; anything left ends here.
        for (Stream stream : streams.values().toArray(new Stream[0])) {
            stream.onClosed(null);
        }
        ctx.fireChannelInactive();
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
    final class Stream implements UpstreamLink, ChannelFutureListener {

        private final Http2FrameStream frameStream;
        private @Nullable Exchange exchange;
        /** A request head not written yet: its HEADERS end the stream if an empty last part follows. */
        private @Nullable HttpRequest head;
        /** Response frames held while reading is paused, their window not yet given back. */
        private @Nullable ArrayDeque<Http2StreamFrame> held;
        private boolean paused;
        private boolean inRead;
        private boolean opened;
        private boolean closed;
        private @Nullable Throwable closeCause;

        Stream(Http2FrameStream frameStream) {
            this.frameStream = frameStream;
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
            Http2StreamFrame[] out = frames;
            int count = TunnelStreamCodec.toFrames(part, out);
            // Taken out first: a failed write ends the exchange, whose retry may write another stream.
            Http2StreamFrame first = out[0];
            Http2StreamFrame second = out[1];
            Http2StreamFrame third = out[2];
            out[0] = out[1] = out[2] = null;
            if (count > 0) {
                send(first);
            }
            if (count > 1) {
                send(second);
            }
            if (count > 2) {
                send(third);
            }
        }

        private void send(Http2StreamFrame frame) {
            if (closed) {
                ReferenceCountUtil.release(frame);
                return;
            }
            ChannelHandlerContext c = context();
            frame.stream(frameStream);
            ChannelFuture written = c.write(frame, c.newPromise().addListener(this));
            if (!opened) {
                opened = true;
                // The codec gave the stream its id when it wrote the HEADERS.
                if (!written.isDone() || written.isSuccess()) {
                    streams.put(frameStream.id(), this);
                }
            }
        }

        /** A frame of this stream failed to go out: the stream is reset and the exchange ends. */
        @Override
        public void operationComplete(ChannelFuture future) {
            if (!future.isSuccess()) {
                reset(Http2Error.CANCEL, future.cause());
            }
        }

        /** Resets the stream, if it still is open, and ends the exchange with {@code cause}. */
        void reset(Http2Error error, Throwable cause) {
            if (closeCause == null) {
                closeCause = cause;
            }
            // Nothing held is delivered after a reset: the exchange hears of the end at once.
            dropHeld();
            if (!closed && opened) {
                ChannelHandlerContext c = context();
                c.write(new DefaultHttp2ResetFrame(error).stream(frameStream), c.newPromise());
                DeferredFlush.flushConnection(c.channel());
            }
            onClosed(cause);
        }

        @Override
        public void flush() {
            HttpRequest request = head;
            if (request != null) {
                // The body did not come with the head: the request goes on without waiting for it.
                head = null;
                send(TunnelStreamCodec.headersFrame(request, false));
            }
            DeferredFlush.flushConnection(context().channel());
        }

        @Override
        public boolean isWritable() {
            if (!context().channel().isWritable()) {
                return false;
            }
            Http2Stream stream = connection.stream(frameStream.id());
            return stream == null || connection.remote().flowController().isWritable(stream);
        }

        @Override
        public boolean isActive() {
            return !closed && context().channel().isActive();
        }

        @Override
        public void readResponse(boolean read) {
            paused = !read;
            if (read && held != null && !inRead) {
                deliverHeld();
            }
        }

        @Override
        public void release(boolean reusable) {
            exchange = null;
            head = null;
            dropHeld();
            if (!closed) {
                // An unfinished exchange: the stream is reset, as closing its channel would.
                closed = true;
                ChannelHandlerContext c = context();
                if (opened) {
                    c.write(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(frameStream), c.newPromise());
                    DeferredFlush.flushConnection(c.channel());
                }
            }
            streams.remove(frameStream.id());
        }

        @Override
        public String endpoint() {
            return connectionEndpoint();
        }

        private void dropHeld() {
            ArrayDeque<Http2StreamFrame> frames = held;
            Http2StreamFrame frame;
            while (frames != null && (frame = frames.poll()) != null) {
                ReferenceCountUtil.release(frame);
            }
        }

        void onFrame(Http2StreamFrame frame) {
            if (frame instanceof Http2ResetFrame) {
                closeCause = new IllegalStateException("the stream was reset ("
                        + Http2Error.valueOf(((Http2ResetFrame) frame).errorCode()) + ")");
                return;
            }
            if (paused || held != null && !held.isEmpty()) {
                if (held == null) {
                    held = new ArrayDeque<>(4);
                }
                held.add(frame);
                return;
            }
            if (!inRead) {
                inRead = true;
                read.add(this);
            }
            deliver(frame);
        }

        private void deliver(Http2StreamFrame frame) {
            Exchange e = exchange;
            if (e == null) {
                ReferenceCountUtil.release(frame);
                return;
            }
            Object part;
            if (frame instanceof Http2HeadersFrame) {
                Http2HeadersFrame headers = (Http2HeadersFrame) frame;
                try {
                    part = TunnelStreamCodec.toResponse(headers.headers(), headers.isEndStream());
                } catch (Http2Exception malformed) {
                    // A status the exchange cannot relay: the stream ends, and the exchange answers 502.
                    reset(Http2Error.PROTOCOL_ERROR, malformed);
                    return;
                }
            } else if (frame instanceof Http2DataFrame) {
                Http2DataFrame data = (Http2DataFrame) frame;
                ByteBuf content = data.content();
                int bytes = data.initialFlowControlledBytes();
                part = data.isEndStream() ? new DefaultLastHttpContent(content, EmptyHttpHeaders.INSTANCE)
                        : new DefaultHttpContent(content);
                if (bytes > 0 && !data.isEndStream()) {
                    // The window is given back as the part is handed on; a closed stream returns its own.
                    ChannelHandlerContext c = context();
                    c.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(frameStream), c.newPromise());
                }
            } else {
                ReferenceCountUtil.release(frame);
                return;
            }
            e.onResponsePart((HttpObject) part);
        }

        private void deliverHeld() {
            ArrayDeque<Http2StreamFrame> frames = held;
            Http2StreamFrame frame;
            while (!paused && frames != null && (frame = frames.poll()) != null) {
                deliver(frame);
            }
            Exchange e = exchange;
            if (e != null) {
                e.flushDownstream();
            }
            // The windows given back go out.
            DeferredFlush.flushConnection(context().channel());
            e = exchange;
            if (closed && e != null && (frames == null || frames.isEmpty())) {
                e.onUpstreamClosed(closeCause);
            }
        }

        void flushDownstream() {
            inRead = false;
            Exchange e = exchange;
            if (e != null) {
                e.flushDownstream();
            }
            if (!paused && held != null && !held.isEmpty()) {
                deliverHeld();
            }
        }

        void onWritabilityChanged() {
            Exchange e = exchange;
            if (e != null) {
                e.onUpstreamWritabilityChanged();
            }
        }

        /** The stream closed (ended, reset, or gone with the connection), or failed with {@code cause}. */
        void onClosed(@Nullable Throwable cause) {
            if (cause != null && closeCause == null) {
                closeCause = cause;
            }
            if (!closed) {
                closed = true;
                streams.remove(frameStream.id());
            }
            if (held != null && !held.isEmpty()) {
                // The response parts held wait for reading to resume; the end is told after them.
                return;
            }
            Exchange e = exchange;
            if (e != null) {
                e.onUpstreamClosed(closeCause);
            }
        }
    }
}
