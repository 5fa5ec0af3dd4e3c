package io.isthmus.mesh.netty;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.internal.Preconditions;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.netty.internal.RouterRuntime;
import io.isthmus.mesh.netty.internal.RouterSettings;
import io.isthmus.mesh.pki.SiteCredentials;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The router of one site (the VER): accepts application requests on its ingress port, routes them
 * by Host to the load balancers advertised at its site, and carries them to the origin pool's site
 * through mutually-authenticated HTTP/2 tunnels over TLS 1.3; accepts tunnels from other sites and
 * forwards their requests to its own origins.
 *
 * <pre>{@code
 * MeshCertificateAuthority ca = MeshCertificateAuthority.create("mesh.example");
 * ConfigStore store = ConfigStore.inMemory();
 * try (MeshRouter osaka = MeshRouter.builder(ca.issueSite("osaka"), store).build().start()) {
 *     store.put(Site.builder("osaka").tunnelEndpoint(osaka.tunnelEndpoint()).build());
 *     ...
 * }
 * }</pre>
 *
 * <p>The router follows the config store: every change is compiled into a new routing table that
 * replaces the old one atomically; requests never wait for the store. It is thread-safe; the caller
 * closes it.
 *
 * <p>The ingress port speaks HTTP/1.1 and HTTP/2 in cleartext (h2c, with prior knowledge or through
 * {@code Upgrade: h2c}). HTTP/1.1 parsing is strict: a request with both Content-Length and
 * Transfer-Encoding, conflicting Content-Lengths, a bad chunk size, obsolete line folding, a control
 * character in a header name or bare LF line endings gets 400 and its connection is closed; too large
 * or too many header fields get 431. See the builder for the limits (connections, header size and
 * count, request-head timeout, HTTP/2 streams, connections and waiting requests per origin endpoint,
 * beyond which a request gets 503 {@code origin_overloaded}). An HTTP load balancer whose port is not {@value
 * io.isthmus.mesh.model.LoadBalancer#DEFAULT_HTTP_PORT} (the shared ingress port) is also served on a
 * listener of its own on that port, on the ingress address; TCP load balancers get one per port too.
 *
 * <p>Each request, and each connection of a TCP load balancer, is written as one JSON line to the SLF4J logger {@code isthmus.access}; with
 * {@link Builder#meterRegistry} the router also records Micrometer meters named {@code isthmus.*}.
 * {@link #drain(Duration)} stops a router gracefully; {@link #updateCredentials(SiteCredentials)}
 * rotates its certificate without dropping requests.
 */
public final class MeshRouter implements AutoCloseable {

    private final Builder config;
    private volatile @Nullable RouterRuntime runtime;
    private boolean closed;

    private MeshRouter(Builder config) {
        this.config = config;
    }

    /**
     * Returns a builder for the router of the site named by {@code credentials}.
     *
     * @param credentials the site's identity: its certificate, key and the mesh trust bundle
     * @param store where the router reads the mesh configuration from
     * @return a new builder
     */
    public static Builder builder(SiteCredentials credentials, ConfigStore store) {
        return new Builder(requireNonNull(credentials, "credentials"), requireNonNull(store, "store"));
    }

    /**
     * Reads the configuration, binds the ingress and tunnel listeners and returns once both accept
     * connections.
     *
     * @return this router
     * @throws io.isthmus.mesh.MeshException when a listener cannot be bound
     * @throws IllegalStateException when the router was already started
     */
    public synchronized MeshRouter start() {
        Preconditions.checkState(runtime == null && !closed, "router of site %s: already started", site());
        Builder c = config;
        runtime = RouterRuntime.start(c.credentials, c.store, new RouterSettings(c.ingressAddress, c.tunnelAddress,
                c.ioThreads, (int) c.connectTimeout.toMillis(), c.responseTimeout.toMillis(), c.idleTimeout.toMillis(),
                c.listener, c.maxInitialLineLength, c.maxHeaderSize, c.maxHeaderCount,
                c.requestHeaderTimeout.toMillis(), c.maxConnections, c.maxConcurrentStreams,
                c.tunnelConnectionsPerSite, c.meterRegistry, c.circuitBreakerOpenDuration.toMillis(),
                c.maxConnectionsPerOrigin, c.maxPendingRequestsPerOrigin),
                c.endpointResolver, c.localSiteFirst);
        return this;
    }

    /**
     * Drains the router before it stops: no new connections are accepted, HTTP/1.1 responses carry
     * {@code Connection: close}, HTTP/2 connections (h2c ingress and tunnels) get GOAWAY, requests in
     * flight finish; connections still open at the deadline are closed. Call {@link #close()} after the
     * returned future completes to release the threads.
     *
     * @param deadline how long in-flight requests may take to finish
     * @return a future that completes once every connection is closed
     */
    public CompletableFuture<Void> drain(Duration deadline) {
        Builder.positive(deadline, "deadline");
        return running().drain(deadline);
    }

    /**
     * Replaces the site's certificate and key, e.g. before the old certificate expires: tunnels
     * dialled or accepted from now on use the new ones; requests in flight on open tunnels finish there,
     * after which those tunnels close.
     *
     * @param credentials new credentials of the same site and trust domain
     * @throws IllegalArgumentException when they name another site or trust domain
     */
    public void updateCredentials(SiteCredentials credentials) {
        requireNonNull(credentials, "credentials");
        Preconditions.checkArgument(credentials.spiffeId().equals(config.credentials.spiffeId()),
                "credentials: %s (expected: credentials of %s)", credentials.spiffeId(), config.credentials.spiffeId());
        running().updateCredentials(credentials);
    }

    /** @return the name of this router's site */
    public String site() {
        return config.credentials.site();
    }

    /**
     * Returns the address the ingress listener is bound to.
     *
     * @return the bound address (with the actual port when port 0 was asked for)
     */
    public InetSocketAddress ingressAddress() {
        return running().ingressAddress();
    }

    /**
     * Returns the address the tunnel listener is bound to.
     *
     * @return the bound address
     */
    public InetSocketAddress tunnelAddress() {
        return running().tunnelAddress();
    }

    /**
     * Returns the tunnel listener as an endpoint other sites can dial, for this site's {@link
     * io.isthmus.mesh.model.Site} record.
     *
     * @return the tunnel endpoint
     */
    public Endpoint tunnelEndpoint() {
        InetSocketAddress address = tunnelAddress();
        return Endpoint.of(address.getAddress().getHostAddress(), address.getPort());
    }

    /**
     * Returns the TLS implementation tunnels use: BoringSSL when netty-tcnative is present, the JDK
     * otherwise.
     *
     * @return a description such as {@code BoringSSL (BoringSSL)} or {@code JDK 17.0.15}
     */
    public String tlsProvider() {
        return running().tlsProvider();
    }

    /**
     * Returns the config store revision of the routing table in use.
     *
     * @return the revision
     */
    public long appliedRevision() {
        return running().appliedRevision();
    }

    private RouterRuntime running() {
        RouterRuntime r = runtime;
        Preconditions.checkState(r != null, "router of site %s: not started", site());
        return r;
    }

    /** Stops accepting connections, closes tunnels and connections, and releases the threads. */
    @Override
    public synchronized void close() {
        RouterRuntime r = runtime;
        if (r != null && !closed) {
            closed = true;
            r.close();
        }
    }

    /** Configures a {@link MeshRouter}. Not thread-safe; each {@link #build()} takes a copy of the values. */
    public static final class Builder {

        private final SiteCredentials credentials;
        private final ConfigStore store;
        private InetSocketAddress ingressAddress = new InetSocketAddress("127.0.0.1", 0);
        private InetSocketAddress tunnelAddress = new InetSocketAddress("127.0.0.1", 0);
        private int ioThreads = Runtime.getRuntime().availableProcessors();
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration responseTimeout = Duration.ofSeconds(30);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private MeshRouterListener listener = new MeshRouterListener() {};
        private int maxInitialLineLength = 8192;
        private int maxHeaderSize = 16384;
        private int maxHeaderCount = 100;
        private Duration requestHeaderTimeout = Duration.ofSeconds(10);
        private int maxConnections = 10_000;
        private int maxConcurrentStreams = 250;
        private int tunnelConnectionsPerSite = 1;
        private int maxConnectionsPerOrigin = 1024;
        private int maxPendingRequestsPerOrigin = 1024;
        private Duration circuitBreakerOpenDuration = Duration.ofSeconds(5);
        private @Nullable Object meterRegistry;
        private EndpointResolver endpointResolver = EndpointResolver.dns();
        private boolean localSiteFirst;

        private Builder(SiteCredentials credentials, ConfigStore store) {
            this.credentials = credentials;
            this.store = store;
        }

        private Builder(Builder other) {
            this(other.credentials, other.store);
            ingressAddress = other.ingressAddress;
            tunnelAddress = other.tunnelAddress;
            ioThreads = other.ioThreads;
            connectTimeout = other.connectTimeout;
            responseTimeout = other.responseTimeout;
            idleTimeout = other.idleTimeout;
            listener = other.listener;
            maxInitialLineLength = other.maxInitialLineLength;
            maxHeaderSize = other.maxHeaderSize;
            maxHeaderCount = other.maxHeaderCount;
            requestHeaderTimeout = other.requestHeaderTimeout;
            maxConnections = other.maxConnections;
            maxConcurrentStreams = other.maxConcurrentStreams;
            tunnelConnectionsPerSite = other.tunnelConnectionsPerSite;
            maxConnectionsPerOrigin = other.maxConnectionsPerOrigin;
            maxPendingRequestsPerOrigin = other.maxPendingRequestsPerOrigin;
            circuitBreakerOpenDuration = other.circuitBreakerOpenDuration;
            meterRegistry = other.meterRegistry;
            endpointResolver = other.endpointResolver;
            localSiteFirst = other.localSiteFirst;
        }

        /**
         * Sends requests to this site's own origins whenever the pool has a healthy one here in the
         * priority being served, instead of spreading them over that priority's sites by weight
         * (default {@code false}).
         *
         * @param localFirst whether to prefer this site's origins within a priority
         * @return this builder
         */
        public Builder localSiteFirst(boolean localFirst) {
            this.localSiteFirst = localFirst;
            return this;
        }

        /**
         * Sets how the endpoints of Kubernetes-service origins at this site are found (default {@link
         * EndpointResolver#dns()}: the service's cluster DNS name).
         *
         * @param resolver the resolver
         * @return this builder
         */
        public Builder endpointResolver(EndpointResolver resolver) {
            this.endpointResolver = requireNonNull(resolver, "resolver");
            return this;
        }

        /**
         * Sets the largest request line an HTTP/1.1 client may send (default 8192 bytes); longer
         * ones get 414 and the connection is closed.
         *
         * @param bytes at least 256
         * @return this builder
         */
        public Builder maxInitialLineLength(int bytes) {
            Preconditions.checkArgument(bytes >= 256, "maxInitialLineLength: %s (expected: >= 256)", bytes);
            this.maxInitialLineLength = bytes;
            return this;
        }

        /**
         * Sets the largest request head (all header fields together) a client may send (default 16384
         * bytes); HTTP/1.1 clients get 431 beyond it, HTTP/2 peers a stream or connection error.
         *
         * @param bytes at least 1024
         * @return this builder
         */
        public Builder maxHeaderSize(int bytes) {
            Preconditions.checkArgument(bytes >= 1024, "maxHeaderSize: %s (expected: >= 1024)", bytes);
            this.maxHeaderSize = bytes;
            return this;
        }

        /**
         * Sets how many header fields a request may have (default 100); beyond it the client gets 431.
         *
         * @param count at least 1
         * @return this builder
         */
        public Builder maxHeaderCount(int count) {
            Preconditions.checkArgument(count > 0, "maxHeaderCount: %s (expected: > 0)", count);
            this.maxHeaderCount = count;
            return this;
        }

        /**
         * Sets how long an HTTP/1.1 client may take to send a complete request head, counted from
         * the opening of the connection or the end of the previous response (default 10 s); then the
         * connection is closed. Guards against slow clients (slowloris) and idle keep-alive connections.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder requestHeaderTimeout(Duration timeout) {
            this.requestHeaderTimeout = positive(timeout, "requestHeaderTimeout");
            return this;
        }

        /**
         * Sets how many connections each listener (ingress, tunnels) keeps open at most (default
         * 10000); a new connection beyond it is closed at once and counted.
         *
         * @param count at least 1
         * @return this builder
         */
        public Builder maxConnections(int count) {
            Preconditions.checkArgument(count > 0, "maxConnections: %s (expected: > 0)", count);
            this.maxConnections = count;
            return this;
        }

        /**
         * Sets how many concurrent streams an HTTP/2 client or peer router may open on one connection
         * (default 250).
         *
         * @param count at least 1
         * @return this builder
         */
        public Builder maxConcurrentStreams(int count) {
            Preconditions.checkArgument(count > 0, "maxConcurrentStreams: %s (expected: > 0)", count);
            this.maxConcurrentStreams = count;
            return this;
        }

        /**
         * Sets how many connections the router keeps open at most to one origin endpoint of its site,
         * busy, idle or being opened (default 1024). A request that finds them all busy waits for one in
         * the endpoint's queue (see {@link #maxPendingRequestsPerOrigin(int)}); beyond the queue it is
         * answered at once with 503 and the reason {@code origin_overloaded}, logged and counted like
         * other failures ({@code isthmus.requests.failed}). Requests that arrive through tunnels from
         * other sites count alike; TCP load balancers are not limited by it.
         *
         * <p>The limit is shared evenly by the I/O threads (rounded down, at least one connection each):
         * an origin connection belongs to one thread and carries only that thread's requests, so each
         * thread keeps its share without locks, and the shares never add up to more than the limit.
         *
         * @param count at least 1
         * @return this builder
         */
        public Builder maxConnectionsPerOrigin(int count) {
            Preconditions.checkArgument(count > 0, "maxConnectionsPerOrigin: %s (expected: > 0)", count);
            this.maxConnectionsPerOrigin = count;
            return this;
        }

        /**
         * Sets how many requests may wait for a connection to one origin endpoint when {@link
         * #maxConnectionsPerOrigin(int)} of them are busy (default 1024); a request beyond it gets 503
         * {@code origin_overloaded} at once, without reaching the origin. Waiting requests are served in
         * order as connections free up; a request whose client leaves gives its place up. Shared evenly
         * by the I/O threads like the connection limit (rounded down); 0 means no queue.
         *
         * @param count at least 0
         * @return this builder
         */
        public Builder maxPendingRequestsPerOrigin(int count) {
            Preconditions.checkArgument(count >= 0, "maxPendingRequestsPerOrigin: %s (expected: >= 0)", count);
            this.maxPendingRequestsPerOrigin = count;
            return this;
        }

        /**
         * Sets how many tunnel connections each I/O thread keeps to one remote site (default 1);
         * requests are spread over them. The TCP connections of TCP load balancers travel on as many
         * tunnel connections of their own, dialled when the first one needs them.
         *
         * @param count 1-16
         * @return this builder
         */
        public Builder tunnelConnectionsPerSite(int count) {
            Preconditions.checkArgument(count > 0 && count <= 16, "tunnelConnectionsPerSite: %s (expected: 1-16)",
                    count);
            this.tunnelConnectionsPerSite = count;
            return this;
        }

        /**
         * Sets how long a remote site's circuit breaker stays open (requests fail fast with 503) before
         * a few requests probe the site again (default 5 s). The circuit opens when at least half of the
         * last 20 requests (and at least 5) to the site failed to reach it.
         *
         * @param duration a positive duration
         * @return this builder
         */
        public Builder circuitBreakerOpenDuration(Duration duration) {
            this.circuitBreakerOpenDuration = positive(duration, "circuitBreakerOpenDuration");
            return this;
        }

        /**
         * Binds the router's meters (requests, latencies, denials, connections, tunnels; names start
         * with {@code isthmus.}) to a Micrometer registry. Needs {@code micrometer-core} on the class
         * path; without a registry nothing is measured.
         *
         * @param registry the registry; the meters are removed from it when the router closes
         * @return this builder
         */
        public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
            this.meterRegistry = requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Sets where applications connect (default {@code 127.0.0.1}, port 0: any free port).
         *
         * @param address the address to bind
         * @return this builder
         */
        public Builder ingressAddress(InetSocketAddress address) {
            this.ingressAddress = requireNonNull(address, "address");
            return this;
        }

        /**
         * Sets the ingress port on {@code 127.0.0.1}.
         *
         * @param port 0-65535; 0 picks a free port
         * @return this builder
         */
        public Builder ingressPort(int port) {
            return ingressAddress(new InetSocketAddress(ingressAddress.getAddress(), checkPort(port)));
        }

        /**
         * Sets where other sites' routers connect (default {@code 127.0.0.1}, port 0).
         *
         * @param address the address to bind
         * @return this builder
         */
        public Builder tunnelAddress(InetSocketAddress address) {
            this.tunnelAddress = requireNonNull(address, "address");
            return this;
        }

        /**
         * Sets the tunnel port, keeping the tunnel bind address.
         *
         * @param port 0-65535; 0 picks a free port
         * @return this builder
         */
        public Builder tunnelPort(int port) {
            return tunnelAddress(new InetSocketAddress(tunnelAddress.getAddress(), checkPort(port)));
        }

        private static int checkPort(int port) {
            Preconditions.checkArgument(port >= 0 && port <= 65535, "port: %s (expected: 0-65535)", port);
            return port;
        }

        /**
         * Sets the number of I/O threads (default: the number of processors).
         *
         * @param ioThreads at least 1
         * @return this builder
         */
        public Builder ioThreads(int ioThreads) {
            Preconditions.checkArgument(ioThreads > 0, "ioThreads: %s (expected: > 0)", ioThreads);
            this.ioThreads = ioThreads;
            return this;
        }

        /**
         * Sets how long connecting to an origin or dialling a tunnel (TCP and TLS) may take (default 5 s).
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Sets how long to wait for a response's head once a request was sent (default 30 s); then the
         * client gets 504.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder responseTimeout(Duration timeout) {
            this.responseTimeout = positive(timeout, "responseTimeout");
            return this;
        }

        /**
         * Sets how long an unused origin connection is kept (default 60 s).
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /**
         * Sets the listener told of tunnels and configuration changes.
         *
         * @param listener the listener; runs on event loops, must not block
         * @return this builder
         */
        public Builder listener(MeshRouterListener listener) {
            this.listener = requireNonNull(listener, "listener");
            return this;
        }

        static Duration positive(Duration d, String name) {
            requireNonNull(d, name);
            Preconditions.checkArgument(!d.isNegative() && !d.isZero() && d.toMillis() < Integer.MAX_VALUE,
                    "%s: %s (expected: > 0 and < 24 days)", name, d);
            return d;
        }

        /**
         * Returns a router with these settings; call {@link MeshRouter#start()} to run it.
         *
         * @return the router
         */
        public MeshRouter build() {
            return new MeshRouter(new Builder(this));
        }
    }
}
