package io.isthmus.mesh.daemon;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The daemon's command line: {@code java -jar isthmus-daemon.jar --config daemon.yaml [flags]}.
 * Flags beat {@code ISTHMUS_*} environment variables, which beat the file; see {@link DaemonConfig}.
 * Runs until SIGTERM or SIGINT, then drains ({@link RouterDaemon#close()}).
 */
@Command(name = "isthmus-daemon", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs the Isthmus router of one site with its admin API.",
        versionProvider = DaemonMain.Version.class, modelTransformer = DaemonMain.RouterFlags.class)
public final class DaemonMain implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE", description = "YAML settings file")
    @Nullable Path config;

    @Option(names = "--site", description = "this router's site") @Nullable String site;
    @Option(names = "--router-id", description = "this router's id (default: host name)") @Nullable String routerId;
    @Option(names = "--trust-domain", description = "the mesh's trust domain") @Nullable String trustDomain;
    @Option(names = "--state-dir", description = "last-good config, addresses, dev CA") @Nullable String stateDir;
    @Option(names = "--dev-generate-ca", arity = "0..1", fallbackValue = "true",
            description = "issue the site certificate from a development CA") @Nullable String generateCa;
    @Option(names = "--ingress-address") @Nullable String ingressAddress;
    @Option(names = "--ingress-port") @Nullable String ingressPort;
    @Option(names = "--tunnel-address") @Nullable String tunnelAddress;
    @Option(names = "--tunnel-port") @Nullable String tunnelPort;
    @Option(names = "--admin-address") @Nullable String adminAddress;
    @Option(names = "--admin-port") @Nullable String adminPort;
    @Option(names = "--tokens-file") @Nullable String tokensFile;
    @Option(names = "--etcd-endpoints", description = "comma-separated etcd URLs; none: embedded store")
    @Nullable String etcdEndpoints;
    @Option(names = "--join-token", description = "join the mesh with this one-time token (meshctl token create)")
    @Nullable String joinToken;
    @Option(names = "--join-server", description = "admin API URL of the daemon that issued the join token")
    @Nullable String joinServer;
    @Option(names = "--join-ca-bundle", paramLabel = "FILE", description = "PEM trusted for the join server")
    @Nullable String joinCaBundle;
    @Option(names = "--join-server-identity", description = "SPIFFE id the join server must present")
    @Nullable String joinServerIdentity;
    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "any setting, e.g. --set admin.tls.enabled=false")
    Map<String, String> set = new LinkedHashMap<>();

    @Spec
    @Nullable CommandSpec spec;

    /** Creates the command; picocli fills in the options. */
    public DaemonMain() {}

    /**
     * Runs the daemon.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        int code = new CommandLine(new DaemonMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Loads the settings, starts the daemon and waits for a shutdown signal.
     *
     * @return the exit code
     */
    @Override
    public Integer call() {
        Map<String, String> flags = new LinkedHashMap<>(set);
        put(flags, "site", site);
        put(flags, "routerId", routerId);
        put(flags, "trustDomain", trustDomain);
        put(flags, "stateDir", stateDir);
        put(flags, "dev.generateCa", generateCa);
        put(flags, "ingress.address", ingressAddress);
        put(flags, "ingress.port", ingressPort);
        put(flags, "tunnel.address", tunnelAddress);
        put(flags, "tunnel.port", tunnelPort);
        put(flags, "admin.address", adminAddress);
        put(flags, "admin.port", adminPort);
        put(flags, "tokensFile", tokensFile);
        put(flags, "etcd.endpoints", etcdEndpoints);
        put(flags, "join.token", joinToken);
        put(flags, "join.server", joinServer);
        put(flags, "join.caBundle", joinCaBundle);
        put(flags, "join.serverIdentity", joinServerIdentity);
        CommandSpec command = spec;
        for (String key : RouterFlags.settings()) {
            OptionSpec option = command == null ? null : command.findOption(DaemonConfig.flagName(key));
            put(flags, key, option == null ? null : option.<String>getValue());
        }
        RouterDaemon daemon;
        try {
            DaemonConfig settings = DaemonConfig.load(config, System.getenv(), flags);
            List<DaemonExtension> extensions = new ArrayList<>();
            ServiceLoader.load(DaemonExtension.class).forEach(extensions::add);
            daemon = RouterDaemon.start(settings, extensions);
        } catch (DaemonConfigException e) {
            System.err.println("isthmus-daemon: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println("isthmus-daemon: cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.close();
            stopped.countDown();
        }, "isthmus-daemon-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static void put(Map<String, String> flags, String key, @Nullable String value) {
        if (value != null) {
            flags.put(key, value);
        }
    }

    /**
     * Adds a flag for each {@code router.*} setting, named after it ({@code router.ioThreads} is
     * {@code --router-io-threads}).
     */
    static final class RouterFlags implements CommandLine.IModelTransformer {

        static List<String> settings() {
            return DaemonConfig.settings().stream().filter(key -> key.startsWith("router.")).toList();
        }

        @Override
        public CommandSpec transform(CommandSpec command) {
            for (String key : settings()) {
                OptionSpec.Builder option = OptionSpec.builder(DaemonConfig.flagName(key))
                        .type(String.class)
                        .paramLabel(DaemonConfig.valueLabel(key))
                        .description("the router's " + key.substring("router.".length())
                                + " (default: the router's own)");
                if (DaemonConfig.valueLabel(key).equals("true|false")) {
                    option.arity("0..1").fallbackValue("true");
                }
                command.addOption(option.build());
            }
            return command;
        }
    }

    /** Reports the daemon's version for {@code --version}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Package p = DaemonMain.class.getPackage();
            String v = p == null ? null : p.getImplementationVersion();
            return new String[] {"isthmus-daemon " + (v == null ? "(development build)" : v)};
        }
    }
}
