package io.isthmus.mesh.examples;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.SiteCredentials;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * The two-site chain the hop benchmark measures: router A of site {@code site-a} takes plain HTTP on
 * {@code LISTEN_PORT} for any Host and carries it through an mTLS tunnel to router B of site
 * {@code site-b} on {@code TLS_PORT}, which forwards to the origin on {@code ORIGIN_PORT}.
 *
 * <p>Credentials come from {@code MESH_BENCH_DIR} ({@code ca.crt}, {@code site-a.crt/key},
 * {@code site-b.crt/key}); the trust domain is {@code TLS_NAME} without its first label. The argument
 * says which router to run in this process: {@code a}, {@code b} or {@code both}. {@code IO_THREADS}
 * sets the I/O threads of each router (default 1; {@code default} keeps the router's own default, one
 * per available processor). Runs until killed.
 */
public final class TwoSiteChain {

    private TwoSiteChain() {}

    /**
     * Runs router A, B or both until the process is stopped.
     *
     * @param args {@code a}, {@code b} or {@code both}
     * @throws InterruptedException when interrupted while running
     */
    public static void main(String[] args) throws InterruptedException {
        String role = args.length > 0 ? args[0].toLowerCase(Locale.ROOT) : "both";
        int listenPort = Integer.parseInt(env("LISTEN_PORT", "18090"));
        int tlsPort = Integer.parseInt(env("TLS_PORT", "18490"));
        int originPort = Integer.parseInt(env("ORIGIN_PORT", "18080"));
        String tlsName = env("TLS_NAME", "site-b.mesh.local");
        String trustDomain = tlsName.substring(tlsName.indexOf('.') + 1);
        Path dir = Path.of(env("MESH_BENCH_DIR", "."));
        String threads = env("IO_THREADS", "1");
        Integer ioThreads = threads.equals("default") ? null : Integer.valueOf(threads);

        ConfigStore store = ConfigStore.inMemory();
        store.put(Site.of("site-a"));
        store.put(Site.builder("site-b").tunnelEndpoint(Endpoint.of("127.0.0.1", tlsPort)).build());
        store.put(OriginPool.builder("origin").site("site-b").endpoint(Endpoint.of("127.0.0.1", originPort)).build());
        store.put(LoadBalancer.builder("bench").domain("*").advertiseAt("site-a").defaultPool("origin").build());

        List<MeshRouter> routers = new ArrayList<>();
        if (role.equals("b") || role.equals("both")) {
            MeshRouter.Builder b = MeshRouter.builder(credentials(trustDomain, dir, "site-b"), store)
                    .tunnelAddress(new InetSocketAddress("127.0.0.1", tlsPort));
            routers.add(withThreads(b, ioThreads).build().start());
        }
        if (role.equals("a") || role.equals("both")) {
            MeshRouter.Builder a = MeshRouter.builder(credentials(trustDomain, dir, "site-a"), store)
                    .ingressAddress(new InetSocketAddress("127.0.0.1", listenPort));
            routers.add(withThreads(a, ioThreads).build().start());
        }
        for (MeshRouter router : routers) {
            System.out.println("router of " + router.site() + ": ingress " + router.ingressAddress() + ", tunnels "
                    + router.tunnelAddress() + ", TLS by " + router.tlsProvider());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            routers.forEach(MeshRouter::close);
            stopped.countDown();
        }));
        stopped.await();
    }

    private static MeshRouter.Builder withThreads(MeshRouter.Builder builder, Integer ioThreads) {
        return ioThreads == null ? builder : builder.ioThreads(ioThreads);
    }

    private static SiteCredentials credentials(String trustDomain, Path dir, String site) {
        return SiteCredentials.fromFiles(trustDomain, dir.resolve(site + ".crt"), dir.resolve(site + ".key"),
                dir.resolve("ca.crt"));
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
