package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;

/**
 * Coalesces the flushes of HTTP exchanges carried on HTTP/2 connections (tunnels, h2c clients). Each
 * exchange would otherwise flush its stream, and each flush of a stream becomes a write of the whole
 * connection (for a tunnel, a TLS record and a system call). A flush of a stream is instead noted for
 * its connection, and every connection noted is flushed once, after the event loop has handled the
 * I/O events at hand: the frames of all exchanges served in one turn leave in one write.
 *
 * <p>Used from an event loop only; other channels and threads flush at once.
 */
final class DeferredFlush implements Runnable {

    private static final FastThreadLocal<DeferredFlush> LOOP = new FastThreadLocal<>() {
        @Override
        protected DeferredFlush initialValue() {
            return new DeferredFlush();
        }
    };

    private final List<Channel> connections = new ArrayList<>(4);
    private boolean scheduled;

    private DeferredFlush() {}

    /** Flushes {@code channel}: soon for a stream of an HTTP/2 connection, at once otherwise. */
    static void flush(Channel channel) {
        Channel connection = channel.parent();
        if (!(channel instanceof Http2StreamChannel) || connection == null || !channel.eventLoop().inEventLoop()) {
            channel.flush();
            return;
        }
        DeferredFlush pending = LOOP.get();
        if (!pending.connections.contains(connection)) {
            pending.connections.add(connection);
        }
        if (!pending.scheduled) {
            pending.scheduled = true;
            channel.eventLoop().execute(pending);
        }
    }

    @Override
    public void run() {
        scheduled = false;
        // A flush may complete writes whose listeners flush again: take the list first.
        Channel[] due = connections.toArray(new Channel[0]);
        connections.clear();
        for (Channel connection : due) {
            connection.flush();
        }
    }
}
