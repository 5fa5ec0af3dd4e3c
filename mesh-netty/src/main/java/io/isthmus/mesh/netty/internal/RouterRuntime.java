package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The running parts of one router: event loops, listeners, config follower. */
public final class RouterRuntime implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(RouterRuntime.class);

    private final RouterContext router;
    private final EventLoopGroup group;
    private final Channel ingress;
    private final Channel tunnel;
    final ConnectionLimiter ingressConnections;
    final ConnectionLimiter tunnelConnections;
    final TunnelClient tunnels;
    private volatile boolean closed;
    private @Nullable HealthChecker healthChecker;
    private @Nullable LoadBalancerListeners lbListeners;
    final java.util.concurrent.atomic.AtomicLong listenerFailures;

    private RouterRuntime(RouterContext router, EventLoopGroup group, Channel ingress, Channel tunnel,
            ConnectionLimiter ingressConnections, ConnectionLimiter tunnelConnections, TunnelClient tunnels) {
        this.router = router;
        this.group = group;
        this.ingress = ingress;
        this.tunnel = tunnel;
        this.ingressConnections = ingressConnections;
        this.tunnelConnections = tunnelConnections;
        this.tunnels = tunnels;
        this.listenerFailures = router.listenerFailures;
    }

    /** Starts a router: follows the store, binds both listeners, and returns once they accept. */
    public static RouterRuntime start(SiteCredentials credentials, ConfigStore store, RouterSettings settings) {
        return start(credentials, store, settings, io.isthmus.mesh.netty.EndpointResolver.dns(), false);
    }

    /**
     * Starts a router whose Kubernetes-service origins are resolved by {@code resolver}; with {@code
     * localSiteFirst} its own healthy origins are preferred within a priority.
     */
    public static RouterRuntime start(SiteCredentials credentials, ConfigStore store, RouterSettings settings,
            io.isthmus.mesh.netty.EndpointResolver resolver, boolean localSiteFirst) {
        Transport transport = Transport.best();
        SslProvider provider = TlsContexts.provider();
        java.util.concurrent.atomic.AtomicReference<java.util.function.Consumer<RoutingTable>> onTable =
                new java.util.concurrent.atomic.AtomicReference<>(t -> {});
        ConfigFollower config = new ConfigFollower(store, credentials.site(), table -> {
            onTable.get().accept(table);
            settings.listener.configApplied(table.revision());
        });
        RouterMetrics metrics = settings.meterRegistry == null
                ? RouterMetrics.NOOP
                : MicrometerMetrics.create(settings.meterRegistry, credentials.site());
        RouterContext router = new RouterContext(credentials, settings, provider, transport, config, metrics);
        router.endpoints = new Endpoints(resolver);
        router.localSiteFirst = localSiteFirst;
        config.start();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(settings.ioThreads,
                new DefaultThreadFactory("isthmus-" + credentials.site(), true), transport.ioHandlerFactory());
        OriginConnector origins = new OriginConnector(transport, router.connectTimeoutMillis, router.idleTimeoutMillis,
                new OriginLimits(settings.maxConnectionsPerOrigin, settings.maxPendingRequestsPerOrigin, settings.ioThreads));
        TunnelClient tunnels = new TunnelClient(router);
        ConnectionLimiter ingressConnections = new ConnectionLimiter("ingress", settings.maxConnections, config, null);
        ConnectionLimiter tunnelConnections = new ConnectionLimiter("tunnel", settings.maxConnections, config, null);
        try {
            Channel ingress = server(group, transport)
                    .handler(ingressConnections)
                    .childHandler(new IngressInitializer(router, origins, tunnels))
                    .bind(settings.ingressAddress).syncUninterruptibly().channel();
            Channel tunnel = server(group, transport)
                    .handler(tunnelConnections)
                    .childHandler(new TunnelAcceptor(router, origins))
                    .bind(settings.tunnelAddress).syncUninterruptibly().channel();
            logger.info("site {}: ingress on {} (HTTP/1.1, h2c), tunnels on {} (TLS 1.3 with {}, {} transport, "
                    + "{} I/O threads)", router.site, ingress.localAddress(), tunnel.localAddress(),
                    TlsContexts.describeProvider(provider), transport.name().toLowerCase(Locale.ROOT),
                    settings.ioThreads);
            RouterRuntime runtime = new RouterRuntime(router, group, ingress, tunnel, ingressConnections,
                    tunnelConnections, tunnels);
            metrics.bind(runtime);
            HealthChecker checker = new HealthChecker(router, group.next());
            checker.start();
            runtime.healthChecker = checker;
            LoadBalancerListeners tcp = new LoadBalancerListeners(router, group, origins, tunnels,
                    (InetSocketAddress) ingress.localAddress());
            runtime.lbListeners = tcp;
            onTable.set(tcp::reconcile);
            tcp.reconcile(config.current());
            return runtime;
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            config.close();
            metrics.close();
            throw new MeshException("site " + credentials.site() + ": cannot listen on " + settings.ingressAddress
                    + " and " + settings.tunnelAddress + ": " + Exchange.describe(e), e);
        }
    }

    private static ServerBootstrap server(EventLoopGroup group, Transport transport) {
        return new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true);
    }

    /** @return the bound ingress address */
    public InetSocketAddress ingressAddress() {
        return (InetSocketAddress) ingress.localAddress();
    }

    /** @return the bound tunnel address */
    public InetSocketAddress tunnelAddress() {
        return (InetSocketAddress) tunnel.localAddress();
    }

    /** @return the TLS implementation in use, e.g. {@code BoringSSL (...)} */
    public String tlsProvider() {
        return TlsContexts.describeProvider(router.sslProvider);
    }

    /** @return the config store revision currently routed by */
    public long appliedRevision() {
        return router.config.current().revision();
    }

    /** @return the site this router serves */
    String site() {
        return router.site;
    }

    /** Uses new credentials for tunnels dialled or accepted from now on; open tunnels go on. */
    public void updateCredentials(SiteCredentials credentials) {
        router.updateCredentials(credentials);
        tunnels.retireConnections();
        logger.info("site {}: new credentials in use for new tunnels (certificate serial {})", router.site,
                credentials.certificate().getSerialNumber().toString(16));
    }

    /**
     * Stops accepting connections, lets open exchanges finish (HTTP/1.1 responses carry {@code
     * Connection: close}, HTTP/2 connections get GOAWAY) and closes every connection when they are done
     * or when the deadline passes. The returned future completes once every connection is closed.
     */
    public CompletableFuture<Void> drain(Duration deadline) {
        long deadlineMillis = Math.max(1, deadline.toMillis());
        router.startDraining(deadlineMillis);
        ingressConnections.close();
        tunnelConnections.close();
        LoadBalancerListeners tcp = lbListeners;
        List<Channel> dedicated = new ArrayList<>();
        if (tcp != null) {
            tcp.close();
            dedicated.addAll(tcp.httpConnections());
        }
        ingress.close();
        tunnel.close();
        logger.info("site {}: draining {} ingress and {} tunnel connections (deadline {} ms)", router.site,
                ingressConnections.open(), tunnelConnections.open(), deadlineMillis);
        List<Channel> all = new ArrayList<>(ingressConnections.channels());
        all.addAll(dedicated);
        all.addAll(tunnelConnections.channels());
        for (Channel ch : all) {
            ch.eventLoop().execute(() -> {
                if (ch.pipeline().get(Http2FrameCodec.class) != null) {
                    // Http2ConnectionHandler#close sends GOAWAY and waits for the open streams, at most
                    // gracefulShutdownTimeoutMillis (the drain deadline).
                    ch.close();
                } else {
                    ch.pipeline().fireUserEventTriggered(ProxyHandler.DRAIN);
                }
            });
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<CompletableFuture<Void>> closes = new ArrayList<>();
        for (Channel ch : all) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            ch.closeFuture().addListener(x -> f.complete(null));
            closes.add(f);
        }
        CompletableFuture<Void> connectionsClosed = CompletableFuture.allOf(closes.toArray(CompletableFuture<?>[]::new))
                .thenCompose(v -> tunnels.drain());
        group.schedule(() -> {
            if (!connectionsClosed.isDone()) {
                logger.warn("site {}: drain deadline of {} ms passed; closing what is still open", router.site,
                        deadlineMillis);
                ingressConnections.channels().close();
                dedicated.forEach(Channel::close);
                tunnelConnections.channels().close();
                tunnels.closeAll();
            }
        }, deadlineMillis, TimeUnit.MILLISECONDS);
        connectionsClosed.whenComplete((v, e) -> done.complete(null));
        return done;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        HealthChecker checker = healthChecker;
        if (checker != null) {
            checker.close();
        }
        LoadBalancerListeners tcp = lbListeners;
        if (tcp != null) {
            tcp.close();
            tcp.httpConnections().close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        ingress.close().syncUninterruptibly();
        tunnel.close().syncUninterruptibly();
        // Shutting the event loops down does not close the accepted connections: without this, peers
        // would keep sending on tunnels nobody reads any more.
        ingressConnections.channels().close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        tunnelConnections.channels().close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        tunnels.closeAll();
        router.config.close();
        router.endpoints.close();
        router.metrics.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
