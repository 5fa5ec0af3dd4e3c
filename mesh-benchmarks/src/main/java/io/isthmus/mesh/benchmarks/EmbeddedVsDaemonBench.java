package io.isthmus.mesh.benchmarks;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Latency of one application's requests to a service of another site over the same hop, with the
 * site's router in a process of its own (daemon mode, as the node's router daemon) and inside the
 * application (embedded mode, as the Spring starter's {@code isthmus.mode=embedded}).
 *
 * <p>The tool starts three JVMs' worth of work on 127.0.0.1: this JVM is the application (the load
 * generator); a second JVM runs router A of {@code site-a} (the daemon); a third runs router B of
 * {@code site-b} and the origin, a Netty HTTP/1.1 server answering a fixed body. In this JVM it also
 * starts a second router A, the embedded one, with the same configuration and I/O threads. Both
 * routers A dial router B through the mTLS HTTP/2 tunnel. The application calls
 * {@code http://osaka-app/bench} through the chosen router's ingress, used as an HTTP proxy, as the
 * starter's {@code RestClient} does; the load balancer {@code osaka-app} is advertised at
 * {@code site-a} and its pool's origin is at {@code site-b}. First each set-up gets {@code --prime}
 * unrecorded requests (default 20000, on the most connections asked for) so that no JVM is measured
 * cold; then, for each number of connections, {@code --rounds} rounds each run both set-ups, daemon
 * first in odd rounds and embedded first in even ones; the samples of a set-up's rounds are pooled.
 *
 * <pre>{@code
 * java -Xms256m -Xmx256m -XX:+UseParallelGC -cp mesh-benchmarks/target/benchmarks.jar \
 *     io.isthmus.mesh.benchmarks.EmbeddedVsDaemonBench --connections 1,8 --warmup 5000 --requests 20000
 * }</pre>
 *
 * <p>Options: {@code --requests N} measured requests per run (default 20000), {@code --warmup N}
 * requests before each run's measurement (default 5000), {@code --connections 1,8} closed-loop
 * connections, {@code --rounds N} (default 2), {@code --client jdk|raw} (JDK {@code HttpClient} or a
 * blocking socket; default jdk), {@code --time-limit 60} seconds per run, {@code --body-bytes 128},
 * {@code --io-threads 1} per router. The other JVMs get {@code --child-jvm-options} (default: the
 * settings {@code bench/two-site-chain} had before its young generation was fixed, with which the
 * recorded figures were measured). CPU per request is each process's CPU time over the measured
 * requests.
 */
public final class EmbeddedVsDaemonBench {

    static final String TRUST_DOMAIN = "mesh.local";
    static final String DOMAIN = "osaka-app";
    static final String CHILD_JVM_OPTIONS = "-Xms64m -Xmx128m -XX:MaxDirectMemorySize=64m -XX:+UseParallelGC "
            + "-XX:ReservedCodeCacheSize=48m -Xss512k -Dio.netty.leakDetection.level=disabled";

    private EmbeddedVsDaemonBench() {}

    /**
     * Runs the comparison and prints a Markdown table of the results.
     *
     * @param args the options above
     * @throws Exception when a process does not start or a request fails
     */
    public static void main(String[] args) throws Exception {
        System.setProperty("io.netty.leakDetection.level",
                System.getProperty("io.netty.leakDetection.level", "disabled"));
        Map<String, String> options = options(args);
        String role = options.get("role");
        if (role != null) {
            child(role, options);
            return;
        }
        int requests = positive(options, "requests", 20_000);
        int warmup = nonNegative(options, "warmup", 5_000);
        int rounds = positive(options, "rounds", 2);
        int prime = nonNegative(options, "prime", 20_000);
        int ioThreads = positive(options, "io-threads", 1);
        int bodyBytes = nonNegative(options, "body-bytes", 128);
        Duration timeLimit = Duration.ofSeconds(positive(options, "time-limit", 60));
        ClosedLoop.Client client = ClosedLoop.Client.parse(options.getOrDefault("client", "jdk"));
        int[] connections = Arrays.stream(options.getOrDefault("connections", "1,8").split(","))
                .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        for (int c : connections) {
            check(c > 0 && c <= 256, "--connections: " + c + " (expected: 1-256)");
        }
        List<String> childOptions = List.of(
                options.getOrDefault("child-jvm-options", CHILD_JVM_OPTIONS).trim().split("\\s+"));

        Path dir = Files.createTempDirectory("isthmus-embedded-bench");
        MeshCertificateAuthority ca = MeshCertificateAuthority.create(TRUST_DOMAIN);
        Files.writeString(dir.resolve("ca.crt"), ca.trustBundlePem());
        for (String site : List.of("site-a", "site-b")) {
            SiteCredentials credentials = ca.issueSite(site);
            Files.writeString(dir.resolve(site + ".crt"), credentials.certificateChainPem());
            Files.writeString(dir.resolve(site + ".key"), credentials.privateKeyPem());
        }

        List<Child> children = new ArrayList<>();
        MeshRouter embedded = null;
        try {
            Child siteB = Child.start(childOptions, List.of("--role", "site-b", "--dir", dir.toString(),
                    "--io-threads", Integer.toString(ioThreads), "--body-bytes", Integer.toString(bodyBytes)));
            children.add(siteB);
            int tunnelPort = Integer.parseInt(siteB.ready.get("tunnel"));
            int originPort = Integer.parseInt(siteB.ready.get("origin"));
            Child daemon = Child.start(childOptions, List.of("--role", "site-a", "--dir", dir.toString(),
                    "--io-threads", Integer.toString(ioThreads), "--tunnel-port", Integer.toString(tunnelPort),
                    "--origin-port", Integer.toString(originPort)));
            children.add(daemon);
            InetSocketAddress daemonIngress = new InetSocketAddress("127.0.0.1",
                    Integer.parseInt(daemon.ready.get("ingress")));
            embedded = routerA(dir, ioThreads, tunnelPort, originPort);
            InetSocketAddress embeddedIngress = embedded.ingressAddress();

            System.out.printf(Locale.ROOT, "# embedded vs daemon: client %s, %d warm-up + %d measured requests per run,"
                    + " %d round(s), %d I/O thread(s) per router, %d-byte body, TLS by %s, %d processors,"
                    + " %d priming requests per set-up%n",
                    client.name().toLowerCase(Locale.ROOT), warmup, requests, rounds, ioThreads, bodyBytes,
                    embedded.tlsProvider(), Runtime.getRuntime().availableProcessors(), prime);
            System.out.printf(Locale.ROOT, "# daemon JVM pid %d (ingress %s), site-b JVM pid %d (tunnel %d, origin %d),"
                    + " app JVM pid %d (embedded ingress %s)%n", daemon.process.pid(), daemonIngress,
                    siteB.process.pid(), tunnelPort, originPort, ProcessHandle.current().pid(), embeddedIngress);

            String url = "http://" + DOMAIN + "/bench";
            com.sun.management.OperatingSystemMXBean os =
                    (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            Supplier<long[]> cpu = () -> new long[] {os.getProcessCpuTime(), daemon.cpuNanos(), siteB.cpuNanos()};
            int most = Arrays.stream(connections).max().orElse(1);
            for (InetSocketAddress ingress : List.of(daemonIngress, embeddedIngress)) {
                if (prime > 0) {
                    ClosedLoop.run(client, ingress, url, most, 0, prime, timeLimit, cpu);
                }
            }
            List<Row> rows = new ArrayList<>();
            for (int c : connections) {
                Map<String, List<ClosedLoop.Result>> results = new LinkedHashMap<>();
                results.put("daemon", new ArrayList<>());
                results.put("embedded", new ArrayList<>());
                for (int round = 1; round <= rounds; round++) {
                    List<String> order = round % 2 == 1 ? List.of("daemon", "embedded") : List.of("embedded", "daemon");
                    for (String setup : order) {
                        InetSocketAddress ingress = setup.equals("daemon") ? daemonIngress : embeddedIngress;
                        ClosedLoop.Result r = ClosedLoop.run(client, ingress, url, c, warmup, requests, timeLimit, cpu);
                        results.get(setup).add(r);
                        Row row = Row.of(setup + " r" + round, c, List.of(r));
                        System.out.println("# " + row.line());
                    }
                }
                results.forEach((setup, list) -> rows.add(Row.of(setup, c, list)));
            }
            print(rows);
        } finally {
            if (embedded != null) {
                embedded.close();
            }
            for (Child child : children) {
                child.stop();
            }
            for (String name : List.of("ca.crt", "site-a.crt", "site-a.key", "site-b.crt", "site-b.key")) {
                Files.deleteIfExists(dir.resolve(name));
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void print(List<Row> rows) {
        System.out.println();
        System.out.println("| set-up | conns | requests | p50 µs | p90 µs | p99 µs | p99.9 µs | mean µs | req/s "
                + "| CPU µs/req app JVM | daemon JVM | site-b JVM | total |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        Map<Integer, Row> daemonRows = new HashMap<>();
        for (Row row : rows) {
            System.out.println(row.line());
            if (row.setup.equals("daemon")) {
                daemonRows.put(row.connections, row);
            } else {
                Row d = daemonRows.get(row.connections);
                if (d != null) {
                    System.out.printf(Locale.ROOT, "| **saved** (daemon − embedded) | %d | | %.1f | %.1f | %.1f "
                            + "| %.1f | %.1f | | | | | %.1f |%n", row.connections, d.p50 - row.p50, d.p90 - row.p90,
                            d.p99 - row.p99, d.p999 - row.p999, d.mean - row.mean, d.cpuTotal() - row.cpuTotal());
                }
            }
        }
    }

    /** A set-up's figures: latencies in µs, CPU in µs per measured request. */
    private record Row(String setup, int connections, int requests, double p50, double p90, double p99, double p999,
            double mean, double perSecond, double[] cpu, boolean timedOut) {

        static Row of(String setup, int connections, List<ClosedLoop.Result> results) {
            long[] all = results.stream().flatMapToLong(r -> Arrays.stream(r.latencies())).sorted().toArray();
            long wall = results.stream().mapToLong(ClosedLoop.Result::wallNanos).sum();
            double[] cpu = new double[3];
            for (ClosedLoop.Result r : results) {
                for (int i = 0; i < cpu.length; i++) {
                    cpu[i] += r.cpuNanos()[i] / 1_000.0;
                }
            }
            for (int i = 0; i < cpu.length; i++) {
                cpu[i] /= Math.max(1, all.length);
            }
            double mean = Arrays.stream(all).average().orElse(0) / 1_000.0;
            return new Row(setup, connections, all.length, pct(all, 0.50), pct(all, 0.90), pct(all, 0.99),
                    pct(all, 0.999), mean, all.length * 1e9 / Math.max(1, wall), cpu,
                    results.stream().anyMatch(ClosedLoop.Result::timedOut));
        }

        double cpuTotal() {
            return cpu[0] + cpu[1] + cpu[2];
        }

        String line() {
            return String.format(Locale.ROOT, "| %s%s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f "
                    + "| %.1f | %.1f | %.1f |", setup, timedOut ? " (time limit)" : "", connections, requests, p50, p90,
                    p99, p999, mean, perSecond, cpu[0], cpu[1], cpu[2], cpuTotal());
        }

        private static double pct(long[] sorted, double q) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int index = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
            return sorted[Math.max(0, index)] / 1_000.0;
        }
    }

    private static MeshRouter routerA(Path dir, int ioThreads, int tunnelPort, int originPort) {
        return MeshRouter.builder(credentials(dir, "site-a"), store(tunnelPort, originPort))
                .ioThreads(ioThreads)
                .build().start();
    }

    /** The mesh of both sites: {@code osaka-app} advertised at site-a, its origin at site-b. */
    private static ConfigStore store(int tunnelPort, int originPort) {
        ConfigStore store = ConfigStore.inMemory();
        store.put(Site.of("site-a"));
        store.put(tunnelPort > 0
                ? Site.builder("site-b").tunnelEndpoint(Endpoint.of("127.0.0.1", tunnelPort)).build()
                : Site.of("site-b"));
        store.put(OriginPool.builder("osaka-app").site("site-b").endpoint(Endpoint.of("127.0.0.1", originPort))
                .build());
        store.put(LoadBalancer.builder("osaka-app").domain(DOMAIN).advertiseAt("site-a").defaultPool("osaka-app")
                .build());
        return store;
    }

    private static SiteCredentials credentials(Path dir, String site) {
        return SiteCredentials.fromFiles(TRUST_DOMAIN, dir.resolve(site + ".crt"), dir.resolve(site + ".key"),
                dir.resolve("ca.crt"));
    }

    /** Runs router B and the origin, or the daemon's router A, until standard input closes. */
    private static void child(String role, Map<String, String> options) throws Exception {
        Path dir = Path.of(required(options, "dir"));
        int ioThreads = positive(options, "io-threads", 1);
        List<AutoCloseable> running = new ArrayList<>();
        try {
            if (role.equals("site-b")) {
                FixedOrigin origin = FixedOrigin.start(nonNegative(options, "body-bytes", 128));
                running.add(origin);
                ConfigStore store = store(0, origin.port());
                MeshRouter b = MeshRouter.builder(credentials(dir, "site-b"), store)
                        .ioThreads(ioThreads)
                        .build().start();
                running.add(b);
                store.put(Site.builder("site-b").tunnelEndpoint(b.tunnelEndpoint()).build());
                System.out.println("READY tunnel=" + b.tunnelAddress().getPort() + " origin=" + origin.port());
            } else if (role.equals("site-a")) {
                MeshRouter a = routerA(dir, ioThreads, Integer.parseInt(required(options, "tunnel-port")),
                        Integer.parseInt(required(options, "origin-port")));
                running.add(a);
                System.out.println("READY ingress=" + a.ingressAddress().getPort());
            } else {
                throw new IllegalArgumentException("--role: " + role + " (expected: site-a or site-b)");
            }
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until the parent closes standard input or exits
            }
        } finally {
            for (int i = running.size() - 1; i >= 0; i--) {
                running.get(i).close();
            }
        }
    }

    /** A JVM of the chain started by this one; stops when its standard input closes. */
    private static final class Child {

        final Process process;
        final Map<String, String> ready;

        private Child(Process process, Map<String, String> ready) {
            this.process = process;
            this.ready = ready;
        }

        static Child start(List<String> jvmOptions, List<String> args) throws Exception {
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElse(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            command.addAll(jvmOptions);
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(EmbeddedVsDaemonBench.class.getName());
            command.addAll(args);
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            CompletableFuture<Map<String, String>> ready = new CompletableFuture<>();
            String name = args.get(1);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (line.startsWith("READY ") && !ready.isDone()) {
                            Map<String, String> values = new HashMap<>();
                            for (String pair : line.substring(6).split(" ")) {
                                int eq = pair.indexOf('=');
                                values.put(pair.substring(0, eq), pair.substring(eq + 1));
                            }
                            ready.complete(values);
                        } else if (!line.startsWith("SLF4J")) {
                            System.err.println("[" + name + "] " + line);
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
                ready.completeExceptionally(new IllegalStateException(name + " JVM exited before it was ready"));
            }, name + "-output");
            reader.setDaemon(true);
            reader.start();
            try {
                return new Child(process, ready.get(60, TimeUnit.SECONDS));
            } catch (Exception e) {
                process.destroyForcibly();
                throw e;
            }
        }

        long cpuNanos() {
            return process.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        }

        void stop() throws InterruptedException {
            try {
                process.getOutputStream().close();
            } catch (IOException ignored) {
                // already gone
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            check(args[i].startsWith("--") && i + 1 < args.length, "option: " + args[i] + " (expected: --name value)");
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        check(value != null, "--" + name + " is required");
        return value;
    }

    private static int positive(Map<String, String> options, String name, int fallback) {
        int value = Integer.parseInt(options.getOrDefault(name, Integer.toString(fallback)));
        check(value > 0, "--" + name + ": " + value + " (expected: > 0)");
        return value;
    }

    private static int nonNegative(Map<String, String> options, String name, int fallback) {
        int value = Integer.parseInt(options.getOrDefault(name, Integer.toString(fallback)));
        check(value >= 0, "--" + name + ": " + value + " (expected: >= 0)");
        return value;
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
