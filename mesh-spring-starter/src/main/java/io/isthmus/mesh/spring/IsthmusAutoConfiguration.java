package io.isthmus.mesh.spring;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.spring.internal.EtcdStores;
import io.isthmus.mesh.spring.internal.RouterMeshClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ResourceLoader;
import org.springframework.util.ClassUtils;

/**
 * Auto-configuration of an application in the mesh: binds {@link IsthmusProperties}; in daemon mode
 * (the default) provides a {@link MeshConnection} to the node's router daemon (from
 * {@code isthmus.daemon.*} and {@code isthmus.tls.*}) and the remote {@link MeshClient} over it; in embedded
 * mode ({@code isthmus.mode=embedded}, mesh-netty on the class path), provides the site's
 * {@link SiteCredentials} (from the PEM files of {@code isthmus.tls.*}), the {@link ConfigStore}
 * ({@code isthmus.store.*}), the {@link MeshRouter} with its {@link MeshRouterLifecycle} and
 * {@link MeshRouterStatus}, and the {@link MeshClient}. Each bean backs off when the application
 * defines one of its type. With {@code isthmus.register-beans=true}, mesh objects declared as beans are
 * written to the store at start-up ({@link MeshObjectRegistrar}).
 *
 * <p>Does nothing when {@code isthmus.enabled=false}.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "isthmus.enabled", matchIfMissing = true)
@EnableConfigurationProperties(IsthmusProperties.class)
public class IsthmusAutoConfiguration {

    /** Created by Spring. */
    public IsthmusAutoConfiguration() {}

    /**
     * Writes the mesh objects declared as beans to the store at start-up.
     *
     * @param client the client whose store receives them
     * @param objects the mesh object beans
     * @return the registrar
     */
    @Bean
    @ConditionalOnBooleanProperty("isthmus.register-beans")
    @ConditionalOnMissingBean
    MeshObjectRegistrar isthmusMeshObjectRegistrar(MeshClient client, ObjectProvider<MeshObject> objects) {
        return new MeshObjectRegistrar(client, objects.orderedStream().toList());
    }

    /** The router inside the application. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "isthmus.mode", havingValue = "embedded")
    @ConditionalOnClass(MeshRouter.class)
    static class EmbeddedConfiguration {

        @Bean
        @ConditionalOnMissingBean
        SiteCredentials isthmusSiteCredentials(IsthmusProperties properties) {
            IsthmusProperties.Tls tls = properties.getTls();
            String trustDomain = required(properties.getTrustDomain(), "isthmus.trust-domain",
                    "the mesh's trust domain, e.g. mesh.example");
            Path chain = required(tls.getCertificateChain(), "isthmus.tls.certificate-chain",
                    "the PEM file with the site certificate");
            Path key = required(tls.getPrivateKey(), "isthmus.tls.private-key",
                    "the PEM file with the site's private key");
            Path bundle = required(tls.getTrustBundle(), "isthmus.tls.trust-bundle",
                    "the PEM file with the mesh's root certificates");
            return SiteCredentials.fromFiles(trustDomain, chain, key, bundle);
        }

        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        ConfigStore isthmusConfigStore(IsthmusProperties properties, ResourceLoader resourceLoader) {
            IsthmusProperties.Store store = properties.getStore();
            return switch (store.getType()) {
                case IN_MEMORY -> ConfigStore.inMemory();
                case ETCD -> {
                    if (!ClassUtils.isPresent("io.isthmus.mesh.k8s.etcd.EtcdConfigStore",
                            resourceLoader.getClassLoader())) {
                        throw new IllegalStateException("isthmus.store.type=etcd needs io.isthmus:mesh-k8s on the "
                                + "class path (expected: add the dependency, or isthmus.store.type=in-memory)");
                    }
                    IsthmusProperties.Etcd etcd = store.getEtcd();
                    yield EtcdStores.create(etcd.getEndpoints(), etcd.getNamespace(), etcd.getRequestTimeout());
                }
            };
        }

        @Bean
        @ConditionalOnMissingBean
        MeshRouterStatus isthmusMeshRouterStatus() {
            return new MeshRouterStatus();
        }

        // The lifecycle starts and closes the router.
        @Bean(destroyMethod = "")
        @ConditionalOnMissingBean
        MeshRouter isthmusMeshRouter(IsthmusProperties properties, SiteCredentials credentials, ConfigStore store,
                MeshRouterStatus status) {
            String site = properties.getSite();
            if (site != null && !site.equals(credentials.site())) {
                throw new IllegalStateException("isthmus.site: " + site + " (expected: " + credentials.site()
                        + ", the site named by the certificate " + credentials.spiffeId() + ")");
            }
            IsthmusProperties.Embedded embedded = properties.getEmbedded();
            MeshRouter.Builder builder = MeshRouter.builder(credentials, store)
                    .ingressAddress(new InetSocketAddress(embedded.getIngressHost(), checkPort(
                            embedded.getIngressPort(), "isthmus.embedded.ingress-port")))
                    .tunnelAddress(new InetSocketAddress(embedded.getTunnelHost(), checkPort(
                            embedded.getTunnelPort(), "isthmus.embedded.tunnel-port")))
                    .connectTimeout(embedded.getConnectTimeout())
                    .responseTimeout(embedded.getResponseTimeout())
                    .listener(status);
            if (embedded.getIoThreads() < 0) {
                throw new IllegalStateException("isthmus.embedded.io-threads: " + embedded.getIoThreads()
                        + " (expected: 0 for one per processor, or > 0)");
            }
            if (embedded.getIoThreads() > 0) {
                builder.ioThreads(embedded.getIoThreads());
            }
            return builder.build();
        }

        @Bean
        @ConditionalOnMissingBean
        MeshRouterLifecycle isthmusMeshRouterLifecycle(IsthmusProperties properties, MeshRouter router,
                ConfigStore store) {
            return new MeshRouterLifecycle(router, store, properties.getEmbedded().isRegisterSite());
        }

        @Bean
        @ConditionalOnMissingBean
        MeshClient isthmusMeshClient(ConfigStore store, MeshRouter router) {
            return new RouterMeshClient(store, router::ingressAddress);
        }

        private static int checkPort(int port, String property) {
            if (port < 0 || port > 65535) {
                throw new IllegalStateException(property + ": " + port + " (expected: 0-65535, 0 for any free port)");
            }
            return port;
        }
    }

    /** The node's router daemon, reached through its admin API. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "isthmus.mode", havingValue = "daemon", matchIfMissing = true)
    static class DaemonConfiguration {

        @Bean
        @ConditionalOnMissingBean
        MeshConnection isthmusMeshConnection(IsthmusProperties properties) {
            IsthmusProperties.Daemon daemon = properties.getDaemon();
            IsthmusProperties.Tls tls = properties.getTls();
            MeshConnection.Builder builder = MeshConnection.builder(daemon.getAdminUrl())
                    .connectTimeout(daemon.getConnectTimeout())
                    .requestTimeout(daemon.getRequestTimeout());
            URI ingress = daemon.getIngress();
            if (ingress != null) {
                builder.ingress(ingress);
            }
            String token = daemon.getBearerToken();
            if (token != null && !token.isEmpty()) {
                builder.bearerToken(token);
            }
            Path bundle = tls.getTrustBundle();
            if (bundle != null) {
                builder.trustedCertificatesPem(read(bundle, "isthmus.tls.trust-bundle"));
            }
            Path chain = tls.getCertificateChain();
            Path key = tls.getPrivateKey();
            if ((chain == null) != (key == null)) {
                throw new IllegalStateException((chain == null ? "isthmus.tls.certificate-chain" : "isthmus.tls.private-key")
                        + ": not set (expected: both isthmus.tls.certificate-chain and isthmus.tls.private-key, "
                        + "or neither, for the admin API's client certificate)");
            }
            if (chain != null && key != null) {
                builder.clientCredentials(read(chain, "isthmus.tls.certificate-chain"),
                        read(key, "isthmus.tls.private-key"));
            }
            return builder.build();
        }

        // The client sends no request until it is used: start-up does not wait for the daemon.
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        MeshClient isthmusMeshClient(MeshConnection connection) {
            return MeshClient.connect(connection);
        }

        private static String read(Path file, String property) {
            try {
                return Files.readString(file);
            } catch (IOException e) {
                throw new IllegalStateException(property + ": cannot read " + file + " (" + e + ")", e);
            }
        }
    }

    /** Embedded mode asked for without the router on the class path: fail with what to do. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "isthmus.mode", havingValue = "embedded")
    @ConditionalOnMissingClass("io.isthmus.mesh.netty.MeshRouter")
    static class EmbeddedWithoutRouterConfiguration {

        EmbeddedWithoutRouterConfiguration() {
            throw new IllegalStateException("isthmus.mode=embedded needs io.isthmus:mesh-netty on the class path "
                    + "(expected: add the dependency, or isthmus.mode=daemon to use the node's router)");
        }
    }

    static <T> T required(@Nullable T value, String property, String expected) {
        if (value == null || value instanceof String s && s.isBlank()) {
            throw new IllegalStateException(property + ": not set (expected: " + expected
                    + "; required in embedded mode unless the application defines a SiteCredentials bean)");
        }
        return value;
    }
}
