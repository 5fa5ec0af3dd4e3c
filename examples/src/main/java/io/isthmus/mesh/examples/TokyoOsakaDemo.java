package io.isthmus.mesh.examples;

import com.sun.net.httpserver.HttpServer;
import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.netty.MeshRouterListener;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.isthmus.mesh.pki.SpiffeId;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The Tokyo/Osaka demo: two sites on 127.0.0.1, an app at Osaka, and a client at Tokyo that calls
 * {@code http://osaka-app/} through Tokyo's router and an mTLS tunnel to Osaka's router.
 *
 * <p>Run it with {@code java -jar examples/target/isthmus-demo.jar}; it exits 0 when the response
 * from Osaka arrived, 1 otherwise.
 */
public final class TokyoOsakaDemo {

    private TokyoOsakaDemo() {}

    /**
     * Runs the demo.
     *
     * @param args ignored
     * @throws Exception when the demo cannot run
     */
    public static void main(String[] args) throws Exception {
        int status = run();
        System.exit(status);
    }

    static int run() throws Exception {
        long start = System.nanoTime();
        step("Creating a mesh certificate authority for trust domain demo.isthmus.io");
        MeshCertificateAuthority ca = MeshCertificateAuthority.create("demo.isthmus.io");
        say("root: " + ca.certificate().getSubjectX500Principal().getName());

        step("Starting the embedded in-memory config store");
        ConfigStore store = ConfigStore.inMemory();

        step("Starting the Osaka app (the origin) on 127.0.0.1");
        HttpServer app = startOsakaApp();
        Endpoint appEndpoint = Endpoint.of("127.0.0.1", app.getAddress().getPort());
        say("osaka app listening on " + appEndpoint);

        MeshRouterListener listener = new MeshRouterListener() {
            @Override
            public void tunnelEstablished(SpiffeId peer, SocketAddress remoteAddress, boolean outbound) {
                say((outbound ? "tunnel up: tokyo -> " : "tunnel accepted by osaka from ") + peer + " at "
                        + hostPort(remoteAddress) + " (TLS 1.3, mutual authentication)");
            }

            @Override
            public void tunnelRejected(SocketAddress remoteAddress, String reason, boolean outbound) {
                say("tunnel refused: " + reason);
            }
        };
        step("Starting the routers of sites tokyo and osaka, each with a site certificate from the mesh CA");
        SiteCredentials tokyoId = ca.issueSite("tokyo");
        SiteCredentials osakaId = ca.issueSite("osaka");
        say("tokyo identity: " + tokyoId.spiffeId() + ", osaka identity: " + osakaId.spiffeId());
        try (MeshRouter osaka = MeshRouter.builder(osakaId, store).ioThreads(1).listener(listener).build().start();
                MeshRouter tokyo = MeshRouter.builder(tokyoId, store).ioThreads(1).listener(listener).build().start()) {
            say("osaka router: tunnels on " + hostPort(osaka.tunnelAddress()) + ", TLS by " + osaka.tlsProvider());
            say("tokyo router: ingress on " + hostPort(tokyo.ingressAddress()));

            step("Creating the mesh objects through the Java API");
            List<MeshObject> objects = List.of(
                    Site.builder("tokyo").tunnelEndpoint(tokyo.tunnelEndpoint()).build(),
                    Site.builder("osaka").tunnelEndpoint(osaka.tunnelEndpoint()).build(),
                    OriginPool.builder("osaka-pool").site("osaka").endpoint(appEndpoint).build(),
                    LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo").defaultPool("osaka-pool")
                            .build());
            for (MeshObject object : objects) {
                long revision = store.put(object).modRevision();
                say("created " + object.key() + " (revision " + revision + ")");
            }
            say("the pool and the load balancer as YAML:");
            System.out.print(indent(MeshObjectCodec.create().toYaml(objects.subList(2, 4))));
            awaitApplied(store, tokyo, osaka);

            step("A client at tokyo calls http://osaka-app/orders?id=42 through tokyo's router");
            HttpClient client = HttpClient.newBuilder()
                    .proxy(ProxySelector.of(tokyo.ingressAddress()))
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            HttpResponse<String> response = client.send(
                    HttpRequest.newBuilder(URI.create("http://osaka-app/orders?id=42"))
                            .timeout(Duration.ofSeconds(15))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            say("HTTP " + response.statusCode() + " from " + response.headers().firstValue("x-served-by").orElse("?"));
            System.out.print(indent(response.body()));
            say("the same call with curl: curl -x http://" + hostPort(tokyo.ingressAddress())
                    + " http://osaka-app/orders?id=42");
            app.stop(0);
            store.close();
            boolean ok = response.statusCode() == 200 && response.body().startsWith("Hello from Osaka");
            step(ok ? String.format("Done in %.1f s: Tokyo reached Osaka through the mesh.", (System.nanoTime() - start) / 1e9)
                    : "FAILED: the response did not come from the Osaka app");
            return ok ? 0 : 1;
        }
    }

    private static HttpServer startOsakaApp() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String body = "Hello from Osaka! You asked for " + exchange.getRequestMethod() + " "
                    + exchange.getRequestURI() + "\n"
                    + "  host: " + exchange.getRequestHeaders().getFirst("Host") + "\n"
                    + "  x-forwarded-for: " + exchange.getRequestHeaders().getFirst("x-forwarded-for") + "\n"
                    + "  x-request-id: " + exchange.getRequestHeaders().getFirst("x-request-id") + "\n";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "text/plain; charset=utf-8");
            exchange.getResponseHeaders().set("x-served-by", "osaka-app");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        return server;
    }

    private static void awaitApplied(ConfigStore store, MeshRouter... routers) throws InterruptedException {
        long revision = store.revision();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (MeshRouter router : routers) {
            while (router.appliedRevision() < revision) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("router of site " + router.site() + " did not apply revision "
                            + revision + " within 10 s");
                }
                Thread.sleep(10);
            }
            say("router of site " + router.site() + " routes by config revision " + router.appliedRevision());
        }
    }

    private static String hostPort(SocketAddress address) {
        if (address instanceof InetSocketAddress) {
            InetSocketAddress inet = (InetSocketAddress) address;
            return inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    private static String indent(String text) {
        return text.lines().map(l -> "      " + l + "\n").reduce("", String::concat);
    }

    private static void step(String text) {
        System.out.println();
        System.out.println("==> " + text);
    }

    private static void say(String text) {
        System.out.println("    " + text);
    }
}
