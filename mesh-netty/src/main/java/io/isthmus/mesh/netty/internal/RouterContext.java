package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;

/** What the parts of one router share; immutable once the router starts. */
final class RouterContext {

    final String site;
    final String trustDomain;
    final SiteCredentials credentials;
    final SslProvider sslProvider;
    final SslContext tunnelServerTls;
    final SslContext tunnelClientTls;
    final Transport transport;
    final ConfigFollower config;
    final MeshRouterListener listener;
    final int connectTimeoutMillis;
    final long responseTimeoutMillis;
    final long idleTimeoutMillis;

    RouterContext(SiteCredentials credentials, SslProvider sslProvider, Transport transport, ConfigFollower config,
            MeshRouterListener listener, int connectTimeoutMillis, long responseTimeoutMillis, long idleTimeoutMillis) {
        this.site = credentials.site();
        this.trustDomain = credentials.spiffeId().trustDomain();
        this.credentials = credentials;
        this.sslProvider = sslProvider;
        this.tunnelServerTls = TlsContexts.server(credentials, sslProvider);
        this.tunnelClientTls = TlsContexts.client(credentials, sslProvider);
        this.transport = transport;
        this.config = config;
        this.listener = listener;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.responseTimeoutMillis = responseTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
    }
}
