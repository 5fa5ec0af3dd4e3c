package io.isthmus.mesh.examples.spring;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.examples.spring.osaka.OsakaApp;
import io.isthmus.mesh.examples.spring.tokyo.TokyoApp;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.client.RestClient;

/**
 * Starts the Osaka and Tokyo applications in one JVM, each with its embedded router and its own
 * certificate from one mesh CA, sharing an in-memory config store; then Tokyo calls
 * {@code http://osaka-app/orders?id=42}, prints the answer and both stop.
 *
 * <pre>{@code
 * java -jar examples/spring-tokyo-osaka/target/spring-tokyo-osaka.jar
 * }</pre>
 *
 * <p>Each application reads its settings from {@code application-osaka.yml} or
 * {@code application-tokyo.yml}; only the PEM file paths, written at start to a temporary directory,
 * come from here. In production the two applications run in different clusters and share an etcd
 * store ({@code isthmus.store.type=etcd}) instead.
 */
public final class SpringTokyoOsaka {

    private static final Duration CONFIG_TIMEOUT = Duration.ofSeconds(10);

    private SpringTokyoOsaka() {}

    /**
     * Runs the example and exits with 0 once Tokyo got Osaka's answer.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        String answer = callOsakaFromTokyo();
        System.out.println("==> tokyo called http://osaka-app/orders?id=42 through its embedded router:");
        System.out.println("    " + answer);
    }

    /**
     * Starts both applications, makes the call and stops them.
     *
     * @return the body Osaka answered
     */
    public static String callOsakaFromTokyo() {
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("demo.isthmus.io");
        Path pki = createTempDirectory();
        try (ConfigStore store = ConfigStore.inMemory();
                ConfigurableApplicationContext osaka = start(OsakaApp.class, "osaka", WebApplicationType.SERVLET,
                        store, siteFiles(ca, "osaka", pki));
                ConfigurableApplicationContext tokyo = start(TokyoApp.class, "tokyo", WebApplicationType.NONE,
                        store, siteFiles(ca, "tokyo", pki))) {
            awaitRoutes(tokyo.getBean(MeshRouter.class), store);
            RestClient orders = tokyo.getBean("osakaOrders", RestClient.class);
            return orders.get().uri("/orders?id=42").retrieve().body(String.class);
        } finally {
            deleteRecursively(pki);
        }
    }

    private static ConfigurableApplicationContext start(Class<?> app, String site, WebApplicationType type,
            ConfigStore store, List<String> properties) {
        List<String> args = new ArrayList<>(properties);
        return new SpringApplicationBuilder(app)
                .profiles(site)
                .web(type)
                // Both sites follow the same store: registered before the auto-configuration looks for one.
                .initializers(context -> context.getBeanFactory().registerSingleton("sharedMeshStore", store))
                .run(args.toArray(String[]::new));
    }

    /** Waits until Tokyo's router routes by the store's latest objects (Osaka's pool and load balancer). */
    private static void awaitRoutes(MeshRouter router, ConfigStore store) {
        long revision = store.revision();
        long deadline = System.nanoTime() + CONFIG_TIMEOUT.toNanos();
        while (router.appliedRevision() < revision) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("router of site " + router.site() + " applied revision "
                        + router.appliedRevision() + " (expected: " + revision + " within " + CONFIG_TIMEOUT + ")");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the router of " + router.site(), e);
            }
        }
    }

    private static List<String> siteFiles(MeshCertificateAuthority ca, String site, Path dir) {
        SiteCredentials credentials = ca.issueSite(site);
        try {
            Path chain = Files.writeString(dir.resolve(site + ".crt"), credentials.certificateChainPem());
            Path key = Files.writeString(dir.resolve(site + ".key"), credentials.privateKeyPem());
            Path bundle = Files.writeString(dir.resolve("ca.crt"), ca.trustBundle().toPem());
            return List.of("--isthmus.tls.certificate-chain=" + chain, "--isthmus.tls.private-key=" + key,
                    "--isthmus.tls.trust-bundle=" + bundle);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path createTempDirectory() {
        try {
            return Files.createTempDirectory("isthmus-spring-demo");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }
}
