package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The running parts of one router: event loops, listeners, config follower. */
public final class RouterRuntime implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(RouterRuntime.class);

    private final RouterContext router;
    private final EventLoopGroup group;
    private final Channel ingress;
    private final Channel tunnel;

    private RouterRuntime(RouterContext router, EventLoopGroup group, Channel ingress, Channel tunnel) {
        this.router = router;
        this.group = group;
        this.ingress = ingress;
        this.tunnel = tunnel;
    }

    /** Starts a router: follows the store, binds both listeners, and returns once they accept. */
    public static RouterRuntime start(SiteCredentials credentials, ConfigStore store, MeshRouterListener listener,
            InetSocketAddress ingressAddress, InetSocketAddress tunnelAddress, int ioThreads, Duration connectTimeout,
            Duration responseTimeout, Duration idleTimeout) {
        Transport transport = Transport.best();
        SslProvider provider = TlsContexts.provider();
        ConfigFollower config = new ConfigFollower(store, credentials.site(), table -> listener.configApplied(table.revision()));
        RouterContext router = new RouterContext(credentials, provider, transport, config, listener,
                (int) connectTimeout.toMillis(), responseTimeout.toMillis(), idleTimeout.toMillis());
        config.start();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(ioThreads,
                new DefaultThreadFactory("isthmus-" + credentials.site(), true), transport.ioHandlerFactory());
        OriginConnector origins = new OriginConnector(transport, router.connectTimeoutMillis, router.idleTimeoutMillis);
        TunnelClient tunnels = new TunnelClient(router);
        try {
            Channel ingress = server(group, transport)
                    .childHandler(new IngressInitializer(router, origins, tunnels))
                    .bind(ingressAddress).syncUninterruptibly().channel();
            Channel tunnel = server(group, transport)
                    .childHandler(new TunnelAcceptor(router, origins))
                    .bind(tunnelAddress).syncUninterruptibly().channel();
            logger.info("site {}: ingress on {}, tunnels on {} (TLS 1.3 with {}, {} transport, {} I/O threads)",
                    router.site, ingress.localAddress(), tunnel.localAddress(), TlsContexts.describeProvider(provider),
                    transport.name().toLowerCase(java.util.Locale.ROOT), ioThreads);
            return new RouterRuntime(router, group, ingress, tunnel);
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            config.close();
            throw new MeshException("site " + credentials.site() + ": cannot listen on " + ingressAddress + " and "
                    + tunnelAddress + ": " + Exchange.describe(e), e);
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

    @Override
    public void close() {
        ingress.close().syncUninterruptibly();
        tunnel.close().syncUninterruptibly();
        router.config.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
