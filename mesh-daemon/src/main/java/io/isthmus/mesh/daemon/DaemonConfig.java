package io.isthmus.mesh.daemon;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.k8s.ServiceSurfacer;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.SpiffeId;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The settings of a router daemon, read from a YAML file, environment variables and command-line
 * flags; a flag beats an environment variable, which beats the file, which beats the default.
 *
 * <pre>{@code
 * # daemon.yaml
 * site: tokyo
 * routerId: tokyo-1              # default: the host name
 * trustDomain: mesh.example
 * credentials:                   # PEM files of the site's identity
 *   certificateChain: /etc/isthmus/site.pem
 *   privateKey: /etc/isthmus/site-key.pem
 *   trustBundle: /etc/isthmus/trust-bundle.pem
 *   reloadInterval: 10s          # how often the files are checked for a new certificate
 * dev:
 *   generateCa: false            # true: a CA in the state directory issues the site's certificate
 * ca:                            # this daemon holds the mesh CA and issues join tokens (optional)
 *   certificate: /etc/isthmus/ca.pem
 *   privateKey: /etc/isthmus/ca-key.pem
 *   siteCertificateValidity: 24h # of the certificates issued to joining and renewing sites
 * join:                          # instead of credentials.*: join the mesh with a one-time token
 *   token: 0123456789abcdef.secret      # from "meshctl token create <site>"
 *   server: https://10.0.0.1:9443        # the admin API of a daemon that holds the CA
 *   caBundle: /etc/isthmus/trust-bundle.pem   # trusted for that admin API's certificate
 *   serverIdentity: spiffe://mesh.example/site/tokyo   # the identity it must present
 * ingress: {address: 0.0.0.0, port: 8080}
 * tunnel: {address: 0.0.0.0, port: 4443}
 * admin:
 *   address: 127.0.0.1
 *   port: 9443
 *   tls: {enabled: true}         # false is allowed on a loopback address only
 *   clientCertificateRoles: {"spiffe://mesh.example/site/ops": admin}
 *   watchHeartbeat: 15s
 * tokensFile: /etc/isthmus/tokens   # lines of "<role> <token>", role admin or read-only
 * etcd:
 *   endpoints: [https://etcd-0:2379]   # none: the embedded in-memory store
 *   namespace: /isthmus
 *   trustCertificates: /etc/isthmus/etcd-ca.pem
 *   certificateChain: /etc/isthmus/etcd-client.pem
 *   privateKey: /etc/isthmus/etcd-client-key.pem
 *   username: isthmus
 *   passwordFile: /etc/isthmus/etcd-password
 *   requestTimeout: 5s
 * stateDir: /var/lib/isthmus
 * drain: {delay: 5s, timeout: 20s}
 * kubernetes:                    # default: enabled when KUBERNETES_SERVICE_HOST and POD_IP are set
 *   enabled: true
 *   apiServer: https://10.96.0.1:443   # default: the in-cluster service account configuration
 *   serviceType: NodePort        # or ClusterIP: the type of the Services of remote load balancers
 *   routerPods:                  # every router pod goes into the surfaced Services' EndpointSlices
 *     namespace: isthmus-system  # default: POD_NAMESPACE
 *     labels: {app.kubernetes.io/name: isthmus-router}
 * router:                        # the data plane's size and limits; shown: MeshRouter.Builder's defaults
 *   ioThreads: 2                 # default: the processors the JVM sees; e.g. the pod's CPU limit
 *   maxConnections: 10000        # open connections per listener (ingress, tunnels)
 *   maxConcurrentStreams: 250    # per HTTP/2 connection of a client or peer router
 *   maxInitialLineLength: 8192   # bytes of an HTTP/1.1 request line; beyond: 414
 *   maxHeaderSize: 16384         # bytes of a request's header fields; beyond: 431
 *   maxHeaderCount: 100          # header fields of a request; beyond: 431
 *   requestHeaderTimeout: 10s    # for an HTTP/1.1 client to send a request head
 *   maxConnectionsPerOrigin: 1024      # to one origin endpoint, shared by the I/O threads
 *   maxPendingRequestsPerOrigin: 1024  # waiting for such a connection; beyond: 503 origin_overloaded
 *   tunnelConnectionsPerSite: 1  # per I/O thread and remote site, 1-16
 *   circuitBreakerOpenDuration: 5s
 *   connectTimeout: 5s           # TCP and TLS, to origins and peer routers
 *   responseTimeout: 30s         # for a response head; then 504
 *   idleTimeout: 60s             # of an unused origin connection
 *   localSiteFirst: false        # true: this site's healthy origins before other sites' of a priority
 * }</pre>
 *
 * <p>With {@code kubernetes.enabled}, the pod's Downward API variables {@code POD_IP} (or
 * {@code POD_IPS}), {@code NODE_NAME}, {@code POD_NAME} and {@code POD_NAMESPACE} are read from the
 * environment ({@link #downwardApi()}); {@code POD_IP} is required.
 *
 * <p>Every setting also comes from an environment variable named after it ({@code ISTHMUS_SITE},
 * {@code ISTHMUS_TUNNEL_PORT}, {@code ISTHMUS_ETCD_ENDPOINTS} as a comma-separated list) and from a
 * flag ({@code --site}, {@code --tunnel-port}, or {@code --set tunnel.port=0}). A bad or missing
 * value fails {@link #load(Path, Map, Map)} with a {@link DaemonConfigException} that names its
 * source and setting. Immutable.
 *
 * <p>The {@code router.*} settings ({@code ISTHMUS_ROUTER_IO_THREADS}, {@code --router-io-threads})
 * are those of {@link MeshRouter.Builder}, which documents each one and holds the defaults: a setting
 * left out keeps the builder's default. Sizes are integers, durations are written like {@code 5s}.
 * {@link #load(Path, Map, Map)} checks their syntax; the router checks their ranges when
 * {@link RouterDaemon#start(DaemonConfig, List)} configures it, before it reads the store or binds a
 * port, and a value it refuses fails the start with a {@link DaemonConfigException} naming the setting
 * (e.g. {@code ISTHMUS_ROUTER_IO_THREADS: router.ioThreads: 0 (expected: > 0)}). Extensions
 * ({@link DaemonExtension#configure}) see the builder after these settings and may override them.
 */
public final class DaemonConfig {

    private enum Type { STRING, PORT, BOOLEAN, PATH, LIST, DURATION, ROLES, LABELS, INTEGER }

    private static final Map<String, Type> SETTINGS = new LinkedHashMap<>();

    /** The {@code router.*} settings: each one's {@link MeshRouter.Builder} method, by dotted name. */
    private static final Map<String, BiConsumer<MeshRouter.Builder, Object>> ROUTER = new LinkedHashMap<>();

    static {
        SETTINGS.put("site", Type.STRING);
        SETTINGS.put("routerId", Type.STRING);
        SETTINGS.put("trustDomain", Type.STRING);
        SETTINGS.put("credentials.certificateChain", Type.PATH);
        SETTINGS.put("credentials.privateKey", Type.PATH);
        SETTINGS.put("credentials.trustBundle", Type.PATH);
        SETTINGS.put("credentials.reloadInterval", Type.DURATION);
        SETTINGS.put("dev.generateCa", Type.BOOLEAN);
        SETTINGS.put("dev.caDir", Type.PATH);
        SETTINGS.put("ca.certificate", Type.PATH);
        SETTINGS.put("ca.privateKey", Type.PATH);
        SETTINGS.put("ca.siteCertificateValidity", Type.DURATION);
        SETTINGS.put("join.token", Type.STRING);
        SETTINGS.put("join.server", Type.STRING);
        SETTINGS.put("join.caBundle", Type.PATH);
        SETTINGS.put("join.serverIdentity", Type.STRING);
        SETTINGS.put("ingress.address", Type.STRING);
        SETTINGS.put("ingress.port", Type.PORT);
        SETTINGS.put("tunnel.address", Type.STRING);
        SETTINGS.put("tunnel.port", Type.PORT);
        SETTINGS.put("tunnel.advertiseAddress", Type.STRING);
        SETTINGS.put("admin.address", Type.STRING);
        SETTINGS.put("admin.port", Type.PORT);
        SETTINGS.put("admin.tls.enabled", Type.BOOLEAN);
        SETTINGS.put("admin.clientCertificateRoles", Type.ROLES);
        SETTINGS.put("admin.watchHeartbeat", Type.DURATION);
        SETTINGS.put("tokensFile", Type.PATH);
        SETTINGS.put("etcd.endpoints", Type.LIST);
        SETTINGS.put("etcd.namespace", Type.STRING);
        SETTINGS.put("etcd.username", Type.STRING);
        SETTINGS.put("etcd.passwordFile", Type.PATH);
        SETTINGS.put("etcd.trustCertificates", Type.PATH);
        SETTINGS.put("etcd.certificateChain", Type.PATH);
        SETTINGS.put("etcd.privateKey", Type.PATH);
        SETTINGS.put("etcd.requestTimeout", Type.DURATION);
        SETTINGS.put("stateDir", Type.PATH);
        SETTINGS.put("drain.delay", Type.DURATION);
        SETTINGS.put("drain.timeout", Type.DURATION);
        SETTINGS.put("siteLeaseTtl", Type.DURATION);
        SETTINGS.put("storeCheckInterval", Type.DURATION);
        SETTINGS.put("kubernetes.enabled", Type.BOOLEAN);
        SETTINGS.put("kubernetes.apiServer", Type.STRING);
        SETTINGS.put("kubernetes.serviceType", Type.STRING);
        SETTINGS.put("kubernetes.routerPods.namespace", Type.STRING);
        SETTINGS.put("kubernetes.routerPods.labels", Type.LABELS);
        router("ioThreads", Type.INTEGER, (b, v) -> b.ioThreads((Integer) v));
        router("maxConnections", Type.INTEGER, (b, v) -> b.maxConnections((Integer) v));
        router("maxConcurrentStreams", Type.INTEGER, (b, v) -> b.maxConcurrentStreams((Integer) v));
        router("maxInitialLineLength", Type.INTEGER, (b, v) -> b.maxInitialLineLength((Integer) v));
        router("maxHeaderSize", Type.INTEGER, (b, v) -> b.maxHeaderSize((Integer) v));
        router("maxHeaderCount", Type.INTEGER, (b, v) -> b.maxHeaderCount((Integer) v));
        router("requestHeaderTimeout", Type.DURATION, (b, v) -> b.requestHeaderTimeout((Duration) v));
        router("maxConnectionsPerOrigin", Type.INTEGER, (b, v) -> b.maxConnectionsPerOrigin((Integer) v));
        router("maxPendingRequestsPerOrigin", Type.INTEGER, (b, v) -> b.maxPendingRequestsPerOrigin((Integer) v));
        router("tunnelConnectionsPerSite", Type.INTEGER, (b, v) -> b.tunnelConnectionsPerSite((Integer) v));
        router("circuitBreakerOpenDuration", Type.DURATION, (b, v) -> b.circuitBreakerOpenDuration((Duration) v));
        router("connectTimeout", Type.DURATION, (b, v) -> b.connectTimeout((Duration) v));
        router("responseTimeout", Type.DURATION, (b, v) -> b.responseTimeout((Duration) v));
        router("idleTimeout", Type.DURATION, (b, v) -> b.idleTimeout((Duration) v));
        router("localSiteFirst", Type.BOOLEAN, (b, v) -> b.localSiteFirst((Boolean) v));
    }

    private static void router(String name, Type type, BiConsumer<MeshRouter.Builder, Object> method) {
        SETTINGS.put("router." + name, type);
        ROUTER.put("router." + name, method);
    }

    /** The Downward API variables the Kubernetes integration reads. */
    private static final List<String> DOWNWARD_API = List.of("POD_IP", "POD_IPS", "NODE_NAME", "POD_NAME", "POD_NAMESPACE");

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final String site;
    private final String routerId;
    private final String trustDomain;
    private final @Nullable Path certificateChain;
    private final @Nullable Path privateKey;
    private final @Nullable Path trustBundle;
    private final Duration credentialsReloadInterval;
    private final boolean generateCa;
    private final Path caDir;
    private final @Nullable Path caCertificate;
    private final Duration siteCertificateValidity;
    private final @Nullable Path caPrivateKey;
    private final @Nullable String joinToken;
    private final @Nullable URI joinServer;
    private final @Nullable Path joinCaBundle;
    private final @Nullable SpiffeId joinServerIdentity;
    private final InetSocketAddress ingressAddress;
    private final InetSocketAddress tunnelAddress;
    private final @Nullable String tunnelAdvertiseAddress;
    private final InetSocketAddress adminAddress;
    private final boolean adminTls;
    private final Map<String, AdminRole> clientCertificateRoles;
    private final Duration watchHeartbeat;
    private final @Nullable Path tokensFile;
    private final List<URI> etcdEndpoints;
    private final String etcdNamespace;
    private final @Nullable String etcdUsername;
    private final @Nullable Path etcdPasswordFile;
    private final @Nullable Path etcdTrustCertificates;
    private final @Nullable Path etcdCertificateChain;
    private final @Nullable Path etcdPrivateKey;
    private final Duration etcdRequestTimeout;
    private final Path stateDir;
    private final Duration drainDelay;
    private final Duration drainTimeout;
    private final Duration siteLeaseTtl;
    private final Duration storeCheckInterval;
    private final boolean kubernetesEnabled;
    private final @Nullable URI kubernetesApiServer;
    private final ServiceSurfacer.ServiceType kubernetesServiceType;
    private final String kubernetesRouterPodsNamespace;
    private final Map<String, String> kubernetesRouterPodsLabels;
    private final Map<String, String> downwardApi;
    private final Map<String, RouterValue> router;

    private DaemonConfig(Values v) {
        site = v.string("site", null);
        try {
            Site.of(site);
        } catch (RuntimeException e) {
            throw v.bad("site", "\"" + site + "\" (expected: a site name: " + e.getMessage() + ")");
        }
        routerId = v.string("routerId", defaultRouterId());
        generateCa = v.bool("dev.generateCa", false);
        trustDomain = v.string("trustDomain", generateCa ? "dev.isthmus.local" : null);
        try {
            SpiffeId.ofSite(trustDomain, site);
        } catch (RuntimeException e) {
            throw v.bad("trustDomain", "\"" + trustDomain + "\" (expected: a trust domain such as mesh.example)");
        }
        stateDir = v.path("stateDir", Path.of("isthmus-state"));
        caDir = v.path("dev.caDir", stateDir.resolve("ca"));
        certificateChain = v.optionalPath("credentials.certificateChain");
        privateKey = v.optionalPath("credentials.privateKey");
        trustBundle = v.optionalPath("credentials.trustBundle");
        caCertificate = v.optionalPath("ca.certificate");
        caPrivateKey = v.optionalPath("ca.privateKey");
        if ((caCertificate == null) != (caPrivateKey == null)) {
            throw v.bad(caCertificate == null ? "ca.certificate" : "ca.privateKey",
                    "missing (expected: ca.certificate and ca.privateKey together)");
        }
        if (caCertificate != null && generateCa) {
            throw v.bad("ca.certificate", "set together with dev.generateCa: true (expected: one CA or the other)");
        }
        siteCertificateValidity = v.duration("ca.siteCertificateValidity", Duration.ofHours(24), false);
        if (v.values.containsKey("ca.siteCertificateValidity") && caCertificate == null && !generateCa) {
            throw v.bad("ca.siteCertificateValidity", "set without a CA (expected: ca.certificate and ca.privateKey, "
                    + "or dev.generateCa: true)");
        }
        joinToken = v.optionalString("join.token");
        String server = v.optionalString("join.server");
        joinCaBundle = v.optionalPath("join.caBundle");
        String identity = v.optionalString("join.serverIdentity");
        if (joinToken == null) {
            for (String key : List.of("join.server", "join.caBundle", "join.serverIdentity")) {
                if (v.values.containsKey(key)) {
                    throw v.bad(key, "set without join.token (expected: join.token too, or none of join.*)");
                }
            }
            joinServer = null;
            joinServerIdentity = null;
        } else {
            if (!joinToken.matches("[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}")) {
                throw v.bad("join.token", "not a join token (expected: <id>.<secret> as printed by "
                        + "\"meshctl token create\")");
            }
            if (generateCa || certificateChain != null || privateKey != null || trustBundle != null) {
                throw v.bad("join.token", "set together with " + (generateCa ? "dev.generateCa" : "credentials.*")
                        + " (expected: one way to obtain the site's certificate)");
            }
            if (server == null) {
                throw v.bad("join.server", "missing (expected: the admin API URL of the daemon that issued the "
                        + "token, e.g. https://10.0.0.1:9443)");
            }
            joinServer = joinServer(v, server);
            if (identity == null) {
                joinServerIdentity = null;
            } else {
                try {
                    joinServerIdentity = SpiffeId.parse(identity);
                } catch (RuntimeException e) {
                    throw v.bad("join.serverIdentity", "\"" + identity
                            + "\" (expected: a SPIFFE id such as spiffe://mesh.example/site/tokyo)");
                }
                if (joinCaBundle == null) {
                    throw v.bad("join.serverIdentity", "set without join.caBundle (expected: the trust bundle "
                            + "to verify the identity against)");
                }
            }
        }
        if (!generateCa && joinToken == null) {
            for (String key : List.of("credentials.certificateChain", "credentials.privateKey", "credentials.trustBundle")) {
                if (v.optionalPath(key) == null) {
                    throw v.bad(key, "missing (expected: a PEM file, join.token to join with a token, or "
                            + "dev.generateCa: true for a one-machine setup)");
                }
            }
        } else if (certificateChain != null || privateKey != null || trustBundle != null) {
            throw v.bad("dev.generateCa", "true together with credentials.* (expected: one or the other)");
        }
        ingressAddress = v.address("ingress", 8080);
        tunnelAddress = v.address("tunnel", 4443);
        tunnelAdvertiseAddress = v.optionalString("tunnel.advertiseAddress");
        adminAddress = v.address("admin", 9443);
        adminTls = v.bool("admin.tls.enabled", true);
        if (!adminTls && !adminAddress.getAddress().isLoopbackAddress()) {
            throw v.bad("admin.tls.enabled", "false on " + adminAddress.getAddress().getHostAddress()
                    + " (expected: true, or admin.address a loopback address such as 127.0.0.1)");
        }
        clientCertificateRoles = v.roles("admin.clientCertificateRoles");
        watchHeartbeat = v.duration("admin.watchHeartbeat", Duration.ofSeconds(15), false);
        tokensFile = v.optionalPath("tokensFile");
        List<URI> endpoints = new ArrayList<>();
        for (String endpoint : v.list("etcd.endpoints")) {
            URI uri;
            try {
                uri = URI.create(endpoint);
            } catch (IllegalArgumentException e) {
                throw v.bad("etcd.endpoints", "\"" + endpoint + "\" (expected: http://host:port or https://host:port)");
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getPort() <= 0) {
                throw v.bad("etcd.endpoints", "\"" + endpoint + "\" (expected: http://host:port or https://host:port)");
            }
            endpoints.add(uri);
        }
        etcdEndpoints = List.copyOf(endpoints);
        etcdNamespace = v.string("etcd.namespace", "/isthmus");
        if (!etcdNamespace.startsWith("/") || etcdNamespace.endsWith("/") || etcdNamespace.length() < 2) {
            throw v.bad("etcd.namespace", "\"" + etcdNamespace + "\" (expected: starts with /, does not end with /, e.g. /isthmus)");
        }
        etcdUsername = v.optionalString("etcd.username");
        etcdPasswordFile = v.optionalPath("etcd.passwordFile");
        if ((etcdUsername == null) != (etcdPasswordFile == null)) {
            throw v.bad(etcdUsername == null ? "etcd.username" : "etcd.passwordFile",
                    "missing (expected: etcd.username and etcd.passwordFile together)");
        }
        etcdTrustCertificates = v.optionalPath("etcd.trustCertificates");
        etcdCertificateChain = v.optionalPath("etcd.certificateChain");
        etcdPrivateKey = v.optionalPath("etcd.privateKey");
        if ((etcdCertificateChain == null) != (etcdPrivateKey == null)) {
            throw v.bad(etcdCertificateChain == null ? "etcd.certificateChain" : "etcd.privateKey",
                    "missing (expected: etcd.certificateChain and etcd.privateKey together)");
        }
        etcdRequestTimeout = v.duration("etcd.requestTimeout", Duration.ofSeconds(5), false);
        drainDelay = v.duration("drain.delay", Duration.ofSeconds(5), true);
        drainTimeout = v.duration("drain.timeout", Duration.ofSeconds(20), true);
        siteLeaseTtl = v.duration("siteLeaseTtl", Duration.ofSeconds(10), false);
        if (siteLeaseTtl.toMillis() % 1000 != 0) {
            throw v.bad("siteLeaseTtl", v.text("siteLeaseTtl") + " (expected: whole seconds, e.g. 10s)");
        }
        storeCheckInterval = v.duration("storeCheckInterval", Duration.ofSeconds(2), false);
        credentialsReloadInterval = v.duration("credentials.reloadInterval", Duration.ofSeconds(10), false);
        Map<String, String> downward = new LinkedHashMap<>();
        for (String name : DOWNWARD_API) {
            String value = v.env.get(name);
            if (value != null && !value.isBlank()) {
                downward.put(name, value.trim());
            }
        }
        downwardApi = Collections.unmodifiableMap(downward);
        kubernetesEnabled = v.bool("kubernetes.enabled", false);
        String apiServer = v.optionalString("kubernetes.apiServer");
        if (apiServer == null) {
            kubernetesApiServer = null;
        } else {
            URI uri;
            try {
                uri = URI.create(apiServer.trim());
            } catch (IllegalArgumentException e) {
                uri = null;
            }
            String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (uri == null || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                throw v.bad("kubernetes.apiServer", "\"" + apiServer + "\" (expected: https://host:port)");
            }
            kubernetesApiServer = uri;
        }
        String serviceType = v.string("kubernetes.serviceType", "NodePort");
        ServiceSurfacer.ServiceType type = null;
        for (ServiceSurfacer.ServiceType t : ServiceSurfacer.ServiceType.values()) {
            if (t.kubernetesName().equalsIgnoreCase(serviceType.trim())) {
                type = t;
            }
        }
        if (type == null) {
            throw v.bad("kubernetes.serviceType", "\"" + serviceType + "\" (expected: NodePort or ClusterIP)");
        }
        kubernetesServiceType = type;
        kubernetesRouterPodsNamespace = v.string("kubernetes.routerPods.namespace",
                downward.getOrDefault("POD_NAMESPACE", "isthmus-system"));
        kubernetesRouterPodsLabels = v.labels("kubernetes.routerPods.labels",
                Map.of("app.kubernetes.io/name", "isthmus-router"));
        if (kubernetesEnabled && !downward.containsKey("POD_IP") && !downward.containsKey("POD_IPS")) {
            throw v.bad("kubernetes.enabled", "true but the environment has no POD_IP (expected: the pod IP from "
                    + "the Downward API, env POD_IP with fieldRef status.podIP)");
        }
        Map<String, RouterValue> routerValues = new LinkedHashMap<>();
        for (String key : ROUTER.keySet()) {
            Value raw = v.values.get(key);
            if (raw == null) {
                continue;
            }
            Object value;
            String shown;
            switch (SETTINGS.get(key)) {
                case INTEGER:
                    int i = v.integer(key);
                    value = i;
                    shown = Integer.toString(i);
                    break;
                case DURATION:
                    // Zero and the upper bound are the router's to refuse (configureRouter).
                    value = v.duration(key, Duration.ZERO, true);
                    shown = "\"" + v.text(key) + "\"";
                    break;
                default:
                    value = v.bool(key, false);
                    shown = value.toString();
                    break;
            }
            routerValues.put(key, new RouterValue(value, shown, raw.source));
        }
        router = Collections.unmodifiableMap(routerValues);
    }

    /**
     * Reads the settings.
     *
     * @param file the YAML file ({@code --config}), or {@code null} for none
     * @param env the environment, e.g. {@link System#getenv()}; only {@code ISTHMUS_*} variables are read
     * @param flags settings from the command line, by dotted name ({@code tunnel.port}) to the flag's
     *     text; {@link #flagName(String)} gives the flag that errors name
     * @return the settings
     * @throws DaemonConfigException naming the source and setting of a missing or bad value
     */
    public static DaemonConfig load(@Nullable Path file, Map<String, String> env, Map<String, String> flags) {
        requireNonNull(env, "env");
        requireNonNull(flags, "flags");
        Values values = new Values();
        values.env = env;
        if (file != null) {
            values.readFile(file);
        }
        for (String key : SETTINGS.keySet()) {
            String name = envName(key);
            String value = env.get(name);
            if (value != null) {
                values.set(key, value, name);
            }
        }
        flags.forEach((key, value) -> {
            if (!SETTINGS.containsKey(key)) {
                throw new DaemonConfigException("--set", key, "unknown setting (expected: one of "
                        + String.join(", ", SETTINGS.keySet()) + ")");
            }
            values.set(key, value, flagName(key));
        });
        // In a router pod: the kubelet sets KUBERNETES_SERVICE_HOST, the DaemonSet POD_IP. Other pods
        // (a CI runner, say) have no POD_IP and stay off unless kubernetes.enabled says otherwise.
        if (!values.values.containsKey("kubernetes.enabled") && present(env, "KUBERNETES_SERVICE_HOST")
                && (present(env, "POD_IP") || present(env, "POD_IPS"))) {
            values.set("kubernetes.enabled", "true", "KUBERNETES_SERVICE_HOST");
        }
        return new DaemonConfig(values);
    }

    private static boolean present(Map<String, String> env, String name) {
        String value = env.get(name);
        return value != null && !value.isBlank();
    }

    /**
     * Returns the environment variable of a setting: {@code tunnel.port} is {@code ISTHMUS_TUNNEL_PORT}.
     *
     * @param setting the dotted name
     * @return the variable's name
     */
    public static String envName(String setting) {
        return "ISTHMUS_" + setting.replaceAll("([a-z])([A-Z])", "$1_$2").replace('.', '_').toUpperCase(Locale.ROOT);
    }

    /**
     * Returns the flag of a setting: {@code tunnel.port} is {@code --tunnel-port}.
     *
     * @param setting the dotted name
     * @return the flag
     */
    public static String flagName(String setting) {
        return "--" + setting.replaceAll("([a-z])([A-Z])", "$1-$2").replace('.', '-').toLowerCase(Locale.ROOT);
    }

    /**
     * Returns the names of every setting, in the order of the file example above.
     *
     * @return the dotted names
     */
    public static List<String> settings() {
        return List.copyOf(SETTINGS.keySet());
    }

    /**
     * Returns how a setting's value looks on the command line, e.g. {@code N} for an integer or
     * {@code DURATION} for a duration such as {@code 5s}.
     */
    static String valueLabel(String setting) {
        Type type = SETTINGS.get(setting);
        if (type == null) {
            return "VALUE";
        }
        switch (type) {
            case INTEGER:
                return "N";
            case DURATION:
                return "DURATION";
            case BOOLEAN:
                return "true|false";
            default:
                return "VALUE";
        }
    }

    private static URI joinServer(Values v, String server) {
        URI uri;
        try {
            uri = URI.create(server);
        } catch (IllegalArgumentException e) {
            throw v.bad("join.server", "\"" + server + "\" (expected: https://host:port)");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getPort() <= 0) {
            throw v.bad("join.server", "\"" + server + "\" (expected: https://host:port)");
        }
        if (scheme.equals("http") && !isLoopback(uri.getHost())) {
            throw v.bad("join.server", "\"" + server + "\" (expected: https://, or http:// to a loopback address "
                    + "only)");
        }
        return uri;
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]") || host.equals("::1");
    }

    private static String defaultRouterId() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String host = System.getenv("HOSTNAME");
            return host == null || host.isEmpty() ? "router" : host;
        }
    }

    /** @return the name of this router's site */
    public String site() {
        return site;
    }

    /** @return this router's id within its site (default: the host name) */
    public String routerId() {
        return routerId;
    }

    /** @return the mesh's trust domain */
    public String trustDomain() {
        return trustDomain;
    }

    /** @return the site certificate chain PEM file, {@code null} when {@link #generateCa()} */
    public @Nullable Path certificateChain() {
        return certificateChain;
    }

    /** @return the site private key PEM file, {@code null} when {@link #generateCa()} */
    public @Nullable Path privateKey() {
        return privateKey;
    }

    /** @return the trust bundle PEM file, {@code null} when {@link #generateCa()} */
    public @Nullable Path trustBundle() {
        return trustBundle;
    }

    /**
     * Returns how often the credentials files are checked for a new certificate; a changed, complete
     * set replaces the router's certificate without dropping requests.
     *
     * @return the interval (default: 10 s)
     */
    public Duration credentialsReloadInterval() {
        return credentialsReloadInterval;
    }

    /**
     * Returns whether the daemon runs the Kubernetes integration (surfacing remote load balancers as
     * Services, resolving Kubernetes-service origins); by default true when both
     * {@code KUBERNETES_SERVICE_HOST} (set in every pod) and {@code POD_IP} (set by the router
     * DaemonSet from the Downward API) are in the environment.
     *
     * @return whether Kubernetes is enabled
     */
    public boolean kubernetesEnabled() {
        return kubernetesEnabled;
    }

    /** @return the Kubernetes API server, or {@code null} for the in-cluster (service account) configuration */
    public @Nullable URI kubernetesApiServer() {
        return kubernetesApiServer;
    }

    /** @return the type of the Services that surface remote load balancers (default: NodePort) */
    public ServiceSurfacer.ServiceType kubernetesServiceType() {
        return kubernetesServiceType;
    }

    /** @return the namespace of the router pods (default: {@code POD_NAMESPACE}, else {@code isthmus-system}) */
    public String kubernetesRouterPodsNamespace() {
        return kubernetesRouterPodsNamespace;
    }

    /** @return the labels that select the router pods (default: {@code app.kubernetes.io/name=isthmus-router}) */
    public Map<String, String> kubernetesRouterPodsLabels() {
        return kubernetesRouterPodsLabels;
    }

    /**
     * Returns the pod's Downward API variables found in the environment: {@code POD_IP},
     * {@code POD_IPS}, {@code NODE_NAME}, {@code POD_NAME}, {@code POD_NAMESPACE}.
     *
     * @return the variables present, by name
     */
    public Map<String, String> downwardApi() {
        return downwardApi;
    }

    /** @return whether a development CA in {@link #caDir()} issues the site certificate */
    public boolean generateCa() {
        return generateCa;
    }

    /** @return the directory of the development CA (default: {@code <stateDir>/ca}) */
    public Path caDir() {
        return caDir;
    }

    /** @return the mesh CA's certificate PEM file when this daemon holds the CA, else {@code null} */
    public @Nullable Path caCertificate() {
        return caCertificate;
    }

    /** @return the mesh CA's private key PEM file when this daemon holds the CA, else {@code null} */
    public @Nullable Path caPrivateKey() {
        return caPrivateKey;
    }

    /**
     * Returns how long the certificates this daemon's CA issues to joining and renewing sites
     * ({@code POST /v1/join}, {@code POST /v1/renew}) are valid; default 24 hours. A joined site renews
     * once two thirds of its certificate's lifetime have passed.
     *
     * @return the validity of issued site certificates
     */
    public Duration siteCertificateValidity() {
        return siteCertificateValidity;
    }

    /** @return the one-time token to join the mesh with, {@code null} when the site has its credentials */
    public @Nullable String joinToken() {
        return joinToken;
    }

    /** @return the admin API of the daemon that redeems {@link #joinToken()}, {@code null} without a token */
    public @Nullable URI joinServer() {
        return joinServer;
    }

    /** @return the PEM file trusted for {@link #joinServer()}'s certificate, {@code null} for the JDK's */
    public @Nullable Path joinCaBundle() {
        return joinCaBundle;
    }

    /** @return the identity {@link #joinServer()} must present, {@code null} to check its host name */
    public @Nullable SpiffeId joinServerIdentity() {
        return joinServerIdentity;
    }

    /** @return where applications connect */
    public InetSocketAddress ingressAddress() {
        return ingressAddress;
    }

    /** @return where other sites' routers connect */
    public InetSocketAddress tunnelAddress() {
        return tunnelAddress;
    }

    /** @return the host other sites dial, when it differs from the bound tunnel address; {@code null} otherwise */
    public @Nullable String tunnelAdvertiseAddress() {
        return tunnelAdvertiseAddress;
    }

    /** @return where the admin API listens */
    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    /** @return whether the admin API uses TLS (only a loopback admin address may go without) */
    public boolean adminTls() {
        return adminTls;
    }

    /** @return the roles of callers that present a mesh client certificate, by SPIFFE id */
    public Map<String, AdminRole> clientCertificateRoles() {
        return clientCertificateRoles;
    }

    /** @return how often a watch stream without changes sends a heartbeat line (default 15 s) */
    public Duration watchHeartbeat() {
        return watchHeartbeat;
    }

    /** @return the file of admin API tokens, {@code null} for none */
    public @Nullable Path tokensFile() {
        return tokensFile;
    }

    /** @return the etcd endpoints; empty for the embedded in-memory store */
    public List<URI> etcdEndpoints() {
        return etcdEndpoints;
    }

    /** @return the etcd key prefix of the mesh's objects */
    public String etcdNamespace() {
        return etcdNamespace;
    }

    /** @return the etcd user, {@code null} for none */
    public @Nullable String etcdUsername() {
        return etcdUsername;
    }

    /** @return the file holding the etcd password, {@code null} for none */
    public @Nullable Path etcdPasswordFile() {
        return etcdPasswordFile;
    }

    /** @return the CA file that etcd's server certificate must chain to, {@code null} for the JDK's */
    public @Nullable Path etcdTrustCertificates() {
        return etcdTrustCertificates;
    }

    /** @return the etcd client certificate chain, {@code null} for none */
    public @Nullable Path etcdCertificateChain() {
        return etcdCertificateChain;
    }

    /** @return the etcd client private key, {@code null} for none */
    public @Nullable Path etcdPrivateKey() {
        return etcdPrivateKey;
    }

    /** @return how long one etcd call may take */
    public Duration etcdRequestTimeout() {
        return etcdRequestTimeout;
    }

    /** @return the directory of the last-good config, the bound addresses and the development CA */
    public Path stateDir() {
        return stateDir;
    }

    /** @return how long readiness reports 503 before the listeners close on shutdown */
    public Duration drainDelay() {
        return drainDelay;
    }

    /** @return how long shutdown waits for the router to close */
    public Duration drainTimeout() {
        return drainTimeout;
    }

    /** @return the TTL of this site's record in etcd: how long it outlives a dead router */
    public Duration siteLeaseTtl() {
        return siteLeaseTtl;
    }

    /** @return how often the daemon checks the store and renews its records */
    public Duration storeCheckInterval() {
        return storeCheckInterval;
    }

    /**
     * Returns the {@code router.*} settings that were given, by dotted name, e.g.
     * {@code router.ioThreads} to an {@link Integer}; the router's own defaults apply to the others.
     */
    Map<String, Object> routerSettings() {
        Map<String, Object> values = new LinkedHashMap<>();
        router.forEach((key, value) -> values.put(key, value.value));
        return values;
    }

    /**
     * Applies the {@code router.*} settings that were given to a router's builder; the others keep the
     * builder's defaults. The builder checks the values' ranges.
     *
     * @throws DaemonConfigException naming the source and setting of a value the builder refuses
     */
    void configureRouter(MeshRouter.Builder builder) {
        router.forEach((key, value) -> {
            try {
                ROUTER.get(key).accept(builder, value.value);
            } catch (IllegalArgumentException e) {
                String message = String.valueOf(e.getMessage());
                int expected = message.indexOf(" (expected: ");
                throw new DaemonConfigException(value.source, key,
                        value.shown + (expected >= 0 ? message.substring(expected) : " (" + message + ")"));
            }
        });
    }

    /** A {@code router.*} setting's typed value, its text for messages and where it came from. */
    private static final class RouterValue {
        final Object value;
        final String shown;
        final String source;

        RouterValue(Object value, String shown, String source) {
            this.value = value;
            this.shown = shown;
            this.source = source;
        }
    }

    /** A setting's value and where it came from. */
    private static final class Value {
        final Object value;
        final String source;

        Value(Object value, String source) {
            this.value = value;
            this.source = source;
        }
    }

    /** The layered raw values, later layers replacing earlier ones, and their typed readers. */
    private static final class Values {

        private final Map<String, Value> values = new LinkedHashMap<>();
        private Map<String, String> env = Map.of();

        void readFile(Path file) {
            String source = String.valueOf(file.getFileName());
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new DaemonConfigException(file.toString(), "--config", "cannot read the file (" + e + ")");
            }
            JsonNode root;
            try {
                root = YAMLMapper.builder().build().readTree(text);
            } catch (JacksonException e) {
                throw new DaemonConfigException(source, "(syntax)", e.getOriginalMessage()
                        + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                        + ", column " + e.getLocation().getColumnNr()));
            }
            if (root == null || root.isMissingNode() || root.isNull()) {
                return;
            }
            if (!root.isObject()) {
                throw new DaemonConfigException(source, "(document)", "not a mapping (expected: settings such as site: tokyo)");
            }
            flatten(source, "", root);
        }

        private void flatten(String source, String prefix, JsonNode node) {
            for (Map.Entry<String, JsonNode> entry : node.properties()) {
                String key = prefix + entry.getKey();
                JsonNode value = entry.getValue();
                Type type = SETTINGS.get(key);
                if (type == null && value.isObject() && SETTINGS.keySet().stream().anyMatch(s -> s.startsWith(key + '.'))) {
                    flatten(source, key + '.', value);
                } else if (type == null) {
                    throw new DaemonConfigException(source, key, "unknown setting (expected: one of "
                            + String.join(", ", SETTINGS.keySet()) + ")");
                } else if (value.isNull()) {
                    values.remove(key);
                } else {
                    values.put(key, new Value(toJava(source, key, value), source));
                }
            }
        }

        private static Object toJava(String source, String key, JsonNode node) {
            if (node.isObject()) {
                Map<String, String> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    if (!e.getValue().isValueNode()) {
                        throw new DaemonConfigException(source, key + '.' + e.getKey(), e.getValue() + " (expected: a single value)");
                    }
                    map.put(e.getKey(), e.getValue().asString());
                }
                return map;
            }
            if (node.isArray()) {
                List<String> list = new ArrayList<>();
                int i = 0;
                for (JsonNode item : node.values()) {
                    if (!item.isValueNode()) {
                        throw new DaemonConfigException(source, key + '[' + i + ']', item + " (expected: a single value)");
                    }
                    list.add(item.asString());
                    i++;
                }
                return list;
            }
            return node.asString();
        }

        void set(String key, String value, String source) {
            values.put(key, new Value(value, source));
        }

        DaemonConfigException bad(String key, String problem) {
            Value value = values.get(key);
            return new DaemonConfigException(value == null ? "" : value.source, key, problem);
        }

        String text(String key) {
            Value value = values.get(key);
            return value == null ? "" : String.valueOf(value.value);
        }

        private @Nullable String scalar(String key) {
            Value value = values.get(key);
            if (value == null) {
                return null;
            }
            if (!(value.value instanceof String)) {
                throw bad(key, value.value + " (expected: a single value)");
            }
            return (String) value.value;
        }

        @Nullable String optionalString(String key) {
            String value = scalar(key);
            if (value != null && value.isBlank()) {
                throw bad(key, "\"\" (expected: non-empty)");
            }
            return value;
        }

        String string(String key, @Nullable String fallback) {
            String value = optionalString(key);
            if (value != null) {
                return value;
            }
            if (fallback == null) {
                throw new DaemonConfigException("", key, "missing (expected: set in the config file, "
                        + envName(key) + " or " + flagName(key) + ")");
            }
            return fallback;
        }

        boolean bool(String key, boolean fallback) {
            String value = scalar(key);
            if (value == null) {
                return fallback;
            }
            if (value.equals("true") || value.equals("false")) {
                return Boolean.parseBoolean(value);
            }
            throw bad(key, "\"" + value + "\" (expected: true or false)");
        }

        @Nullable Path optionalPath(String key) {
            String value = optionalString(key);
            return value == null ? null : Path.of(value);
        }

        Path path(String key, Path fallback) {
            Path value = optionalPath(key);
            return value == null ? fallback : value;
        }

        InetSocketAddress address(String prefix, int defaultPort) {
            String host = string(prefix + ".address", "127.0.0.1");
            String portText = scalar(prefix + ".port");
            int port = defaultPort;
            if (portText != null) {
                try {
                    port = Integer.parseInt(portText.trim());
                } catch (NumberFormatException e) {
                    throw bad(prefix + ".port", "\"" + portText + "\" (expected: 0-65535)");
                }
                if (port < 0 || port > 65535) {
                    throw bad(prefix + ".port", port + " (expected: 0-65535)");
                }
            }
            InetAddress address;
            try {
                address = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw bad(prefix + ".address", "\"" + host + "\" (expected: an IP address or a resolvable host name)");
            }
            return new InetSocketAddress(address, port);
        }

        List<String> list(String key) {
            Value value = values.get(key);
            if (value == null) {
                return List.of();
            }
            List<String> items = new ArrayList<>();
            if (value.value instanceof List) {
                for (Object item : (List<?>) value.value) {
                    items.add(String.valueOf(item).trim());
                }
            } else if (value.value instanceof String) {
                for (String item : ((String) value.value).split(",", -1)) {
                    items.add(item.trim());
                }
            } else {
                throw bad(key, value.value + " (expected: a list)");
            }
            items.removeIf(String::isEmpty);
            return items;
        }

        int integer(String key) {
            String value = requireNonNull(scalar(key), key);
            try {
                return Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw bad(key, "\"" + value + "\" (expected: an integer)");
            }
        }

        Duration duration(String key, Duration fallback, boolean zeroAllowed) {
            String value = scalar(key);
            if (value == null) {
                return fallback;
            }
            Duration duration = null;
            Matcher matcher = DURATION.matcher(value.trim());
            if (matcher.matches()) {
                long amount = Long.parseLong(matcher.group(1));
                switch (matcher.group(2)) {
                    case "ms": duration = Duration.ofMillis(amount); break;
                    case "s": duration = Duration.ofSeconds(amount); break;
                    case "m": duration = Duration.ofMinutes(amount); break;
                    default: duration = Duration.ofHours(amount); break;
                }
            } else {
                try {
                    duration = Duration.parse(value.trim());
                } catch (DateTimeParseException e) {
                    // reported below
                }
            }
            if (duration == null || duration.isNegative() || (!zeroAllowed && duration.isZero())) {
                throw bad(key, "\"" + value + "\" (expected: a duration " + (zeroAllowed ? ">= 0" : "> 0")
                        + " such as 500ms, 5s, 1m)");
            }
            return duration;
        }

        Map<String, String> labels(String key, Map<String, String> fallback) {
            Value value = values.get(key);
            if (value == null) {
                return fallback;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (value.value instanceof Map) {
                ((Map<?, ?>) value.value).forEach((k, x) -> labels.put(String.valueOf(k), String.valueOf(x)));
            } else if (value.value instanceof String) {
                for (String pair : ((String) value.value).split(",", -1)) {
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw bad(key, "\"" + value.value + "\" (expected: key=value pairs separated by commas)");
                    }
                    labels.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
                }
            } else {
                throw bad(key, value.value + " (expected: a mapping of label keys to values)");
            }
            if (labels.isEmpty() || labels.keySet().stream().anyMatch(String::isEmpty)) {
                throw bad(key, value.value + " (expected: at least one label, e.g. app.kubernetes.io/name: isthmus-router)");
            }
            return Collections.unmodifiableMap(labels);
        }

        Map<String, AdminRole> roles(String key) {
            Value value = values.get(key);
            if (value == null) {
                return Map.of();
            }
            if (!(value.value instanceof Map)) {
                throw bad(key, "\"" + value.value + "\" (expected: a mapping of SPIFFE ids to roles, in the config file)");
            }
            Map<String, AdminRole> roles = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value.value).entrySet()) {
                String id = String.valueOf(e.getKey());
                try {
                    SpiffeId.parse(id);
                } catch (RuntimeException ex) {
                    throw new DaemonConfigException(value.source, key + "[" + id + "]",
                            "not a SPIFFE id (expected: spiffe://<trust-domain>/site/<site>)");
                }
                try {
                    roles.put(id, AdminRole.parse(String.valueOf(e.getValue())));
                } catch (IllegalArgumentException ex) {
                    throw new DaemonConfigException(value.source, key + "[" + id + "]",
                            "\"" + e.getValue() + "\" (expected: admin or read-only)");
                }
            }
            return Collections.unmodifiableMap(roles);
        }
    }
}
