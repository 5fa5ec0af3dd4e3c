package io.isthmus.mesh.benchmarks;

import io.isthmus.mesh.config.ConfigStore;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.netty.MeshRouter;
import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;

/**
 * Full mTLS handshakes per second, and per CPU-second of the server, against a router's tunnel
 * listener (or any TLS 1.3 server asking for a client certificate, such as nginx).
 *
 * <p>Each of {@code --clients} connections loops: connect, TLS 1.3 handshake with the {@code site-a}
 * client certificate and ALPN {@code h2} (no session is offered, so every handshake is a full one),
 * send the HTTP/2 client preface, wait for the server's SETTINGS frame (for a router: the tunnel was
 * accepted, after its identity check), close. A warm-up of {@code --warmup} seconds is not recorded;
 * then handshakes and server CPU time are counted for {@code --seconds} seconds, or until
 * {@code --max-handshakes}.
 *
 * <p>Modes:
 * <ul>
 *   <li>default: starts a router of site {@code site-b} in this JVM (one I/O thread) and measures the
 *       CPU time of its event-loop thread(s);</li>
 *   <li>{@code --connect HOST:PORT [--pid PID]}: loads a server in another process and measures that
 *       process's CPU time from {@code /proc/PID/stat};</li>
 *   <li>{@code --serve PORT}: only runs the router's tunnel listener until killed (for the above);</li>
 *   <li>{@code --write-credentials}: only writes the credentials and exits.</li>
 * </ul>
 * Credentials (EC P-256 from a mesh CA, trust domain {@code mesh.local}) are read from
 * {@code --credentials DIR} ({@code ca.crt}, {@code site-a.crt/key}, {@code site-b.crt/key}), or made
 * in memory and written there when the directory holds none.
 */
public final class TunnelHandshakeBench {

    static final String TRUST_DOMAIN = "mesh.local";

    private TunnelHandshakeBench() {}

    /**
     * Runs the tool; {@code --help} lists the options.
     *
     * @param args the options
     * @throws Exception when the run fails
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        if (options.containsKey("help")) {
            System.out.println(usage());
            return;
        }
        quietTunnelLog(options.getOrDefault("tunnel-log", "error"));
        @Nullable Path dir = options.containsKey("credentials") ? Path.of(options.get("credentials")) : null;
        Credentials credentials = Credentials.load(dir);
        if (options.containsKey("write-credentials")) {
            System.out.println("credentials in " + dir);
            return;
        }
        if (options.containsKey("serve")) {
            serve(credentials, Integer.parseInt(options.get("serve")), intOption(options, "io-threads", 1));
            return;
        }
        HandshakeLoad.Settings settings = new HandshakeLoad.Settings(
                intOption(options, "clients", 8),
                intOption(options, "client-threads", 1),
                intOption(options, "warmup", 5),
                intOption(options, "seconds", 10),
                Long.parseLong(options.getOrDefault("max-handshakes", "2000000")),
                !"handshake".equals(options.getOrDefault("until", "settings")));
        if (options.containsKey("connect")) {
            String target = options.get("connect");
            int colon = target.lastIndexOf(':');
            InetSocketAddress address = new InetSocketAddress(target.substring(0, colon),
                    Integer.parseInt(target.substring(colon + 1)));
            CpuClock server = options.containsKey("pid") ? CpuClock.process(Long.parseLong(options.get("pid")))
                    : CpuClock.NONE;
            run(settings, credentials, address, server, "server at " + target
                    + (options.containsKey("pid") ? " (pid " + options.get("pid") + ")" : ""));
            return;
        }
        try (MeshRouter router = startRouter(credentials, intOption(options, "port", 0),
                intOption(options, "io-threads", 1))) {
            run(settings, credentials, router.tunnelAddress(), CpuClock.threads("isthmus-site-b"),
                    "router of site-b in this JVM, tunnel listener " + router.tunnelAddress() + ", TLS by "
                            + router.tlsProvider());
        }
    }

    private static void run(HandshakeLoad.Settings settings, Credentials credentials, InetSocketAddress address,
            CpuClock server, String description) throws InterruptedException {
        System.out.println("target: " + description);
        HandshakeLoad.Result result = new HandshakeLoad(settings, credentials.siteA, address, server).run();
        System.out.println(result.report(settings));
    }

    private static void serve(Credentials credentials, int port, int ioThreads) throws InterruptedException {
        MeshRouter router = startRouter(credentials, port, ioThreads);
        System.out.println("router of site-b: tunnel listener " + router.tunnelAddress() + ", TLS by "
                + router.tlsProvider() + ", " + ioThreads + " I/O thread(s), pid " + ProcessHandle.current().pid());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            router.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    /** Starts the router of site {@code site-b}, which knows the sites {@code site-a} and {@code site-b}. */
    static MeshRouter startRouter(Credentials credentials, int port, int ioThreads) {
        ConfigStore store = ConfigStore.inMemory();
        store.put(Site.of("site-a"));
        store.put(Site.of("site-b"));
        return MeshRouter.builder(credentials.siteB, store)
                .ioThreads(ioThreads)
                .tunnelAddress(new InetSocketAddress("127.0.0.1", port))
                .build().start();
    }

    /** The router logs one line per accepted or refused tunnel; a handshake benchmark turns them off. */
    private static void quietTunnelLog(String level) {
        String key = "org.slf4j.simpleLogger.log.io.isthmus.mesh.netty.internal.TunnelAcceptor";
        if (System.getProperty(key) == null) {
            System.setProperty(key, level);
        }
    }

    static int intOption(Map<String, String> options, String name, int fallback) {
        String value = options.get(name);
        return value == null ? fallback : Integer.parseInt(value);
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        List<String> flags = List.of("help", "write-credentials");
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i] + "\n" + usage());
            }
            String name = args[i].substring(2);
            if (flags.contains(name)) {
                options.put(name, "");
            } else if (i + 1 < args.length) {
                options.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("--" + name + " needs a value\n" + usage());
            }
        }
        return options;
    }

    static String usage() {
        return String.join("\n",
                "usage: java -cp benchmarks.jar io.isthmus.mesh.benchmarks.TunnelHandshakeBench [options]",
                "  --clients N          concurrent connections (8)",
                "  --client-threads N   client I/O threads (1)",
                "  --warmup S           seconds of load before counting (5)",
                "  --seconds S          seconds counted (10)",
                "  --max-handshakes N   stop counting after N handshakes (2000000)",
                "  --until settings|handshake  a handshake counts once the server's SETTINGS frame",
                "                       arrived (settings, default) or when TLS completed (handshake)",
                "  --credentials DIR    read ca.crt, site-a.crt/key, site-b.crt/key; made and written when absent",
                "  --write-credentials  only write the credentials to --credentials DIR",
                "  --connect HOST:PORT  load this server instead of a router in this JVM",
                "  --pid PID            the server's process, for its CPU time (/proc/PID/stat)",
                "  --serve PORT         only run a router's tunnel listener on 127.0.0.1:PORT",
                "  --port PORT          tunnel port of the router in this JVM (0: any)",
                "  --io-threads N       the router's I/O threads (1)",
                "  --tunnel-log LEVEL   log level of the router's per-tunnel lines (error)");
    }

    /** The site-a (client) and site-b (server) credentials from one mesh CA. */
    static final class Credentials {
        final SiteCredentials siteA;
        final SiteCredentials siteB;

        private Credentials(SiteCredentials siteA, SiteCredentials siteB) {
            this.siteA = siteA;
            this.siteB = siteB;
        }

        static Credentials load(@Nullable Path dir) {
            if (dir != null && Files.exists(dir.resolve("ca.crt"))) {
                return new Credentials(read(dir, "site-a"), read(dir, "site-b"));
            }
            MeshCertificateAuthority ca = MeshCertificateAuthority.create(TRUST_DOMAIN);
            Credentials made = new Credentials(ca.issueSite("site-a"), ca.issueSite("site-b"));
            if (dir != null) {
                try {
                    Files.createDirectories(dir);
                    write(dir.resolve("ca.crt"), ca.certificatePem());
                    for (SiteCredentials site : List.of(made.siteA, made.siteB)) {
                        write(dir.resolve(site.site() + ".crt"), site.certificateChainPem());
                        write(dir.resolve(site.site() + ".key"), site.privateKeyPem());
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return made;
        }

        private static SiteCredentials read(Path dir, String site) {
            return SiteCredentials.fromFiles(TRUST_DOMAIN, dir.resolve(site + ".crt"), dir.resolve(site + ".key"),
                    dir.resolve("ca.crt"));
        }

        private static void write(Path file, String text) throws IOException {
            Files.writeString(file, text, StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
    }

    /** CPU time (user + system) of the server being measured. */
    interface CpuClock {
        /** No server CPU figure. */
        CpuClock NONE = () -> -1;

        /** Returns the CPU time used so far in nanoseconds, or -1 when unknown. */
        long cpuNanos();

        /** The summed CPU time of this JVM's threads whose names start with a prefix. */
        static CpuClock threads(String namePrefix) {
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            return () -> {
                long sum = 0;
                for (Thread thread : Thread.getAllStackTraces().keySet()) {
                    if (thread.getName().startsWith(namePrefix)) {
                        @SuppressWarnings("deprecation") // Thread.threadId() is Java 19+
                        long id = thread.getId();
                        long nanos = threads.getThreadCpuTime(id);
                        if (nanos > 0) {
                            sum += nanos;
                        }
                    }
                }
                return sum;
            };
        }

        /** utime + stime of another process, from {@code /proc/PID/stat}. */
        static CpuClock process(long pid) {
            Path stat = Path.of("/proc/" + pid + "/stat");
            long nanosPerTick = 1_000_000_000L / clockTicks();
            return () -> {
                try {
                    String text = Files.readString(stat, StandardCharsets.US_ASCII);
                    String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
                    // fields[0] is field 3 (state); utime and stime are fields 14 and 15
                    return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * nanosPerTick;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + stat, e);
                }
            };
        }

        private static long clockTicks() {
            try {
                Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
                String out = new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
                return getconf.waitFor() == 0 ? Long.parseLong(out) : 100;
            } catch (IOException | NumberFormatException e) {
                return 100;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 100;
            }
        }
    }

    static String describe(SslProvider provider) {
        return provider == SslProvider.OPENSSL ? OpenSsl.versionString() + " (netty-tcnative)"
                : "JDK " + Runtime.version();
    }
}
