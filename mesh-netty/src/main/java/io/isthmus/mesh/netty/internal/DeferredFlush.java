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
 * its connection, and every connection noted is flushed after the event loop has handled the I/O
 * events at hand, or as soon as {@link #BATCH} flushes are pending for it: the frames of several
 * exchanges leave in one write, and the next hop does not wait for the end of a long turn.
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

    /**
     * Flushes noted for one connection that trigger a flush at once (an exchange notes one or two).
     * Waiting for the end of the turn saves the most writes, but then the next hop idles while this
     * one works through a long turn; on the two-site hop with 50 clients, 8 gave the most requests per
     * second (4 and 16 were close, 2 and "end of turn only" about 15% lower).
     */
    static final int BATCH = 8;

    private final List<Channel> connections = new ArrayList<>(4);
    /** Flushes noted per connection, by index in {@link #connections}. */
    private int[] noted = new int[4];
    private boolean scheduled;

    private DeferredFlush() {}

    /** Flushes {@code channel}: soon for a stream of an HTTP/2 connection, at once otherwise. */
    static void flush(Channel channel) {
        Channel connection = channel.parent();
        if (!(channel instanceof Http2StreamChannel) || connection == null) {
            channel.flush();
            return;
        }
        flushConnection(connection);
    }

    /** Flushes an HTTP/2 connection soon, for the exchanges of its streams; at once off its event loop. */
    static void flushConnection(Channel connection) {
        if (!connection.eventLoop().inEventLoop()) {
            connection.flush();
            return;
        }
        DeferredFlush pending = LOOP.get();
        int i = pending.connections.indexOf(connection);
        if (i < 0) {
            i = pending.connections.size();
            pending.connections.add(connection);
            if (i == pending.noted.length) {
                pending.noted = java.util.Arrays.copyOf(pending.noted, i * 2);
            }
            pending.noted[i] = 0;
        }
        if (++pending.noted[i] >= BATCH) {
            pending.noted[i] = 0;
            connection.flush();
        }
        if (!pending.scheduled) {
            pending.scheduled = true;
            connection.eventLoop().execute(pending);
        }
    }

    @Override
    public void run() {
        scheduled = false;
        // A flush may complete writes whose listeners flush again: take the list first.
        Channel[] due = connections.toArray(new Channel[0]);
        connections.clear();
        java.util.Arrays.fill(noted, 0);
        for (Channel connection : due) {
            connection.flush();
        }
    }
}
