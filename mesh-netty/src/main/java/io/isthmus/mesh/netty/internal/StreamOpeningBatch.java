package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayDeque;

/**
 * Sits between the HTTP/2 frame codec and the stream multiplexer of an ingress connection and holds
 * the streams a read batch opens until the batch ends: then their stream channels are created and
 * their frames delivered, in order. A stream reset (or otherwise closed) within the batch that opened
 * it is never passed on: it gets no stream channel, no pipeline, no routing and no upstream.
 *
 * <p>Why: a rapid-reset flood (CVE-2023-44487) sends HEADERS followed at once by RST_STREAM, hundreds
 * per TCP read. Building a stream channel for each, only to close it a frame later, is most of what
 * such a flood costs the event loop (and its garbage collections), and every other connection on that
 * loop waits meanwhile. A stream that survives its batch is opened at the end of the batch, which
 * costs a well-behaved client nothing.
 *
 * <p>Anything the multiplexer handles by visiting every active stream (writability, exceptions, user
 * events other than stream events) first opens the held streams, so the multiplexer never meets an
 * active stream without a channel. When the connection has failed or closed, held streams get their
 * channels (closed with the connection) but not their frames.
 *
 * <p>Runs on the connection's event loop; one instance per connection.
 */
final class StreamOpeningBatch extends ChannelInboundHandlerAdapter {

    /** Streams held in this batch: {@code true} while open, {@code false} once closed within it. */
    private IntObjectHashMap<Boolean> held = new IntObjectHashMap<>(8);
    private IntObjectHashMap<Boolean> spareHeld = new IntObjectHashMap<>(8);
    /** Held stream events and frames of held streams, in arrival order. */
    private ArrayDeque<Object> queue = new ArrayDeque<>(16);
    private ArrayDeque<Object> spareQueue = new ArrayDeque<>(16);
    /** The highest stream id held or passed on as opening; stream ids of a peer only grow. */
    private int lastOpened;

    /** A stream event waiting in the queue. */
    private static final class HeldEvent {
        final Http2FrameStreamEvent event;

        HeldEvent(Http2FrameStreamEvent event) {
            this.event = event;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (!(evt instanceof Http2FrameStreamEvent)) {
            openHeld(ctx, true);
            ctx.fireUserEventTriggered(evt);
            return;
        }
        Http2FrameStreamEvent event = (Http2FrameStreamEvent) evt;
        Http2FrameStream stream = event.stream();
        int id = stream.id();
        Boolean open = held.get(id);
        if (open != null) {
            if (event.type() == Http2FrameStreamEvent.Type.State && stream.state() == Http2Stream.State.CLOSED) {
                held.put(id, Boolean.FALSE);
            } else if (open) {
                queue.add(new HeldEvent(event));
            }
            return;
        }
        if (event.type() == Http2FrameStreamEvent.Type.State && id > lastOpened
                && (stream.state() == Http2Stream.State.OPEN || stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE)) {
            lastOpened = id;
            held.put(id, Boolean.TRUE);
            queue.add(new HeldEvent(event));
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2StreamFrame) {
            Http2FrameStream stream = ((Http2StreamFrame) msg).stream();
            Boolean open = stream == null ? null : held.get(stream.id());
            if (open != null) {
                if (open) {
                    queue.add(msg);
                } else {
                    ReferenceCountUtil.release(msg);
                }
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        openHeld(ctx, true);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        openHeld(ctx, true);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A connection error ends the connection: the held streams get channels, not their requests.
        Http2Exception http2 = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        openHeld(ctx, http2 == null || http2 instanceof Http2Exception.StreamException);
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        openHeld(ctx, false);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        Object item;
        while ((item = queue.poll()) != null) {
            ReferenceCountUtil.release(item);
        }
        held.clear();
    }

    /**
     * Passes the held streams on: the stream events of those still open (the multiplexer creates
     * their channels), and their frames if {@code withFrames} and the connection is still up; the
     * events and frames of streams closed within the batch are dropped.
     */
    private void openHeld(ChannelHandlerContext ctx, boolean withFrames) {
        if (held.isEmpty()) {
            return;
        }
        // Swapped first: what the multiplexer does now may send events of these streams back here.
        IntObjectHashMap<Boolean> streams = held;
        ArrayDeque<Object> items = queue;
        held = spareHeld;
        queue = spareQueue;
        boolean deliver = withFrames && ctx.channel().isActive();
        try {
            Object item;
            while ((item = items.poll()) != null) {
                if (item instanceof HeldEvent) {
                    Http2FrameStreamEvent event = ((HeldEvent) item).event;
                    if (Boolean.TRUE.equals(streams.get(event.stream().id()))) {
                        ctx.fireUserEventTriggered(event);
                    }
                } else if (deliver && Boolean.TRUE.equals(streams.get(((Http2StreamFrame) item).stream().id()))) {
                    ctx.fireChannelRead(item);
                } else {
                    ReferenceCountUtil.release(item);
                }
            }
        } finally {
            streams.clear();
            spareHeld = streams;
            spareQueue = items;
        }
    }
}
