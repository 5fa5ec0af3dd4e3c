package io.isthmus.mesh.netty.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Where an exchange sends its request: an origin connection from a pool or a new stream of a tunnel.
 * The channel it provides ends in an {@link UpstreamHandler}.
 */
interface Upstream {

    /** Provides a channel on {@code loop} ready for one request, or fails with a reason. */
    Future<Channel> acquire(EventLoop loop);

    /**
     * Says the exchange no longer wants the channel {@link #acquire} is still providing (its client
     * left): an upstream that queues requests frees the request's place. By default nothing happens
     * and the channel, once provided, is given back.
     */
    default void abandon(Future<Channel> acquiring) {}

    /**
     * Gives back a channel after its exchange; {@code reusable} when both the request and the
     * response completed and the connection may carry another one.
     */
    void release(Channel channel, boolean reusable);

    /** Describes the destination for error messages and logs, e.g. {@code origin 10.0.0.7:8080}. */
    String describe();

    /** Names the address a channel of this upstream leads to, for the access log; found once per connection. */
    default String endpoint(Channel channel) {
        Channel connection = channel.parent() != null ? channel.parent() : channel;
        io.netty.util.Attribute<String> named = connection.attr(ENDPOINT);
        String endpoint = named.get();
        if (endpoint == null) {
            java.net.SocketAddress remote = connection.remoteAddress();
            if (remote instanceof java.net.InetSocketAddress) {
                java.net.InetSocketAddress a = (java.net.InetSocketAddress) remote;
                endpoint = a.getAddress().getHostAddress() + ':' + a.getPort();
            } else {
                endpoint = String.valueOf(remote);
            }
            named.set(endpoint);
        }
        return endpoint;
    }

    /** The address a connection leads to, as {@link #endpoint} names it. */
    io.netty.util.AttributeKey<String> ENDPOINT = io.netty.util.AttributeKey.valueOf("isthmus.endpoint");

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
