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
     * Gives back a channel after its exchange; {@code reusable} when both the request and the
     * response completed and the connection may carry another one.
     */
    void release(Channel channel, boolean reusable);

    /** Describes the destination for error messages and logs, e.g. {@code origin 10.0.0.7:8080}. */
    String describe();

    /** The status to answer with when the upstream cannot be reached. */
    io.netty.handler.codec.http.HttpResponseStatus unreachableStatus();
}
