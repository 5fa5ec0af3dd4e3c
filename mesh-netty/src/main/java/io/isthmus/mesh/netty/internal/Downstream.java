package io.isthmus.mesh.netty.internal;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.concurrent.Future;

/**
 * The downstream end of the exchanges of a {@link ProxyHandler}: a client connection or an HTTP/2
 * stream with a channel of its own ({@link OfChannel}), or any other carrier of one request stream
 * that drives the handler without a pipeline ({@link ProxyHandler#open}). Responses go out through
 * it; reading the requests pauses and resumes through it. Used on its event loop only.
 */
interface Downstream {

    /** The event loop everything of this downstream runs on. */
    EventLoop eventLoop();

    /** The allocator of the buffers of responses the router makes itself. */
    ByteBufAllocator alloc();

    /** Writes a part of a response; it goes out with the next flush. A failure closes the downstream. */
    void write(HttpObject part);

    /** Writes the last part of a response and flushes soon; the future tells whether it went out. */
    Future<Void> writeLast(HttpObject part);

    /** Sends what was written, now or at the end of the event loop's turn. */
    void flush();

    /** Whether the downstream takes more response parts without buffering them beyond its limits. */
    boolean isWritable();

    /** Pauses ({@code false}) or resumes reading requests, while the upstream side pushes back. */
    void readRequests(boolean read);

    /** Closes the connection, or resets the stream unless it has ended. */
    void close();

    /** The downstream of a channel: a client connection, or an HTTP/2 stream with a channel. */
    final class OfChannel implements Downstream {

        private final ChannelHandlerContext ctx;
        private final Channel channel;

        OfChannel(ChannelHandlerContext ctx) {
            this.ctx = ctx;
            this.channel = ctx.channel();
        }

        @Override
        public EventLoop eventLoop() {
            return channel.eventLoop();
        }

        @Override
        public ByteBufAllocator alloc() {
            return ctx.alloc();
        }

        @Override
        public void write(HttpObject part) {
            channel.write(part, channel.voidPromise());
        }

        @Override
        public Future<Void> writeLast(HttpObject part) {
            Future<Void> written = channel.write(part);
            DeferredFlush.flush(channel);
            return written;
        }

        @Override
        public void flush() {
            DeferredFlush.flush(channel);
        }

        @Override
        public boolean isWritable() {
            return channel.isWritable();
        }

        @Override
        public void readRequests(boolean read) {
            channel.config().setAutoRead(read);
        }

        @Override
        public void close() {
            ctx.close();
        }

        @Override
        public String toString() {
            return channel.toString();
        }
    }
}
