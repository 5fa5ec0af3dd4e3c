package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.OriginPool;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keeps HTTP/1.1 keep-alive connections to origin endpoints. Each event loop has its own idle
 * connections, so a request and its origin connection always share one thread and no lock.
 */
final class OriginConnector {

    private final Transport transport;
    private final int connectTimeoutMillis;
    private final long idleTimeoutMillis;
    private final FastThreadLocal<LoopState> state = new FastThreadLocal<>() {
        @Override
        protected LoopState initialValue() {
            return new LoopState();
        }
    };

    OriginConnector(Transport transport, int connectTimeoutMillis, long idleTimeoutMillis) {
        this.transport = transport;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
    }

    /** Returns the upstream for one request to a pool; picks the endpoint round robin. */
    Upstream upstream(OriginPool pool) {
        List<Endpoint> endpoints = pool.endpoints();
        Endpoint endpoint = endpoints.size() == 1
                ? endpoints.get(0)
                : endpoints.get(Math.floorMod(state.get().next++, endpoints.size()));
        return new OriginUpstream(endpoint);
    }

    private static final class LoopState {
        final Map<Endpoint, ArrayDeque<Channel>> idle = new HashMap<>();
        int next;
    }

    private final class OriginUpstream implements Upstream {

        private final Endpoint endpoint;

        OriginUpstream(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        @Override
        public Future<Channel> acquire(EventLoop loop) {
            ArrayDeque<Channel> idle = state.get().idle.get(endpoint);
            if (idle != null) {
                Channel ch;
                while ((ch = idle.pollLast()) != null) {
                    if (ch.isActive()) {
                        return loop.newSucceededFuture(ch);
                    }
                }
            }
            Promise<Channel> promise = loop.newPromise();
            ChannelFuture connect = new Bootstrap()
                    .group(loop)
                    .channel(transport.clientChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(
                                    new IdleStateHandler(0, 0, idleTimeoutMillis, TimeUnit.MILLISECONDS),
                                    new HttpClientCodec(new HttpDecoderConfig(), false, false),
                                    new UpstreamHandler());
                        }
                    })
                    .connect(endpoint.host(), endpoint.port());
            connect.addListener(f -> {
                if (f.isSuccess()) {
                    promise.setSuccess(connect.channel());
                } else {
                    promise.setFailure(f.cause());
                }
            });
            return promise;
        }

        @Override
        public void release(Channel channel, boolean reusable) {
            if (!reusable || !channel.isActive()) {
                channel.close();
                return;
            }
            ArrayDeque<Channel> idle = state.get().idle.computeIfAbsent(endpoint, e -> new ArrayDeque<>());
            idle.addLast(channel);
            channel.pipeline().get(UpstreamHandler.class).onIdleClose(() -> idle.remove(channel));
        }

        @Override
        public String describe() {
            return "origin " + endpoint;
        }

        @Override
        public HttpResponseStatus unreachableStatus() {
            return HttpResponseStatus.SERVICE_UNAVAILABLE;
        }
    }
}
