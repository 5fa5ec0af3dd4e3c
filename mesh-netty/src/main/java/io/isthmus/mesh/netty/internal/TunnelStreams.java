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
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
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
 * The streams of one tunnel connection, each carried without a stream channel: the last handler of
 * the connection, after its frame codec, hands each stream's frames to a {@link Stream} and writes
 * that stream's frames on the connection. A stream channel, its pipeline and the promises of its
 * life cost more than a request itself; this keeps what they did for a stream: flow control (a DATA
 * frame's window is given back as the stream hands it on, and not while reading is paused),
 * writability, resets in both directions and the end of the connection.
 *
 * <p>The sending router's streams are {@link TunnelExchanges}, the receiving router's {@link
 * AcceptedStreams}. Runs on the connection's event loop; one instance per connection.
 */
abstract class TunnelStreams extends Http2ChannelDuplexHandler {

    private final Http2Connection connection;
    /** The streams of this handler, by stream id, from when they opened. */
    private final IntObjectHashMap<Stream> streams = new IntObjectHashMap<>(16);
    /** Streams that handed frames on in this read, to tell them once the read is done. */
    private final List<Stream> read = new ArrayList<>(16);
    private final Http2StreamFrame[] frames = new Http2StreamFrame[TunnelStreamCodec.MAX_FRAMES];
    private @Nullable ChannelHandlerContext ctx;

    /** @param connection the HTTP/2 connection of the frame codec before this handler */
    TunnelStreams(Http2Connection connection) {
        this.connection = connection;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** The context of this handler in the connection's pipeline. */
    final ChannelHandlerContext context() {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            throw new IllegalStateException("the handler is not in a pipeline");
        }
        return c;
    }

    /** A frame of a stream this handler does not carry: the subclass opens one, or passes it on. */
    abstract void onUnknownStreamFrame(ChannelHandlerContext ctx, Http2StreamFrame frame);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2StreamFrame) {
            Http2StreamFrame frame = (Http2StreamFrame) msg;
            Http2FrameStream frameStream = frame.stream();
            Stream stream = frameStream == null ? null : streams.get(frameStream.id());
            if (stream != null) {
                stream.onFrame(frame);
            } else {
                onUnknownStreamFrame(ctx, frame);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        for (int i = 0; i < read.size(); i++) {
            read.get(i).onReadComplete();
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
                    stream.writabilityChanged();
                } else if (event.stream().state() == Http2Stream.State.CLOSED) {
                    stream.onClosed(null);
                }
            }
            // The events of other streams (one opening, before its HEADERS are read) concern no handler after this one.
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        for (Stream stream : streams.values().toArray(new Stream[0])) {
            stream.writabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException) {
            // An error of a stream's frames, as the frame codec reports it: the stream is not reset yet.
            Http2FrameStreamException failed = (Http2FrameStreamException) cause;
            Stream stream = streams.get(failed.stream().id());
            if (stream != null) {
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

    /** Whether {@code frame} ends its stream on the side that sends it (END_STREAM). */
    static boolean endsStream(Http2StreamFrame frame) {
        return frame instanceof Http2HeadersFrame ? ((Http2HeadersFrame) frame).isEndStream()
                : frame instanceof Http2DataFrame && ((Http2DataFrame) frame).isEndStream();
    }

    /**
     * One stream of the connection. Its frames come in through {@link #consume}, in order, except
     * while reading is paused ({@link #readFrames}): then they are held, their window not given back.
     */
    abstract class Stream implements ChannelFutureListener {

        final Http2FrameStream frameStream;
        /** Frames held while reading is paused, their window not yet given back. */
        private @Nullable ArrayDeque<Http2StreamFrame> held;
        private boolean paused;
        private boolean inRead;
        private boolean opened;
        private boolean endTold;
        /** Whether a frame with END_STREAM was written here, and whether one came from the peer. */
        private boolean endSent;
        private boolean endReceived;
        private boolean resetSent;
        /** Whether the stream has closed (ended, reset, or gone with the connection). */
        boolean closed;
        /** Why the stream ended, if not cleanly. */
        @Nullable Throwable closeCause;

        Stream(Http2FrameStream frameStream) {
            this.frameStream = frameStream;
        }

        /** Consumes a frame of this stream: DATA through {@link #content}. */
        abstract void consume(Http2StreamFrame frame);

        /** The frames of a read were consumed; also after held frames were. */
        abstract void readComplete();

        /** The stream became writable, or stopped being so ({@link #isWritable}). */
        abstract void writabilityChanged();

        /** The stream has closed and all of its frames were consumed; {@link #closeCause} says why, if not cleanly. */
        abstract void ended();

        /** Carries the frames of a stream that opened on the peer's side. */
        final void register() {
            opened = true;
            streams.put(frameStream.id(), this);
        }

        /**
         * Writes a frame of this stream; it goes out with the next flush, and a failure resets the
         * stream. The first frame of a stream opened here (its HEADERS) gives it its id.
         */
        final ChannelFuture send(Http2StreamFrame frame) {
            ChannelHandlerContext c = context();
            if (closed) {
                ReferenceCountUtil.release(frame);
                return c.newFailedFuture(new IllegalStateException("the stream has closed"));
            }
            frame.stream(frameStream);
            endSent |= endsStream(frame);
            ChannelFuture written = c.write(frame, c.newPromise().addListener(this));
            if (!opened && (!written.isDone() || written.isSuccess())) {
                // The codec gave the stream its id when it wrote the HEADERS.
                register();
            }
            return written;
        }

        /**
         * Writes the frames of an HTTP object ({@link TunnelStreamCodec#toFrames}) and returns the future
         * of the last. They are taken out of the shared array first: a failed write ends the stream, and
         * what that starts (a retry) may write another stream.
         */
        final ChannelFuture sendAll(HttpObject part) {
            Http2StreamFrame[] out = frames;
            int count = TunnelStreamCodec.toFrames(part, out);
            Http2StreamFrame first = out[0];
            Http2StreamFrame second = out[1];
            Http2StreamFrame third = out[2];
            out[0] = out[1] = out[2] = null;
            ChannelFuture last = count > 0 ? send(first) : context().newSucceededFuture();
            if (count > 1) {
                last = send(second);
            }
            if (count > 2) {
                last = send(third);
            }
            return last;
        }

        /** A frame of this stream failed to go out: the stream is reset and ends. */
        @Override
        public void operationComplete(ChannelFuture future) {
            if (!future.isSuccess()) {
                reset(Http2Error.CANCEL, future.cause());
            }
        }

        /** Sends what was written, at the end of the event loop's turn. */
        public void flush() {
            DeferredFlush.flushConnection(context().channel());
        }

        /** Whether the connection and the stream's flow-control window take more frames. */
        public final boolean isWritable() {
            if (!context().channel().isWritable()) {
                return false;
            }
            Http2Stream stream = connection.stream(frameStream.id());
            return stream == null || connection.remote().flowController().isWritable(stream);
        }

        /** Whether the stream and its connection are still open. */
        final boolean isOpen() {
            return !closed && context().channel().isActive();
        }

        /** Resets the stream, if it still is open, and ends it with {@code cause}. */
        final void reset(Http2Error error, Throwable cause) {
            if (closeCause == null) {
                closeCause = cause;
            }
            // Nothing held is consumed after a reset: the stream's end is told at once.
            dropHeld();
            sendReset(error);
            onClosed(cause);
        }

        /** Resets the stream without telling its end (the side that ends it says so itself); once. */
        final void sendReset(Http2Error error) {
            if (!closed && opened && !resetSent) {
                resetSent = true;
                ChannelHandlerContext c = context();
                c.write(new DefaultHttp2ResetFrame(error).stream(frameStream), c.voidPromise());
                flush();
            }
        }

        /**
         * Stops carrying the stream: it is reset with {@code error} unless it has closed, and nothing
         * more is consumed. A stream both sides have ended needs no reset: the frame codec closes it
         * once the frame that ended it on the peer's side has been handled, which may be after this (an
         * exchange finishes as it consumes that frame).
         */
        final void abandon(Http2Error error) {
            dropHeld();
            if (!closed) {
                if (!(endSent && endReceived)) {
                    sendReset(error);
                }
                closed = true;
            }
            endTold = true;
            streams.remove(frameStream.id());
        }

        /** Pauses ({@code false}) or resumes consuming the frames of this stream. */
        final void readFrames(boolean read) {
            paused = !read;
            if (read && held != null && !inRead) {
                consumeHeld();
            }
        }

        /** A DATA frame's content as an HTTP object; its window is given back unless it ends the stream. */
        final HttpContent content(Http2DataFrame data) {
            ByteBuf content = data.content();
            int bytes = data.initialFlowControlledBytes();
            if (bytes > 0 && !data.isEndStream()) {
                // A closed stream returns its own window.
                ChannelHandlerContext c = context();
                c.write(new DefaultHttp2WindowUpdateFrame(bytes).stream(frameStream), c.voidPromise());
            }
            return data.isEndStream() ? new DefaultLastHttpContent(content, EmptyHttpHeaders.INSTANCE)
                    : new DefaultHttpContent(content);
        }

        private void dropHeld() {
            ArrayDeque<Http2StreamFrame> frames = held;
            Http2StreamFrame frame;
            while (frames != null && (frame = frames.poll()) != null) {
                ReferenceCountUtil.release(frame);
            }
        }

        final void onFrame(Http2StreamFrame frame) {
            endReceived |= endsStream(frame);
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
            consume(frame);
        }

        private void consumeHeld() {
            ArrayDeque<Http2StreamFrame> frames = held;
            Http2StreamFrame frame;
            while (!paused && frames != null && (frame = frames.poll()) != null) {
                consume(frame);
            }
            readComplete();
            // The windows given back go out.
            flush();
            if (closed && (frames == null || frames.isEmpty())) {
                tellEnd();
            }
        }

        final void onReadComplete() {
            inRead = false;
            readComplete();
            if (!paused && held != null && !held.isEmpty()) {
                consumeHeld();
            }
        }

        /** The stream closed (ended, reset, or gone with the connection), or failed with {@code cause}. */
        final void onClosed(@Nullable Throwable cause) {
            if (cause != null && closeCause == null) {
                closeCause = cause;
            }
            if (!closed) {
                closed = true;
                streams.remove(frameStream.id());
            }
            if (held != null && !held.isEmpty()) {
                // The frames held wait for reading to resume; the end is told after them.
                return;
            }
            tellEnd();
        }

        private void tellEnd() {
            if (!endTold) {
                endTold = true;
                ended();
            }
        }
    }
}
