package io.isthmus.mesh.daemon;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigSnapshot;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.daemon.internal.AdminAuth;
import io.isthmus.mesh.daemon.internal.AdminServer;
import io.isthmus.mesh.daemon.internal.ConfigMirror;
import io.isthmus.mesh.daemon.internal.CredentialsFileWatcher;
import io.isthmus.mesh.daemon.internal.DevCa;
import io.isthmus.mesh.daemon.internal.JoinEndpoint;
import io.isthmus.mesh.daemon.internal.SiteJoiner;
import io.isthmus.mesh.daemon.internal.SiteRenewer;
import io.isthmus.mesh.daemon.internal.EtcdRouterRecords;
import io.isthmus.mesh.daemon.internal.LastGoodFile;
import io.isthmus.mesh.daemon.internal.LocalRouterRecords;
import io.isthmus.mesh.daemon.internal.RequestExplainer;
import io.isthmus.mesh.daemon.internal.RouterRecords;
import io.isthmus.mesh.daemon.internal.TlsContexts;
import io.isthmus.mesh.k8s.etcd.EtcdConfigStore;
import io.isthmus.mesh.k8s.etcd.SiteLease;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The reference router daemon (VER) of one site: the {@link MeshRouter} data plane, the mesh's
 * config store (etcd, or an embedded in-memory store for one machine), the admin API, health and
 * readiness, metrics, the last-good config on disk and graceful shutdown.
 *
 * <pre>{@code
 * DaemonConfig config = DaemonConfig.load(Path.of("daemon.yaml"), System.getenv(), Map.of());
 * try (RouterDaemon daemon = RouterDaemon.start(config, List.of())) {
 *     System.out.println("admin API at " + daemon.adminAddress());
 *     ...
 * }
 * }</pre>
 *
 * <h2>What lives where</h2>
 *
 * <ul>
 *   <li>The router follows a local in-memory copy of the mesh's objects that the daemon keeps equal
 *       to the store; the store's revisions are what the daemon reports.</li>
 *   <li>{@code <stateDir>/last-good.yaml}: every object as of the applied revision, rewritten after
 *       each change. When the store cannot be read at start, the router starts on this file and the
 *       daemon reports {@link DaemonState#DEGRADED} until the store is back. With the embedded store
 *       the file is also how the configuration survives a restart.</li>
 *   <li>{@code <stateDir>/addresses.json}: the bound ingress, tunnel and admin addresses, written once
 *       the daemon serves (ports may be 0 in the settings).</li>
 *   <li>With etcd, this site's {@link Site} record (its tunnel endpoint) is kept under a lease of
 *       {@link DaemonConfig#siteLeaseTtl()}, and the router's record (version, applied revision,
 *       state) under {@code <namespace>-routers/<site>/<routerId>}.</li>
 * </ul>
 *
 * <p>Thread-safe. {@link #close()} drains: readiness reports 503, then after
 * {@link DaemonConfig#drainDelay()} the site record is withdrawn and the router drains its connections
 * before it closes. With credentials from files, the files are checked every
 * {@link DaemonConfig#credentialsReloadInterval()} and a renewed certificate replaces the router's
 * without dropping requests. A site that joined with {@code join.token} renews its certificate at the
 * CA daemon ({@code POST /v1/renew} on {@code join.server}) once two thirds of its lifetime have passed,
 * stores it in the state directory and hands it to the router the same way. The router's meters ({@code isthmus_requests_seconds} and others) are in
 * {@link #meterRegistry()}, which {@code /metrics} serves.
 */
public final class RouterDaemon implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(RouterDaemon.class);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonMapper STATUS_JSON = JsonMapper.builder().build();

    private final DaemonConfig config;
    private final String version;
    private final MeshObjectCodec codec = MeshObjectCodec.create();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ScheduledExecutorService scheduler;
    private final Map<String, Tunnel> tunnels = new ConcurrentHashMap<>();
    private final AtomicBoolean lastGoodPending = new AtomicBoolean();
    private final List<DaemonExtension> extensions;
    private final List<DaemonExtension> startedExtensions = new CopyOnWriteArrayList<>();
    private final SiteCredentials credentials;
    private final ConfigStore source;
    private final ConfigStore local = ConfigStore.inMemory();
    private final ConfigMirror mirror;
    private final LastGoodFile lastGood;
    private final RouterRecords records;
    private @Nullable MeshRouter router;
    private @Nullable AdminServer admin;
    private @Nullable SiteLease siteLease;
    private volatile @Nullable SiteRenewer siteRenewer;
    private @Nullable Endpoint advertised;
    private volatile boolean routerStarted;
    private volatile boolean draining;
    private volatile boolean closed;
    private volatile long storeRevision = -1;
    private volatile List<RouterRecords.Record> routerRecords = List.of();
    private long publishedRevision = -2;
    private String publishedState = "";
    private Instant publishedAt = Instant.EPOCH;

    /** One peer site's tunnels as the router reports them. */
    private static final class Tunnel {
        int open;
        String peer = "";
        String address = "";
    }

    private RouterDaemon(DaemonConfig config, List<DaemonExtension> extensions) {
        this.config = config;
        this.extensions = List.copyOf(extensions);
        this.version = readVersion();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "isthmus-daemon-" + config.site());
            t.setDaemon(true);
            return t;
        });
        try {
            Files.createDirectories(config.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("stateDir: cannot create " + config.stateDir() + ": " + e.getMessage(), e);
        }
        this.credentials = config.joinToken() != null
                ? SiteJoiner.credentials(config)
                : config.generateCa()
                ? DevCa.issue(config.caDir(), config.stateDir(), config.trustDomain(), config.site())
                : SiteCredentials.fromFiles(config.trustDomain(), requireNonNull(config.certificateChain()),
                        requireNonNull(config.privateKey()), requireNonNull(config.trustBundle()));
        if (!credentials.site().equals(config.site())) {
            throw new DaemonConfigException("", "credentials.certificateChain", "a certificate of site \""
                    + credentials.site() + "\" (expected: site \"" + config.site() + "\", as the setting site says)");
        }
        this.lastGood = new LastGoodFile(config.stateDir().resolve("last-good.yaml"), codec);
        if (config.etcdEndpoints().isEmpty()) {
            this.source = ConfigStore.inMemory();
            this.records = new LocalRouterRecords();
        } else {
            EtcdConfigStore.Builder etcd = EtcdConfigStore.builder(config.etcdEndpoints())
                    .namespace(config.etcdNamespace()).requestTimeout(config.etcdRequestTimeout());
            if (config.etcdUsername() != null && config.etcdPasswordFile() != null) {
                try {
                    etcd.username(config.etcdUsername())
                            .password(Files.readString(config.etcdPasswordFile(), UTF_8).strip());
                } catch (IOException e) {
                    throw new DaemonConfigException("", "etcd.passwordFile", "cannot read " + config.etcdPasswordFile());
                }
            }
            if (config.etcdTrustCertificates() != null) {
                etcd.trustCertificates(config.etcdTrustCertificates());
            }
            if (config.etcdCertificateChain() != null && config.etcdPrivateKey() != null) {
                etcd.keyCertChain(config.etcdCertificateChain(), config.etcdPrivateKey());
            }
            this.source = etcd.build();
            this.records = new EtcdRouterRecords(config);
        }
        this.mirror = new ConfigMirror(source, local, cause -> {
            logger.warn("config watch of {} ended ({}); reading the store again", source, cause.getMessage());
            scheduler.execute(this::tick);
        });
    }

    /**
     * Starts a daemon: reads the store (or the last-good file), starts the router and the admin API,
     * registers the site and starts the extensions.
     *
     * @param config the settings
     * @param extensions started once the router runs, closed before it; e.g. Kubernetes integration
     * @return the running daemon; the caller closes it
     * @throws DaemonConfigException when a setting does not work out (e.g. credentials of another site, or a
     *     {@code router.*} value out of the router's range)
     * @throws io.isthmus.mesh.MeshException when a listener cannot be bound or the credentials cannot be read
     */
    public static RouterDaemon start(DaemonConfig config, List<DaemonExtension> extensions) {
        requireNonNull(config, "config");
        requireNonNull(extensions, "extensions");
        RouterDaemon daemon = new RouterDaemon(config, extensions);
        try {
            daemon.run();
        } catch (RuntimeException e) {
            daemon.close();
            throw e;
        }
        return daemon;
    }

    private void run() {
        MeshRouter.Builder builder = MeshRouter.builder(credentials, local)
                .ingressAddress(config.ingressAddress())
                .tunnelAddress(config.tunnelAddress())
                .listener(new Listener())
                .meterRegistry(registry);
        // The router.* settings, before the store is read: a value the router refuses fails at once.
        // Extensions configure after them and may override them.
        config.configureRouter(builder);
        for (DaemonExtension extension : extensions) {
            extension.configure(builder, config);
        }
        loadConfiguration();
        MeshRouter r = builder.build().start();
        router = r;
        routerStarted = true;
        bindMetrics();
        TlsContexts.ServerTls adminTls = config.adminTls() ? new TlsContexts.ServerTls(credentials) : null;
        watchCredentials(r, adminTls);
        String trustDomain = credentials.trustBundle().trustDomain();
        AdminAuth auth = AdminAuth.of(
                config.tokensFile() == null ? Map.of() : AdminAuth.readTokens(config.tokensFile()),
                config.clientCertificateRoles(), config.adminTls() ? credentials.trustBundle() : null);
        admin = new AdminServer(config.adminAddress(), adminTls == null ? null : adminTls.context(),
                source, codec, auth, new Backend(), registry, config.watchHeartbeat(),
                JoinEndpoint.forDaemon(config, credentials));
        advertised = Endpoint.of(advertisedHost(r.tunnelAddress()), r.tunnelAddress().getPort());
        try {
            registerSite();
        } catch (ConfigStoreException e) {
            logger.warn("cannot register site {} yet: {}", config.site(), e.getMessage());
        }
        for (DaemonExtension extension : extensions) {
            extension.start(source, r, config);
            startedExtensions.add(extension);
        }
        writeAddresses();
        logger.info("isthmus-daemon serving: site={} router={} trustDomain={} ingress={} tunnel={} admin={} state={}",
                config.site(), config.routerId(), trustDomain, address(ingressAddress()), address(tunnelAddress()),
                (config.adminTls() ? "https://" : "http://") + address(adminAddress()), state());
        long interval = config.storeCheckInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::tick, interval, interval, TimeUnit.MILLISECONDS);
        scheduler.execute(this::publishRecord);
    }

    private void watchCredentials(MeshRouter r, TlsContexts.@Nullable ServerTls adminTls) {
        URI joinServer = config.joinServer();
        if (joinServer != null) {
            if (!"https".equalsIgnoreCase(joinServer.getScheme())) {
                logger.warn("site {}: join.server {} is not https: the certificate cannot be renewed (renewal "
                        + "authenticates with the site's certificate over TLS) and expires at {}", config.site(),
                        joinServer, credentials.notAfter());
                return;
            }
            SiteRenewer renewer = new SiteRenewer(config, credentials, scheduler, renewed -> {
                if (!closed && !draining) {
                    r.updateCredentials(renewed);
                    if (adminTls != null) {
                        adminTls.update(renewed);
                    }
                }
            });
            siteRenewer = renewer;
            renewer.start();
            return;
        }
        Path chain = config.certificateChain();
        Path key = config.privateKey();
        Path bundle = config.trustBundle();
        if (chain == null || key == null || bundle == null) {
            return; // the development CA issues a fresh certificate at each start
        }
        CredentialsFileWatcher watcher = new CredentialsFileWatcher(config.trustDomain(), chain, key, bundle,
                credentials, reloaded -> {
                    r.updateCredentials(reloaded);
                    if (adminTls != null) {
                        adminTls.update(reloaded);
                    }
                });
        long interval = config.credentialsReloadInterval().toMillis();
        scheduler.scheduleWithFixedDelay(() -> {
            if (closed || draining) {
                return;
            }
            try {
                watcher.check();
            } catch (RuntimeException e) {
                logger.warn("cannot apply the reloaded credentials of {}", chain, e);
            }
        }, interval, interval, TimeUnit.MILLISECONDS);
    }

    private void loadConfiguration() {
        boolean embedded = config.etcdEndpoints().isEmpty();
        if (embedded) {
            // The embedded store starts empty: the last-good file is its persistence.
            lastGood.read().ifPresent(contents -> contents.objects().forEach(source::put));
        }
        try {
            mirror.connect();
            storeRevision = mirror.sourceRevision();
        } catch (ConfigStoreException e) {
            Optional<LastGoodFile.Contents> contents = lastGood.read();
            if (contents.isPresent()) {
                mirror.load(contents.get().objects(), contents.get().revision());
                logger.warn("config store {} unreachable ({}); DEGRADED: routing on {} objects of revision {} from {}",
                        source, e.getMessage(), contents.get().objects().size(), contents.get().revision(),
                        lastGood.path());
            } else {
                logger.warn("config store {} unreachable ({}) and no last-good file at {}: STARTING, retrying",
                        source, e.getMessage(), lastGood.path());
            }
        }
    }

    // ---- periodic work: store health, site record, router record

    private void tick() {
        if (closed || draining) {
            return;
        }
        try {
            if (!mirror.connected()) {
                mirror.connect();
                logger.info("config store {} reachable again: READY at revision {}", source, mirror.sourceRevision());
            }
            storeRevision = source.revision();
            registerSite();
        } catch (ConfigStoreException e) {
            mirror.disconnected();
        } catch (RuntimeException e) {
            logger.warn("daemon check failed", e);
        }
        if (mirror.connected()) {
            // While the store is down, each call would wait for its timeout and delay the next check.
            publishRecord();
        }
    }

    private void registerSite() {
        Endpoint endpoint = advertised;
        if (endpoint == null || draining) {
            return;
        }
        ObjectKey key = ObjectKey.of(Kind.SITE, config.site());
        Optional<Versioned<MeshObject>> current = source.get(key);
        Site existing = current.map(v -> (Site) v.object()).orElse(null);
        boolean upToDate = existing != null && existing.tunnelEndpoints().equals(List.of(endpoint));
        if (source instanceof EtcdConfigStore) {
            if (upToDate && siteLease != null) {
                return;
            }
            Site site = existing == null ? Site.builder(config.site()).tunnelEndpoint(endpoint).build()
                    : existing.withTunnelEndpoints(List.of(endpoint));
            SiteLease old = siteLease;
            siteLease = ((EtcdConfigStore) source).keepAlive(site, config.siteLeaseTtl());
            if (old != null && old.leaseId() != siteLease.leaseId()) {
                old.close();
            }
            logger.info("site {} registered at {} (lease TTL {} s)", config.site(), endpoint,
                    config.siteLeaseTtl().toSeconds());
        } else if (!upToDate) {
            source.put(existing == null ? Site.builder(config.site()).tunnelEndpoint(endpoint).build()
                    : existing.withTunnelEndpoints(List.of(endpoint)));
        }
    }

    private synchronized void publishRecord() {
        if (closed) {
            return;
        }
        long applied = appliedRevision();
        String state = state().name();
        Instant now = Instant.now();
        try {
            if (applied != publishedRevision || !state.equals(publishedState)
                    || Duration.between(publishedAt, now).compareTo(Duration.ofSeconds(10)) >= 0) {
                records.publish(new RouterRecords.Record(config.site(), config.routerId(), version, applied, state, now));
                publishedRevision = applied;
                publishedState = state;
                publishedAt = now;
            }
            routerRecords = records.list();
        } catch (ConfigStoreException e) {
            logger.debug("cannot publish the router record: {}", e.getMessage());
        }
    }

    private void writeLastGood() {
        lastGoodPending.set(false);
        if (closed || !mirror.connected()) {
            return;
        }
        try {
            ConfigSnapshot snapshot = mirror.localSnapshot();
            lastGood.write(snapshot.revision(), snapshot.objects().stream().map(Versioned::object).toList());
        } catch (RuntimeException e) {
            logger.warn("cannot write the last-good config: {}", e.getMessage());
        }
    }

    // ---- state

    /**
     * Returns the state reported by {@code /v1/status}.
     *
     * @return the state
     */
    public DaemonState state() {
        if (draining) {
            return DaemonState.DRAINING;
        }
        if (notReadyReason() != null) {
            return DaemonState.STARTING;
        }
        return mirror.connected() ? DaemonState.READY : DaemonState.DEGRADED;
    }

    private @Nullable String notReadyReason() {
        if (draining) {
            return "draining: the daemon is shutting down";
        }
        if (!routerStarted) {
            return "starting: the router is not running yet";
        }
        if (mirror.sourceRevision() < 0) {
            return "no configuration yet: the config store " + source + " is unreachable and there is no "
                    + "last-good file at " + lastGood.path();
        }
        if (appliedRevision() < 0) {
            return "no routing table is live yet";
        }
        for (DaemonExtension extension : startedExtensions) {
            String reason = extension.notReadyReason();
            if (reason != null) {
                return extension.name() + ": " + reason;
            }
        }
        return null;
    }

    /**
     * Returns the store revision of the configuration the router routes by.
     *
     * @return the revision, or {@code -1} before the first
     */
    public long appliedRevision() {
        MeshRouter r = router;
        return r == null || !routerStarted ? -1 : mirror.sourceRevisionOf(r.appliedRevision());
    }

    /**
     * Returns the mesh's config store that the admin API reads and writes.
     *
     * @return the store; the daemon closes it
     */
    public ConfigStore store() {
        return source;
    }

    /** @return the bound ingress address */
    public InetSocketAddress ingressAddress() {
        return requireNonNull(router, "router").ingressAddress();
    }

    /** @return the bound tunnel address */
    public InetSocketAddress tunnelAddress() {
        return requireNonNull(router, "router").tunnelAddress();
    }

    /** @return the bound admin API address */
    public InetSocketAddress adminAddress() {
        return requireNonNull(admin, "admin").address();
    }

    /** @return the registry {@code /metrics} serves; the daemon owns it */
    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    private ObjectNode status() {
        ObjectNode status = NODES.objectNode();
        status.put("site", config.site());
        status.put("routerId", config.routerId());
        status.put("version", version);
        status.put("appliedRevision", appliedRevision());
        status.put("storeRevision", Math.max(storeRevision, mirror.sourceRevision()));
        status.put("state", state().name());
        ArrayNode tunnelArray = status.putArray("tunnels");
        Map<String, ObjectNode> bySite = new TreeMap<>();
        for (Versioned<MeshObject> object : mirror.localSnapshot().objects()) {
            if (object.object() instanceof Site && !object.object().name().equals(config.site())) {
                Site site = (Site) object.object();
                ObjectNode t = NODES.objectNode();
                t.put("site", site.name());
                t.put("state", "DOWN");
                t.put("peer", SpiffeId.ofSite(config.trustDomain(), site.name()).toString());
                t.put("address", site.tunnelEndpoints().isEmpty() ? "" : site.tunnelEndpoints().get(0).toString());
                bySite.put(site.name(), t);
            }
        }
        tunnels.forEach((site, tunnel) -> {
            synchronized (tunnel) {
                if (tunnel.open > 0) {
                    ObjectNode t = NODES.objectNode();
                    t.put("site", site);
                    t.put("state", "UP");
                    t.put("peer", tunnel.peer);
                    t.put("address", tunnel.address);
                    bySite.put(site, t);
                }
            }
        });
        bySite.values().forEach(tunnelArray::add);
        ArrayNode routers = status.putArray("routers");
        for (RouterRecords.Record record : routerRecords) {
            ObjectNode r = routers.addObject();
            r.put("site", record.site());
            r.put("routerId", record.routerId());
            r.put("version", record.version());
            r.put("appliedRevision", record.appliedRevision());
            r.put("state", record.state());
            r.put("lastSeen", record.lastSeen().toString());
        }
        ObjectNode extensionStatus = status.putObject("extensions");
        for (DaemonExtension extension : startedExtensions) {
            try {
                Map<String, Object> s = extension.status();
                if (!s.isEmpty()) {
                    extensionStatus.set(extension.name(), STATUS_JSON.valueToTree(s));
                }
            } catch (RuntimeException e) {
                extensionStatus.putObject(extension.name()).put("error", e.toString());
            }
        }
        return status;
    }

    private void bindMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        Gauge.builder("isthmus.daemon.applied.revision", this, RouterDaemon::appliedRevision)
                .description("Store revision of the routing table in use").tag("site", config.site()).register(registry);
        Gauge.builder("isthmus.daemon.ready", this, d -> d.notReadyReason() == null ? 1 : 0)
                .description("1 when the daemon is ready").tag("site", config.site()).register(registry);
        Gauge.builder("isthmus.daemon.degraded", this, d -> d.state() == DaemonState.DEGRADED ? 1 : 0)
                .description("1 when routing on the last-good config because the store is unreachable")
                .tag("site", config.site()).register(registry);
        Gauge.builder("isthmus.tunnels.up", tunnels, t -> t.values().stream().filter(x -> x.open > 0).count())
                .description("Peer sites with an open tunnel").tag("site", config.site()).register(registry);
    }

    // ---- router events

    private final class Listener implements MeshRouterListener {
        @Override
        public void tunnelEstablished(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {
            Tunnel tunnel = tunnels.computeIfAbsent(peer.site(), s -> new Tunnel());
            synchronized (tunnel) {
                tunnel.open++;
                tunnel.peer = peer.toString();
                tunnel.address = remoteAddress.toString().replaceFirst("^[^/]*/", "");
            }
        }

        @Override
        public void tunnelClosed(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {
            Tunnel tunnel = tunnels.computeIfAbsent(peer.site(), s -> new Tunnel());
            synchronized (tunnel) {
                tunnel.open = Math.max(0, tunnel.open - 1);
            }
        }

        @Override
        public void configApplied(long revision) {
            if (lastGoodPending.compareAndSet(false, true) && !scheduler.isShutdown()) {
                try {
                    scheduler.execute(() -> {
                        writeLastGood();
                        if (mirror.connected()) {
                            publishRecord();
                        }
                    });
                } catch (RuntimeException e) {
                    // shutting down
                }
            }
        }
    }

    private final class Backend implements AdminServer.Backend {
        @Override
        public @Nullable String notReadyReason() {
            return RouterDaemon.this.notReadyReason();
        }

        @Override
        public ObjectNode status() {
            return RouterDaemon.this.status();
        }

        @Override
        public ObjectNode explain(JsonNode request) {
            return RequestExplainer.explain(config.site(), local.snapshot(), request);
        }
    }

    // ---- shutdown

    /**
     * Drains and stops: readiness reports 503 at once; after {@link DaemonConfig#drainDelay()} the
     * site record is withdrawn and the router drains ({@link MeshRouter#drain(Duration)} bounded by
     * {@link DaemonConfig#drainTimeout()}: no new connections, {@code Connection: close} on HTTP/1.1
     * responses, GOAWAY on HTTP/2, requests in flight finish); then the extensions, the router, the
     * admin API and the stores close. Blocks until done. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed || draining) {
                return;
            }
            draining = true;
        }
        logger.info("isthmus-daemon of site {} draining", config.site());
        if (routerStarted && !config.drainDelay().isZero()) {
            try {
                Thread.sleep(config.drainDelay().toMillis()); // lets load balancers see the 503 of /readyz
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closed = true;
        SiteRenewer renewer = siteRenewer;
        if (renewer != null) {
            renewer.stop();
        }
        scheduler.shutdownNow();
        try {
            // A check in progress may be registering the site: let it finish so its lease is closed below.
            scheduler.awaitTermination(config.etcdRequestTimeout().toMillis() * 3, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        SiteLease lease = siteLease;
        if (lease != null) {
            lease.close();
        }
        MeshRouter r = router;
        if (r != null && routerStarted) {
            drain(r);
        }
        for (DaemonExtension extension : extensions) {
            try {
                extension.close();
            } catch (RuntimeException e) {
                logger.warn("extension {} failed to close", extension, e);
            }
        }
        if (r != null) {
            Thread closer = new Thread(r::close, "isthmus-router-close");
            closer.start();
            try {
                closer.join(Math.max(1, config.drainTimeout().toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        AdminServer a = admin;
        if (a != null) {
            a.close();
        }
        records.close();
        mirror.close();
        local.close();
        source.close();
        registry.close();
        logger.info("isthmus-daemon of site {} stopped", config.site());
    }

    /** Stops accepting, lets requests in flight finish, bounded by {@code drain.timeout}. */
    private void drain(MeshRouter r) {
        Duration timeout = config.drainTimeout();
        if (timeout.isZero()) {
            return;
        }
        long started = System.nanoTime();
        try {
            // The router closes what is still open at the deadline; the margin covers that close.
            r.drain(timeout).get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
            logger.info("site {}: router drained in {} ms", config.site(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            logger.warn("site {}: drain did not finish cleanly: {}", config.site(), e.toString());
        }
    }

    // ---- helpers

    private void writeAddresses() {
        ObjectNode addresses = NODES.objectNode();
        addresses.put("site", config.site());
        addresses.put("routerId", config.routerId());
        addresses.put("ingress", address(ingressAddress()));
        addresses.put("tunnel", address(tunnelAddress()));
        addresses.put("admin", (config.adminTls() ? "https://" : "http://") + address(adminAddress()));
        addresses.put("pid", ProcessHandle.current().pid());
        Path file = config.stateDir().resolve("addresses.json");
        Path tmp = config.stateDir().resolve("addresses.json.tmp");
        try {
            Files.writeString(tmp, JsonMapper.builder().build().writeValueAsString(addresses) + "\n", UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private String advertisedHost(InetSocketAddress bound) {
        if (config.tunnelAdvertiseAddress() != null) {
            return config.tunnelAdvertiseAddress();
        }
        if (!bound.getAddress().isAnyLocalAddress()) {
            return bound.getAddress().getHostAddress();
        }
        try {
            return InetAddress.getLocalHost().getHostAddress();
        } catch (UnknownHostException e) {
            throw new DaemonConfigException("", "tunnel.advertiseAddress",
                    "missing (expected: the address other sites dial, since tunnel.address is a wildcard)");
        }
    }

    private static String address(InetSocketAddress address) {
        String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    private static String readVersion() {
        try (InputStream in = RouterDaemon.class.getResourceAsStream("daemon-version.properties")) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                return properties.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }

    /** @return the settings this daemon runs with */
    public DaemonConfig config() {
        return config;
    }

    /** @return the version of this daemon */
    public String version() {
        return version;
    }

    @Override
    public String toString() {
        return "RouterDaemon{site=" + config.site() + ", routerId=" + config.routerId() + ", state=" + state() + "}";
    }
}
