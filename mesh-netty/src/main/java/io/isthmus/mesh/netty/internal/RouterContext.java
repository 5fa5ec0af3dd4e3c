package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;

/**
 * What the parts of one router share. The settings are fixed once the router starts; the TLS contexts
 * change when the site's credentials are replaced, and the drain flag when the router drains.
 */
final class RouterContext {

    final String site;
    final String trustDomain;
    final RouterSettings settings;
    final SslProvider sslProvider;
    final Transport transport;
    final ConfigFollower config;
    final MeshRouterListener listener;
    final RouterMetrics metrics;
    final RetryBudget retryBudget = new RetryBudget();
    /** The health of this site's origin endpoints and of other sites per pool. */
    final Health health = new Health();
    /** Load balancer listeners that could not be opened (port taken, or claimed twice). */
    final java.util.concurrent.atomic.AtomicLong listenerFailures = new java.util.concurrent.atomic.AtomicLong();
    /** The endpoints of this site's origins; replaced once, at start, by the builder's resolver. */
    Endpoints endpoints = new Endpoints(io.isthmus.mesh.netty.EndpointResolver.dns());
    /** Whether this site's own healthy origins are preferred within a priority; set once, at start. */
    boolean localSiteFirst;
    final int connectTimeoutMillis;
    final long responseTimeoutMillis;
    final long idleTimeoutMillis;
    volatile SiteCredentials credentials;
    volatile SslContext tunnelServerTls;
    volatile SslContext tunnelClientTls;
    private volatile boolean draining;
    private volatile long drainMillis = 30_000;

    RouterContext(SiteCredentials credentials, RouterSettings settings, SslProvider sslProvider, Transport transport,
            ConfigFollower config, RouterMetrics metrics) {
        this.site = credentials.site();
        this.trustDomain = credentials.spiffeId().trustDomain();
        this.settings = settings;
        this.credentials = credentials;
        this.sslProvider = sslProvider;
        this.tunnelServerTls = TlsContexts.server(credentials, sslProvider);
        this.tunnelClientTls = TlsContexts.client(credentials, sslProvider);
        this.transport = transport;
        this.config = config;
        this.listener = settings.listener;
        this.metrics = metrics;
        this.connectTimeoutMillis = settings.connectTimeoutMillis;
        this.responseTimeoutMillis = settings.responseTimeoutMillis;
        this.idleTimeoutMillis = settings.idleTimeoutMillis;
    }

    /** Uses new credentials for the TLS handshakes of connections made or accepted from now on. */
    void updateCredentials(SiteCredentials next) {
        SslContext server = TlsContexts.server(next, sslProvider);
        SslContext client = TlsContexts.client(next, sslProvider);
        tunnelServerTls = server;
        tunnelClientTls = client;
        credentials = next;
    }

    boolean draining() {
        return draining;
    }

    /** How long HTTP/2 connections closed by draining wait for their streams. */
    long drainMillis() {
        return drainMillis;
    }

    void startDraining(long deadlineMillis) {
        drainMillis = deadlineMillis;
        draining = true;
    }
}
