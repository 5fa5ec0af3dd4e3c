package io.isthmus.mesh.spring;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code isthmus.*} settings of an application in the mesh.
 *
 * <pre>{@code
 * isthmus:
 *   mode: embedded
 *   site: tokyo
 *   trust-domain: mesh.example
 *   tls:
 *     certificate-chain: /etc/isthmus/tokyo.crt
 *     private-key: /etc/isthmus/tokyo.key
 *     trust-bundle: /etc/isthmus/ca.crt
 *   store:
 *     type: etcd
 *     etcd:
 *       endpoints: http://etcd-0:2379,http://etcd-1:2379
 * }</pre>
 *
 * <p>Bound once at start-up by Spring; not meant to be changed afterwards.
 */
@ConfigurationProperties("isthmus")
public class IsthmusProperties {

    /** How the application reaches the mesh. */
    public enum Mode {
        /** Through the router daemon of the node (its admin API and its ingress). */
        DAEMON,
        /** Through a router that runs inside the application (needs mesh-netty on the class path). */
        EMBEDDED
    }

    /** Where an embedded router reads and writes the mesh configuration. */
    public enum StoreType {
        /** A store in the application's memory: for a single JVM, demos and tests. */
        IN_MEMORY,
        /** An etcd cluster (needs mesh-k8s on the class path). */
        ETCD
    }

    /** Whether the Isthmus auto-configuration applies. */
    private boolean enabled = true;

    /** How the application reaches the mesh: through the node's router daemon, or a router embedded in the application. */
    private Mode mode = Mode.DAEMON;

    /** Name of the site this application runs at, e.g. tokyo; required in embedded mode. */
    private @Nullable String site;

    /** Trust domain of the mesh, e.g. mesh.example; required to read the TLS material. */
    private @Nullable String trustDomain;

    /** Whether Site, OriginPool and LoadBalancer beans of the application are written to the mesh's store at start-up. */
    private boolean registerBeans;

    private final Tls tls = new Tls();

    private final Store store = new Store();

    private final Embedded embedded = new Embedded();

    private final Daemon daemon = new Daemon();

    private final Http http = new Http();

    private final Discovery discovery = new Discovery();

    /**
     * Returns whether the auto-configuration applies.
     *
     * @return {@code true} by default
     */
    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Sets whether the auto-configuration applies.
     *
     * @param enabled {@code false} to turn Isthmus off
     */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /**
     * Returns how the application reaches the mesh.
     *
     * @return the mode, {@link Mode#DAEMON} by default
     */
    public Mode getMode() {
        return mode;
    }

    /**
     * Sets how the application reaches the mesh.
     *
     * @param mode the mode
     */
    public void setMode(Mode mode) {
        this.mode = mode;
    }

    /**
     * Returns the name of this application's site.
     *
     * @return the site, or {@code null} when not set
     */
    public @Nullable String getSite() {
        return site;
    }

    /**
     * Sets the name of this application's site.
     *
     * @param site the site, e.g. {@code tokyo}
     */
    public void setSite(@Nullable String site) {
        this.site = site;
    }

    /**
     * Returns the mesh's trust domain.
     *
     * @return the trust domain, or {@code null} when not set
     */
    public @Nullable String getTrustDomain() {
        return trustDomain;
    }

    /**
     * Sets the mesh's trust domain.
     *
     * @param trustDomain the trust domain, e.g. {@code mesh.example}
     */
    public void setTrustDomain(@Nullable String trustDomain) {
        this.trustDomain = trustDomain;
    }

    /**
     * Returns whether mesh object beans are written to the store at start-up.
     *
     * @return {@code false} by default
     */
    public boolean isRegisterBeans() {
        return registerBeans;
    }

    /**
     * Sets whether mesh object beans are written to the store at start-up.
     *
     * @param registerBeans {@code true} to opt in
     */
    public void setRegisterBeans(boolean registerBeans) {
        this.registerBeans = registerBeans;
    }

    /**
     * Returns the TLS material settings.
     *
     * @return the settings
     */
    public Tls getTls() {
        return tls;
    }

    /**
     * Returns the config store settings of embedded mode.
     *
     * @return the settings
     */
    public Store getStore() {
        return store;
    }

    /**
     * Returns the embedded router's settings.
     *
     * @return the settings
     */
    public Embedded getEmbedded() {
        return embedded;
    }

    /**
     * Returns the settings of daemon mode.
     *
     * @return the settings
     */
    public Daemon getDaemon() {
        return daemon;
    }

    /**
     * Returns the HTTP client integration settings.
     *
     * @return the settings
     */
    public Http getHttp() {
        return http;
    }

    /**
     * Returns the Spring Cloud discovery settings.
     *
     * @return the settings
     */
    public Discovery getDiscovery() {
        return discovery;
    }

    /** The Spring Cloud DiscoveryClient of the mesh services. */
    public static class Discovery {

        /** Whether mesh services are listed by a Spring Cloud DiscoveryClient. */
        private boolean enabled = true;

        /**
         * Returns whether the discovery client applies.
         *
         * @return {@code true} by default
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the discovery client applies.
         *
         * @param enabled {@code false} to leave discovery alone
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** PEM files of the site's identity: read by the embedded router, and by daemon mode for the admin API. */
    public static class Tls {

        /** PEM file with the site certificate, then any intermediates. */
        private @Nullable Path certificateChain;

        /** PEM file with the site's private key (PKCS#8, SEC1 or PKCS#1, unencrypted). */
        private @Nullable Path privateKey;

        /** PEM file with the mesh's trusted root certificates. */
        private @Nullable Path trustBundle;

        /**
         * Returns the certificate chain file.
         *
         * @return the file, or {@code null} when not set
         */
        public @Nullable Path getCertificateChain() {
            return certificateChain;
        }

        /**
         * Sets the certificate chain file.
         *
         * @param certificateChain the file
         */
        public void setCertificateChain(@Nullable Path certificateChain) {
            this.certificateChain = certificateChain;
        }

        /**
         * Returns the private key file.
         *
         * @return the file, or {@code null} when not set
         */
        public @Nullable Path getPrivateKey() {
            return privateKey;
        }

        /**
         * Sets the private key file.
         *
         * @param privateKey the file
         */
        public void setPrivateKey(@Nullable Path privateKey) {
            this.privateKey = privateKey;
        }

        /**
         * Returns the trust bundle file.
         *
         * @return the file, or {@code null} when not set
         */
        public @Nullable Path getTrustBundle() {
            return trustBundle;
        }

        /**
         * Sets the trust bundle file.
         *
         * @param trustBundle the file
         */
        public void setTrustBundle(@Nullable Path trustBundle) {
            this.trustBundle = trustBundle;
        }
    }

    /** The config store of embedded mode. */
    public static class Store {

        /** Which store the embedded router follows. */
        private StoreType type = StoreType.IN_MEMORY;

        private final Etcd etcd = new Etcd();

        /**
         * Returns the store type.
         *
         * @return {@link StoreType#IN_MEMORY} by default
         */
        public StoreType getType() {
            return type;
        }

        /**
         * Sets the store type.
         *
         * @param type the type
         */
        public void setType(StoreType type) {
            this.type = type;
        }

        /**
         * Returns the etcd settings.
         *
         * @return the settings
         */
        public Etcd getEtcd() {
            return etcd;
        }
    }

    /** The etcd cluster that holds the mesh configuration. */
    public static class Etcd {

        /** Client URLs of the etcd members, e.g. http://127.0.0.1:2379. */
        private List<URI> endpoints = new ArrayList<>();

        /** Key prefix under which the mesh objects are kept. */
        private String namespace = "/isthmus";

        /** How long one etcd request may take. */
        private Duration requestTimeout = Duration.ofSeconds(5);

        /**
         * Returns the etcd client URLs.
         *
         * @return the URLs, empty when not set
         */
        public List<URI> getEndpoints() {
            return endpoints;
        }

        /**
         * Sets the etcd client URLs.
         *
         * @param endpoints the URLs
         */
        public void setEndpoints(List<URI> endpoints) {
            this.endpoints = endpoints;
        }

        /**
         * Returns the key prefix.
         *
         * @return {@code /isthmus} by default
         */
        public String getNamespace() {
            return namespace;
        }

        /**
         * Sets the key prefix.
         *
         * @param namespace the prefix
         */
        public void setNamespace(String namespace) {
            this.namespace = namespace;
        }

        /**
         * Returns the request timeout.
         *
         * @return 5 seconds by default
         */
        public Duration getRequestTimeout() {
            return requestTimeout;
        }

        /**
         * Sets the request timeout.
         *
         * @param requestTimeout the timeout
         */
        public void setRequestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
        }
    }

    /** The router that runs inside the application in embedded mode. */
    public static class Embedded {

        /** Address the ingress listener binds to: the application's calls to mesh domains go there. */
        private String ingressHost = "127.0.0.1";

        /** Port of the ingress listener; 0 picks a free port. */
        private int ingressPort;

        /** Address the tunnel listener binds to: other sites' routers dial it. */
        private String tunnelHost = "127.0.0.1";

        /** Port of the tunnel listener; 0 picks a free port. */
        private int tunnelPort;

        /** Number of I/O threads of the router; 0 means one per processor. */
        private int ioThreads;

        /** How long connecting to an origin or dialling a tunnel may take. */
        private Duration connectTimeout = Duration.ofSeconds(5);

        /** How long to wait for the head of a response once a request was sent. */
        private Duration responseTimeout = Duration.ofSeconds(30);

        /** Whether the router writes its site, with its tunnel endpoint, to the store once it listens. */
        private boolean registerSite = true;

        /**
         * Returns the ingress bind address.
         *
         * @return {@code 127.0.0.1} by default
         */
        public String getIngressHost() {
            return ingressHost;
        }

        /**
         * Sets the ingress bind address.
         *
         * @param ingressHost the address
         */
        public void setIngressHost(String ingressHost) {
            this.ingressHost = ingressHost;
        }

        /**
         * Returns the ingress port.
         *
         * @return 0 (any free port) by default
         */
        public int getIngressPort() {
            return ingressPort;
        }

        /**
         * Sets the ingress port.
         *
         * @param ingressPort 0-65535
         */
        public void setIngressPort(int ingressPort) {
            this.ingressPort = ingressPort;
        }

        /**
         * Returns the tunnel bind address.
         *
         * @return {@code 127.0.0.1} by default
         */
        public String getTunnelHost() {
            return tunnelHost;
        }

        /**
         * Sets the tunnel bind address.
         *
         * @param tunnelHost the address
         */
        public void setTunnelHost(String tunnelHost) {
            this.tunnelHost = tunnelHost;
        }

        /**
         * Returns the tunnel port.
         *
         * @return 0 (any free port) by default
         */
        public int getTunnelPort() {
            return tunnelPort;
        }

        /**
         * Sets the tunnel port.
         *
         * @param tunnelPort 0-65535
         */
        public void setTunnelPort(int tunnelPort) {
            this.tunnelPort = tunnelPort;
        }

        /**
         * Returns the number of I/O threads.
         *
         * @return 0 (one per processor) by default
         */
        public int getIoThreads() {
            return ioThreads;
        }

        /**
         * Sets the number of I/O threads.
         *
         * @param ioThreads 0 for one per processor, or a positive number
         */
        public void setIoThreads(int ioThreads) {
            this.ioThreads = ioThreads;
        }

        /**
         * Returns the connect timeout.
         *
         * @return 5 seconds by default
         */
        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        /**
         * Sets the connect timeout.
         *
         * @param connectTimeout a positive duration
         */
        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        /**
         * Returns the response timeout.
         *
         * @return 30 seconds by default
         */
        public Duration getResponseTimeout() {
            return responseTimeout;
        }

        /**
         * Sets the response timeout.
         *
         * @param responseTimeout a positive duration
         */
        public void setResponseTimeout(Duration responseTimeout) {
            this.responseTimeout = responseTimeout;
        }

        /**
         * Returns whether the router registers its site in the store.
         *
         * @return {@code true} by default
         */
        public boolean isRegisterSite() {
            return registerSite;
        }

        /**
         * Sets whether the router registers its site in the store.
         *
         * @param registerSite {@code false} when the site record is managed elsewhere
         */
        public void setRegisterSite(boolean registerSite) {
            this.registerSite = registerSite;
        }
    }

    /** The router daemon of the node, in daemon mode. */
    public static class Daemon {

        /** URL of the daemon's admin API; its certificate is checked against isthmus.tls.trust-bundle when set, the JDK's trust store otherwise. */
        private URI adminUrl = URI.create("https://127.0.0.1:9443");

        /** URL of the daemon's ingress listener, where the application's calls to mesh domains go; by default port 8080 on the admin API's host. */
        private @Nullable URI ingress;

        /** Bearer token presented to the admin API. */
        private @Nullable String bearerToken;

        /** How long opening a connection to the admin API may take. */
        private Duration connectTimeout = Duration.ofSeconds(10);

        /** How long one admin API request may take (watches are not limited). */
        private Duration requestTimeout = Duration.ofSeconds(30);

        /**
         * Returns the admin API URL.
         *
         * @return {@code https://127.0.0.1:9443} by default
         */
        public URI getAdminUrl() {
            return adminUrl;
        }

        /**
         * Sets the admin API URL.
         *
         * @param adminUrl the URL
         */
        public void setAdminUrl(URI adminUrl) {
            this.adminUrl = adminUrl;
        }

        /**
         * Returns the ingress URL.
         *
         * @return the URL, or {@code null} for port 8080 on the admin API's host
         */
        public @Nullable URI getIngress() {
            return ingress;
        }

        /**
         * Sets the ingress URL.
         *
         * @param ingress the URL
         */
        public void setIngress(@Nullable URI ingress) {
            this.ingress = ingress;
        }

        /**
         * Returns the admin API bearer token.
         *
         * @return the token, or {@code null} when not set
         */
        public @Nullable String getBearerToken() {
            return bearerToken;
        }

        /**
         * Sets the admin API bearer token.
         *
         * @param bearerToken the token
         */
        public void setBearerToken(@Nullable String bearerToken) {
            this.bearerToken = bearerToken;
        }

        /**
         * Returns the connect timeout of the admin API.
         *
         * @return 10 seconds by default
         */
        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        /**
         * Sets the connect timeout of the admin API.
         *
         * @param connectTimeout a positive duration
         */
        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        /**
         * Returns the request timeout of the admin API.
         *
         * @return 30 seconds by default
         */
        public Duration getRequestTimeout() {
            return requestTimeout;
        }

        /**
         * Sets the request timeout of the admin API.
         *
         * @param requestTimeout a positive duration
         */
        public void setRequestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
        }
    }

    /** How Spring's HTTP clients reach mesh domains. */
    public static class Http {

        /** Whether RestClient and WebClient builders send requests for mesh domains to the router ingress. */
        private boolean enabled = true;

        /** Shortest time between two reloads of the mesh domains when a host is not (yet) one of them. */
        private Duration domainRefresh = Duration.ofSeconds(1);

        /**
         * Returns whether the HTTP client integration applies.
         *
         * @return {@code true} by default
         */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the HTTP client integration applies.
         *
         * @param enabled {@code false} to leave HTTP clients untouched
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /**
         * Returns the shortest time between two reloads of the mesh domains.
         *
         * @return 1 second by default
         */
        public Duration getDomainRefresh() {
            return domainRefresh;
        }

        /**
         * Sets the shortest time between two reloads of the mesh domains.
         *
         * @param domainRefresh a duration, zero to reload on every unknown host
         */
        public void setDomainRefresh(Duration domainRefresh) {
            this.domainRefresh = domainRefresh;
        }
    }
}
