package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.MeshException;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;

/**
 * The TLS settings of tunnels: TLS 1.3 only, client certificates required, trust limited to the mesh
 * trust bundle, ALPN {@code h2}. BoringSSL (netty-tcnative) is used when present, the JDK otherwise.
 */
public final class TlsContexts {

    private static final String TLS_13 = "TLSv1.3";

    private TlsContexts() {}

    /** Returns the TLS implementation tunnels use on this machine. */
    public static SslProvider provider() {
        try {
            return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        } catch (LinkageError e) {
            return SslProvider.JDK;
        }
    }

    /** Describes the TLS implementation for start-up logs. */
    public static String describeProvider(SslProvider provider) {
        return provider == SslProvider.JDK
                ? "JDK " + System.getProperty("java.version")
                : OpenSsl.versionString() + " (netty-tcnative)";
    }

    static SslContext server(SiteCredentials credentials, SslProvider provider) {
        try {
            return configure(SslContextBuilder.forServer(credentials.privateKey(), chain(credentials)), credentials,
                    provider)
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
        } catch (SSLException e) {
            throw new MeshException("tunnel TLS server context for site " + credentials.site() + ": " + e.getMessage(), e);
        }
    }

    static SslContext client(SiteCredentials credentials, SslProvider provider) {
        try {
            return configure(SslContextBuilder.forClient().keyManager(credentials.privateKey(), chain(credentials)),
                    credentials, provider)
                    .build();
        } catch (SSLException e) {
            throw new MeshException("tunnel TLS client context for site " + credentials.site() + ": " + e.getMessage(), e);
        }
    }

    private static SslContextBuilder configure(SslContextBuilder builder, SiteCredentials credentials,
            SslProvider provider) {
        return builder
                .sslProvider(provider)
                .protocols(TLS_13)
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .trustManager(credentials.trustBundle().roots().toArray(new X509Certificate[0]))
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2));
    }

    private static X509Certificate[] chain(SiteCredentials credentials) {
        return credentials.certificateChain().toArray(new X509Certificate[0]);
    }
}
