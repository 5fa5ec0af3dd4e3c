package io.isthmus.mesh.netty.internal;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Where an exchange sends its request: an origin connection from a pool or a new stream of a tunnel,
 * provided as an {@link UpstreamLink}.
 */
interface Upstream {

    /** Provides a link on {@code loop} ready for one request, or fails with a reason. */
    Future<UpstreamLink> acquire(EventLoop loop);

    /**
     * Says the exchange no longer wants the link {@link #acquire} is still providing (its client
     * left): an upstream that queues requests frees the request's place. By default nothing happens
     * and the link, once provided, is released.
     */
    default void abandon(Future<UpstreamLink> acquiring) {}

    /** Describes the destination for error messages and logs, e.g. {@code origin 10.0.0.7:8080}. */
    String describe();

    /** Names the address of a remote end, as the access log shows it: {@code host:port}. */
    static String endpoint(java.net.SocketAddress remote) {
        if (remote instanceof java.net.InetSocketAddress) {
            java.net.InetSocketAddress a = (java.net.InetSocketAddress) remote;
            return a.getAddress().getHostAddress() + ':' + a.getPort();
        }
        return String.valueOf(remote);
    }

    /**
     * Tells how the exchange went for the upstream's health accounting: {@code true} once a response
     * head arrived, {@code false} when the upstream failed, {@code null} when the client gave up first.
     * Called at most once that counts.
     */
    default void outcome(@org.jspecify.annotations.Nullable Boolean success) {}

    /** Sees the head of the response (after {@link #outcome} with {@code true}), e.g. to count 5xx answers. */
    default void responded(io.netty.handler.codec.http.HttpResponse response) {}

    /** The status to answer with when the upstream cannot be reached. */
    io.netty.handler.codec.http.HttpResponseStatus unreachableStatus();
}
