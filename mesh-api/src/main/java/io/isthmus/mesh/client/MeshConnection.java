package io.isthmus.mesh.client;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.internal.TlsSettings;
import io.isthmus.mesh.internal.Preconditions;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import io.isthmus.mesh.pki.SpiffeId;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * How to reach a router daemon's admin API: its URL, the credentials to present and the certificates
 * to trust. Immutable and safe to share; {@link MeshClient#connect(MeshConnection)} and
 * {@link MeshAdmin#connect(MeshConnection)} open clients with it.
 *
 * <pre>{@code
 * MeshConnection connection = MeshConnection.builder(URI.create("https://10.0.0.5:9443"))
 *         .bearerToken(System.getenv("ISTHMUS_TOKEN"))
 *         .trustedCertificatesPem(Files.readString(Path.of("mesh-ca.pem")))
 *         .build();
 * try (MeshClient client = MeshClient.connect(connection)) {
 *     client.store().list(Kind.LOAD_BALANCER).forEach(System.out::println);
 * }
 * }</pre>
 *
 * <p>TLS verification is on by default: the server's certificate must chain to the trusted
 * certificates (the JDK's trust store when none are given) and name the URL's host. The PEM texts
 * are read when {@link Builder#build()} runs, so that a malformed certificate or key fails there.
 */
public final class MeshConnection {

    /** The default time allowed to open a connection. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** The default time allowed for a response to one request (watches are not limited). */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** The default time a watch waits for an event or heartbeat before it reconnects (three heartbeats). */
    public static final Duration DEFAULT_WATCH_IDLE_TIMEOUT = Duration.ofSeconds(45);
    /** The port of the router ingress when none is given. */
    public static final int DEFAULT_INGRESS_PORT = 8080;

    private final URI adminUrl;
    private final @Nullable String bearerToken;
    private final @Nullable String trustedCertificatesPem;
    private final @Nullable String clientCertificateChainPem;
    private final @Nullable String clientPrivateKeyPem;
    private final URI ingress;
    private final Duration connectTimeout;
    private final Duration requestTimeout;
    private final Duration watchIdleTimeout;
    private final boolean insecureSkipTlsVerify;
    private final @Nullable SpiffeId serverIdentity;
    private final SSLContext sslContext;

    private MeshConnection(Builder b) {
        adminUrl = b.adminUrl;
        bearerToken = b.bearerToken;
        trustedCertificatesPem = b.trustedCertificatesPem;
        clientCertificateChainPem = b.clientCertificateChainPem;
        clientPrivateKeyPem = b.clientPrivateKeyPem;
        ingress = b.ingress != null ? b.ingress : defaultIngress(b.adminUrl);
        connectTimeout = b.connectTimeout;
        requestTimeout = b.requestTimeout;
        watchIdleTimeout = b.watchIdleTimeout;
        insecureSkipTlsVerify = b.insecureSkipTlsVerify;
        serverIdentity = b.serverIdentity;
        sslContext = TlsSettings.sslContext(trustedCertificatesPem, clientCertificateChainPem, clientPrivateKeyPem,
                insecureSkipTlsVerify, serverIdentity);
    }

    /**
     * Starts settings for the admin API at {@code adminUrl}.
     *
     * @param adminUrl the admin API's base URL, e.g. {@code https://10.0.0.5:9443}
     * @return a new builder
     * @throws IllegalArgumentException when the URL is not an absolute http or https URL with a host
     */
    public static Builder builder(URI adminUrl) {
        return new Builder(adminUrl);
    }

    private static URI defaultIngress(URI adminUrl) {
        String host = adminUrl.getHost();
        return URI.create("http://" + host + ':' + DEFAULT_INGRESS_PORT);
    }

    /** @return the admin API's base URL, without a trailing slash */
    public URI adminUrl() {
        return adminUrl;
    }

    /** @return the bearer token sent with every {@code /v1} request, or {@code null} when none is sent */
    public @Nullable String bearerToken() {
        return bearerToken;
    }

    /** @return the PEM certificates trusted for the server, or {@code null} for the JDK's trust store */
    public @Nullable String trustedCertificatesPem() {
        return trustedCertificatesPem;
    }

    /** @return whether a client certificate is presented (mutual TLS) */
    public boolean hasClientCredentials() {
        return clientCertificateChainPem != null;
    }

    /** @return the router ingress that applications send their requests to */
    public URI ingress() {
        return ingress;
    }

    /** @return the time allowed to open a connection */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** @return the time allowed for the response to one request */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Returns how long a watch waits for its response, or for the next event or heartbeat, before it drops
     * the connection and resumes from the last revision on a new one.
     *
     * @return the idle time-out of watches
     */
    public Duration watchIdleTimeout() {
        return watchIdleTimeout;
    }

    /** @return whether the server's certificate is accepted without any verification */
    public boolean insecureSkipTlsVerify() {
        return insecureSkipTlsVerify;
    }

    /**
     * Returns the mesh identity the admin API must prove, when the settings check one instead of the
     * host name.
     *
     * @return the expected SPIFFE id, or {@code null} when the host name is checked
     */
    public @Nullable SpiffeId serverIdentity() {
        return serverIdentity;
    }

    /**
     * Returns the TLS context built from these settings.
     *
     * @return the TLS context
     */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** Returns a description naming the URL and what is configured; secrets are never part of it. */
    @Override
    public String toString() {
        return "MeshConnection{" + adminUrl + (bearerToken != null ? ", bearer token" : "")
                + (clientCertificateChainPem != null ? ", client certificate" : "")
                + (trustedCertificatesPem != null ? ", trusted certificates" : "")
                + (insecureSkipTlsVerify ? ", INSECURE" : "") + ", ingress=" + ingress + '}';
    }

    /** Builds {@link MeshConnection} settings. Not thread-safe; build once, share the result. */
    public static final class Builder {

        private final URI adminUrl;
        private @Nullable String bearerToken;
        private @Nullable String trustedCertificatesPem;
        private @Nullable String clientCertificateChainPem;
        private @Nullable String clientPrivateKeyPem;
        private @Nullable URI ingress;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration watchIdleTimeout = DEFAULT_WATCH_IDLE_TIMEOUT;
        private boolean insecureSkipTlsVerify;
        private @Nullable SpiffeId serverIdentity;

        private Builder(URI adminUrl) {
            requireNonNull(adminUrl, "adminUrl");
            String scheme = adminUrl.getScheme() == null ? "" : adminUrl.getScheme().toLowerCase(Locale.ROOT);
            Preconditions.checkArgument((scheme.equals("http") || scheme.equals("https")) && adminUrl.getHost() != null
                    && adminUrl.getRawQuery() == null && adminUrl.getRawFragment() == null,
                    "adminUrl: %s (expected: an http or https URL with a host and no query, e.g. https://10.0.0.5:9443)",
                    adminUrl);
            String text = adminUrl.toString();
            this.adminUrl = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        }

        /**
         * Sends {@code Authorization: Bearer <token>} with every {@code /v1} request.
         *
         * @param token the token
         * @return this builder
         * @throws IllegalArgumentException when the token is blank or holds whitespace or control characters
         */
        public Builder bearerToken(String token) {
            requireNonNull(token, "token");
            Preconditions.checkArgument(!token.isEmpty() && token.chars().allMatch(c -> c > 0x20 && c < 0x7f),
                    "token: %s characters (expected: non-empty, printable ASCII without spaces)", token.length());
            bearerToken = token;
            return this;
        }

        /**
         * Trusts the certificates of a PEM bundle (e.g. the mesh CA's) for the server, instead of the JDK's
         * trust store.
         *
         * @param pem one or more {@code CERTIFICATE} PEM blocks
         * @return this builder
         */
        public Builder trustedCertificatesPem(String pem) {
            trustedCertificatesPem = requireNonNull(pem, "pem");
            return this;
        }

        /**
         * Presents a client certificate (mutual TLS), e.g. a site certificate of the mesh CA whose SPIFFE id
         * the daemon maps to a role.
         *
         * @param certificateChainPem the certificate, then any intermediates
         * @param privateKeyPem the certificate's private key, PKCS#8 or SEC1/PKCS#1, unencrypted
         * @return this builder
         */
        public Builder clientCredentials(String certificateChainPem, String privateKeyPem) {
            clientCertificateChainPem = requireNonNull(certificateChainPem, "certificateChainPem");
            clientPrivateKeyPem = requireNonNull(privateKeyPem, "privateKeyPem");
            return this;
        }

        /**
         * Sets the router ingress that applications send requests to; by default
         * {@code http://<admin host>:8080}.
         *
         * @param ingress an http URI with a host
         * @return this builder
         * @throws IllegalArgumentException when {@code ingress} is not an http URI with a host
         */
        public Builder ingress(URI ingress) {
            requireNonNull(ingress, "ingress");
            String scheme = ingress.getScheme() == null ? "" : ingress.getScheme().toLowerCase(Locale.ROOT);
            Preconditions.checkArgument(scheme.equals("http") && ingress.getHost() != null,
                    "ingress: %s (expected: an http URI with a host, e.g. http://127.0.0.1:8080)", ingress);
            this.ingress = ingress;
            return this;
        }

        /**
         * Sets the time allowed to open a connection; default 10 seconds.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Sets the time allowed for the response to one request; default 30 seconds. Watches are not
         * limited by it.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder requestTimeout(Duration timeout) {
            requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /**
         * Sets how long a watch waits for its response, or for the next event or heartbeat (the admin API
         * sends one every 15 seconds), before it reconnects; default 45 seconds.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder watchIdleTimeout(Duration timeout) {
            watchIdleTimeout = positive(timeout, "watchIdleTimeout");
            return this;
        }

        /**
         * Accepts any server certificate, for any host name. Only for throw-away development setups: anyone
         * on the path can read and change the traffic, including the bearer token.
         *
         * @param insecure whether to skip verification
         * @return this builder
         */
        public Builder insecureSkipTlsVerify(boolean insecure) {
            insecureSkipTlsVerify = insecure;
            return this;
        }

        /**
         * Checks the admin API's certificate as a mesh identity instead of by host name: it must chain
         * to the {@linkplain #trustedCertificatesPem(String) trusted certificates} and carry exactly
         * this SPIFFE id, e.g. {@code spiffe://mesh.example/site/tokyo} for the router daemon of site
         * {@code tokyo}, whose admin API presents its site certificate.
         *
         * @param identity the identity the server must prove
         * @return this builder
         */
        public Builder serverIdentity(SpiffeId identity) {
            serverIdentity = requireNonNull(identity, "identity");
            return this;
        }

        /**
         * Builds the settings, reading the PEM texts.
         *
         * @return the settings
         * @throws IllegalArgumentException when trusted certificates are given together with
         *     {@code insecureSkipTlsVerify}
         * @throws io.isthmus.mesh.pki.MeshIdentityException when a certificate or key is malformed, or the key
         *     does not match the client certificate
         */
        public MeshConnection build() {
            Preconditions.checkArgument(!(insecureSkipTlsVerify && trustedCertificatesPem != null),
                    "insecureSkipTlsVerify: true (expected: false when trusted certificates are given)");
            Preconditions.checkArgument(serverIdentity == null || trustedCertificatesPem != null,
                    "serverIdentity: %s (expected: trusted certificates to verify it against)", serverIdentity);
            Preconditions.checkArgument(serverIdentity == null || !insecureSkipTlsVerify,
                    "serverIdentity: %s (expected: no insecureSkipTlsVerify)", serverIdentity);
            return new MeshConnection(this);
        }

        private static Duration positive(Duration timeout, String name) {
            requireNonNull(timeout, name);
            Preconditions.checkArgument(!timeout.isNegative() && !timeout.isZero(), "%s: %s (expected: > 0)",
                    name, timeout);
            return timeout;
        }
    }
}
