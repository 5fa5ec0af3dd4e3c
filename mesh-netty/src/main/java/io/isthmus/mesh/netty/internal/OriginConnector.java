package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.HashKey;
import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.OutlierDetection;
import io.isthmus.mesh.snapshot.CompiledPool;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Keeps HTTP/1.1 keep-alive connections to origin endpoints. Each event loop has its own idle
 * connections, so a request and its origin connection always share one thread and no lock. The
 * connections per endpoint and the requests waiting for one are bounded (see {@link OriginSlots}).
 */
final class OriginConnector {

    final Transport transport;
    final int connectTimeoutMillis;
    private final long idleTimeoutMillis;
    private final OriginLimits limits;
    private final FastThreadLocal<LoopState> state = new FastThreadLocal<>() {
        @Override
        protected LoopState initialValue() {
            return new LoopState();
        }
    };

    OriginConnector(Transport transport, int connectTimeoutMillis, long idleTimeoutMillis, OriginLimits limits) {
        this.transport = transport;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.limits = limits;
    }

    /**
     * Returns the upstream for one request to the origins a pool has at this site: those of the most
     * preferred priority with a healthy endpoint, spread by the pool's algorithm.
     *
     * @param clientIp the client's address, for a consistent hash on the source IP
     * @throws RouteException 421 when the pool has no origin at this site, 503 when none is healthy or
     *     the chosen endpoint's connections and queue are full ({@link OriginSlots#OVERLOADED})
     */
    Upstream upstream(RouterContext router, CompiledPool pool, HttpRequest request, @Nullable InetAddress clientIp) {
        Endpoint endpoint = endpoint(router, pool, request, clientIp);
        OriginSlots slots = state.get().slots(endpoint, limits);
        if (slots.full()) {
            throw slots.overloaded(pool.pool().key().qualifiedName());
        }
        return new OriginUpstream(endpoint, slots, router.health, pool.pool().outlierDetection());
    }

    /**
     * Chooses the endpoint for one request or connection to the origins a pool has at this site.
     *
     * @param request the request, for a hash on a header or cookie; {@code null} for a TCP connection
     * @throws RouteException 421 when the pool has no origin at this site, 503 when none is healthy
     */
    Endpoint endpoint(RouterContext router, CompiledPool pool, @Nullable HttpRequest request,
            @Nullable InetAddress clientIp) {
        OriginPool model = pool.pool();
        boolean any = false;
        LoopState loop = state.get();
        // The thread's lists, filled anew per group: choosing keeps neither.
        List<Endpoint> healthy = loop.healthy;
        List<Integer> weights = loop.weights;
        for (CompiledPool.PriorityGroup group : pool.priorities()) {
            if (!group.sites().contains(router.site)) {
                continue;
            }
            healthy.clear();
            weights.clear();
            for (Origin origin : group.origins()) {
                if (!origin.siteIn(model).equals(router.site)) {
                    continue;
                }
                any = true;
                for (Endpoint endpoint : router.endpoints.of(origin)) {
                    if (router.health.healthy(endpoint)) {
                        healthy.add(endpoint);
                        weights.add(origin.weight());
                    }
                }
            }
            if (!healthy.isEmpty()) {
                Endpoint chosen = choose(model, healthy, weights, request, clientIp);
                healthy.clear();
                weights.clear();
                return chosen;
            }
        }
        String name = model.key().qualifiedName();
        if (!any) {
            throw new RouteException(HttpResponseStatus.MISDIRECTED_REQUEST, "pool_at_other_site",
                    "origin pool " + name + " has no origin at site " + router.site);
        }
        throw new RouteException(HttpResponseStatus.SERVICE_UNAVAILABLE, Failover.NO_HEALTHY_ORIGIN,
                "no healthy origin: origin pool " + name + " has no healthy origin at site " + router.site);
    }

    private Endpoint choose(OriginPool pool, List<Endpoint> endpoints, List<Integer> weights,
            @Nullable HttpRequest request, @Nullable InetAddress clientIp) {
        int n = endpoints.size();
        if (n == 1) {
            return endpoints.get(0);
        }
        LoopState loop = state.get();
        switch (pool.algorithm()) {
            case LEAST_REQUEST: {
                // The fewest requests in flight relative to weight; ties go round robin.
                int start = Math.floorMod(loop.next++, n);
                Endpoint best = null;
                double bestLoad = Double.MAX_VALUE;
                for (int i = 0; i < n; i++) {
                    int k = (start + i) % n;
                    Endpoint e = endpoints.get(k);
                    OriginSlots slots = loop.slots.get(e);
                    double load = ((slots == null ? 0 : slots.inFlight) + 1.0) / weights.get(k);
                    if (load < bestLoad) {
                        best = e;
                        bestLoad = load;
                    }
                }
                return best;
            }
            case CONSISTENT_HASH: {
                String key = hashKey(pool.hashKey(), request, clientIp);
                if (key != null) {
                    return Balancing.rendezvous(key, endpoints, weights);
                }
                // No key in this request: spread it like round robin.
                return Balancing.weightedRoundRobin(loop.next++, endpoints, weights);
            }
            default:
                return Balancing.weightedRoundRobin(loop.next++, endpoints, weights);
        }
    }

    private static @Nullable String hashKey(@Nullable HashKey key, @Nullable HttpRequest request,
            @Nullable InetAddress clientIp) {
        if (key == null) {
            return null;
        }
        switch (key.type()) {
            case HEADER:
                return request == null ? null : request.headers().get(key.name());
            case COOKIE:
                return request == null ? null
                        : Balancing.cookie(request.headers().getAll(HttpHeaderNames.COOKIE), key.name());
            default:
                return clientIp == null ? null : clientIp.getHostAddress();
        }
    }

    private static final class LoopState {
        final Map<Endpoint, OriginSlots> slots = new HashMap<>();
        /** Scratch lists of {@link #endpoint}: the healthy endpoints of a priority group and their weights. */
        final List<Endpoint> healthy = new ArrayList<>(4);
        final List<Integer> weights = new ArrayList<>(4);
        int next;

        OriginSlots slots(Endpoint endpoint, OriginLimits limits) {
            OriginSlots s = slots.get(endpoint);
            if (s == null) {
                s = new OriginSlots(endpoint, limits);
                slots.put(endpoint, s);
            }
            return s;
        }
    }

    private final class OriginUpstream implements Upstream {

        private final Endpoint endpoint;
        /** This loop's connections to the endpoint, its idle ones and its requests in flight. */
        private final OriginSlots slots;
        private final Health health;
        private final @Nullable OutlierDetection outliers;
        private boolean counted = true;

        OriginUpstream(Endpoint endpoint, OriginSlots slots, Health health, @Nullable OutlierDetection outliers) {
            this.endpoint = endpoint;
            this.slots = slots;
            this.health = health;
            this.outliers = outliers;
            slots.inFlight++;
        }

        @Override
        public void outcome(@Nullable Boolean success) {
            if (counted) {
                counted = false;
                slots.inFlight--;
            }
            if (Boolean.FALSE.equals(success)) {
                health.outcome(endpoint, true, outliers);
            }
        }

        @Override
        public void responded(HttpResponse response) {
            health.outcome(endpoint, response.status().code() >= 500, outliers);
        }

        @Override
        public Future<UpstreamLink> acquire(EventLoop loop) {
            UpstreamHandler idle;
            while ((idle = slots.idle.pollLast()) != null) {
                if (idle.isActive()) {
                    return loop.newSucceededFuture(idle);
                }
            }
            Promise<UpstreamLink> promise = loop.newPromise();
            if (!slots.mayOpen()) {
                if (!slots.await(promise)) {
                    // Only a retry gets here: new requests were refused when routed.
                    promise.setFailure(slots.overloaded(endpoint.toString()));
                }
                return promise;
            }
            connect(loop, slots, promise);
            return promise;
        }

        /** Opens a connection in one of this loop's slots for the endpoint and completes {@code promise} with it. */
        private void connect(EventLoop loop, OriginSlots slots, Promise<UpstreamLink> promise) {
            slots.opening();
            UpstreamHandler handler = new UpstreamHandler(idleTimeoutMillis, slots);
            ChannelFuture connect = new Bootstrap()
                    .group(loop)
                    .channel(transport.clientChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            HttpDecoderConfig responses = new HttpDecoderConfig().setTrailersFactory(Headers.TRAILERS);
                            ch.pipeline().addLast(new HttpClientCodec(responses, false, false), handler);
                        }
                    })
                    .connect(endpoint.host(), endpoint.port());
            // Whether it failed to open or closed later, the slot is free again for a waiting request.
            connect.channel().closeFuture().addListener(f -> {
                slots.closed();
                Promise<UpstreamLink> next = slots.mayOpen() ? slots.nextWaiting() : null;
                if (next != null) {
                    connect(loop, slots, next);
                }
            });
            connect.addListener(f -> {
                if (f.isSuccess()) {
                    if (!promise.trySuccess(handler)) {
                        // The request gave up meanwhile: the new connection serves the next one.
                        slots.release(handler, true);
                    }
                } else {
                    promise.tryFailure(f.cause());
                }
            });
        }

        @Override
        public void abandon(Future<UpstreamLink> acquiring) {
            // Leaves the endpoint's queue, or lets the connection being opened serve the next request.
            acquiring.cancel(false);
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
