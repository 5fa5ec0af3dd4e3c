package io.isthmus.mesh.daemon.cli;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.client.MeshAdminException;
import io.isthmus.mesh.config.ConfigConflictException;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.pki.MeshIdentityException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl}, the command line of the mesh: reads and writes mesh objects, shows a daemon's status
 * and explains policy decisions, through a router daemon's admin API.
 *
 * <pre>{@code
 * meshctl --server https://10.0.0.5:9443 apply -f mesh.yaml
 * meshctl get lb -n default
 * meshctl explain --host osaka-app --method GET --path /orders
 * }</pre>
 *
 * <p>From Java (e.g. a test), {@link #run(String[], InputStream, PrintStream, PrintStream, Map)} runs one
 * command in-process and returns its exit code: {@value #OK} success, {@value #REFUSED} a request the
 * server refused (or documents rejected before sending), {@value #USAGE} usage error,
 * {@value #UNREACHABLE} the server cannot be reached or TLS failed, {@value #UNAUTHORISED} authentication
 * or authorisation failed.
 */
@Command(name = "meshctl", mixinStandardHelpOptions = true, versionProvider = Meshctl.Version.class,
        description = "Controls an Isthmus mesh through a router daemon's admin API.",
        subcommands = {ApplyCommand.class, GetCommand.class, DescribeCommand.class, DeleteCommand.class,
            StatusCommand.class, ExplainCommand.class, TokenCommand.class, VersionCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nConnection settings:%n",
        footer = {"  Each setting comes from a flag, else the environment, else the config file.",
            "  Environment: MESHCTL_SERVER, MESHCTL_TOKEN, MESHCTL_TOKEN_FILE,",
            "    MESHCTL_CERTIFICATE_AUTHORITY, MESHCTL_CLIENT_CERTIFICATE, MESHCTL_CLIENT_KEY,",
            "    MESHCTL_INSECURE_SKIP_TLS_VERIFY, MESHCTL_SERVER_IDENTITY, MESHCTL_CONFIG.",
            "  Config file ~/.isthmus/meshctl.yaml: server, token, tokenFile,",
            "    certificateAuthority, clientCertificate, clientKey, insecureSkipTlsVerify, serverIdentity.",
            "",
            "Kinds: site|sites, lb|loadbalancer|loadbalancers, pool|originpool|originpools,",
            "  policy|servicepolicy|servicepolicies, fw|networkfirewall|networkfirewalls."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success",
            "1:the server refused the request (validation 422, conflict 409, not found 404, other HTTP errors), "
                + "or apply found invalid documents and sent nothing",
            "2:usage error (bad flags, arguments, files or settings)",
            "3:cannot reach the server (connection refused, time-out, certificate not trusted, hostname mismatch, "
                + "other TLS failure)",
            "4:authentication or authorisation failed (HTTP 401/403)"})
public final class Meshctl implements Runnable {

    /** Exit code: success. */
    public static final int OK = 0;
    /** Exit code: the server refused the request, or documents were rejected before sending. */
    public static final int REFUSED = 1;
    /** Exit code: usage error. */
    public static final int USAGE = 2;
    /** Exit code: the server cannot be reached, or TLS failed. */
    public static final int UNREACHABLE = 3;
    /** Exit code: authentication or authorisation failed. */
    public static final int UNAUTHORISED = 4;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = "--server", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "Admin API URL, e.g. https://10.0.0.5:9443 (env MESHCTL_SERVER).")
    @Nullable String server;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
            description = "Bearer token (env MESHCTL_TOKEN).")
    @Nullable String token;

    @Option(names = "--token-file", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "File holding the bearer token (env MESHCTL_TOKEN_FILE).")
    @Nullable Path tokenFile;

    @Option(names = {"--certificate-authority", "--ca"}, scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "PEM bundle of the CA(s) to trust for the server; default: the JDK's trust store.")
    @Nullable Path certificateAuthority;

    @Option(names = "--client-certificate", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "PEM client certificate chain for mutual TLS.")
    @Nullable Path clientCertificate;

    @Option(names = "--client-key", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "PEM private key of the client certificate.")
    @Nullable Path clientKey;

    @Option(names = "--insecure-skip-tls-verify", scope = ScopeType.INHERIT,
            description = "Accept any server certificate (development only; prints a warning).")
    boolean insecureSkipTlsVerify;

    @Option(names = "--server-identity", scope = ScopeType.INHERIT, paramLabel = "SPIFFE-ID",
            description = "Check the server's certificate as this mesh identity instead of by host name, e.g. "
                    + "spiffe://mesh.example/site/tokyo for the daemon of site tokyo (env MESHCTL_SERVER_IDENTITY).")
    @Nullable String serverIdentity;

    @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
            description = "Config file; default ~/.isthmus/meshctl.yaml (env MESHCTL_CONFIG).")
    @Nullable Path config;

    @Option(names = "--request-timeout", scope = ScopeType.INHERIT, paramLabel = "DURATION",
            description = "Time allowed per request, e.g. 30s or PT1M; default 30s.",
            converter = DurationConverter.class)
    @Nullable Duration requestTimeout;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show details of failures (causes and stack traces).")
    boolean verbose;

    private final Map<String, String> env;
    private final InputStream stdin;

    /** Creates the command with the process's environment and standard input. */
    public Meshctl() {
        this(System.getenv(), System.in);
    }

    Meshctl(Map<String, String> env, InputStream stdin) {
        this.env = Map.copyOf(requireNonNull(env, "env"));
        this.stdin = requireNonNull(stdin, "stdin");
    }

    /**
     * Runs {@code meshctl} and exits the JVM with its exit code.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err, System.getenv()));
    }

    /**
     * Runs one {@code meshctl} command in-process, with the standard input of the process.
     *
     * @param args the command line, e.g. {@code get lb -o yaml}
     * @param out receives the command's output
     * @param err receives errors and warnings
     * @param env the environment to read {@code MESHCTL_*} and {@code HOME} from
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        return run(args, System.in, out, err, env);
    }

    /**
     * Runs one {@code meshctl} command in-process.
     *
     * @param args the command line
     * @param in the input read by {@code apply -f -}
     * @param out receives the command's output
     * @param err receives errors and warnings
     * @param env the environment to read {@code MESHCTL_*} and {@code HOME} from
     * @return the exit code
     */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err, Map<String, String> env) {
        PrintWriter outWriter = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter errWriter = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            return commandLine(new Meshctl(env, in)).setOut(outWriter).setErr(errWriter).execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /**
     * Returns a configured command line for a {@code meshctl} instance: exit codes and error messages as
     * documented, case-insensitive enum values.
     *
     * @param meshctl the command
     * @return the command line
     */
    public static CommandLine commandLine(Meshctl meshctl) {
        CommandLine commandLine = new CommandLine(meshctl);
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler(Meshctl::handleExecutionException);
        commandLine.setParameterExceptionHandler(Meshctl::handleParameterException);
        return commandLine;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    // ---- for the subcommands

    Map<String, String> env() {
        return env;
    }

    InputStream stdin() {
        return stdin;
    }

    /** Opens the admin client for the resolved connection settings; warns about an insecure setup. */
    MeshAdmin connect(CommandSpec command) {
        ConnectionSettings settings = ConnectionSettings.resolve(this, command);
        if (settings.insecureSkipTlsVerify()) {
            command.commandLine().getErr().println("warning: --insecure-skip-tls-verify: the server's certificate is not "
                    + "verified; anyone on the network path can read and change this traffic, including the token");
        }
        return MeshAdmin.connect(settings.toConnection());
    }

    // ---- errors

    private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
        return USAGE;
    }

    private static int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        Object root = cmd.getCommandSpec().root().userObject();
        boolean verbose = root instanceof Meshctl && ((Meshctl) root).verbose;
        int code = exitCode(e);
        err.println("error: " + message(e));
        if (verbose) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            err.print(trace);
        } else if (code == UNREACHABLE && e.getCause() != null) {
            err.println("(run with --verbose for details)");
        }
        err.flush();
        return code;
    }

    static int exitCode(Throwable e) {
        if (e instanceof CommandLine.ParameterException || e instanceof UsageException) {
            return USAGE;
        }
        if (e instanceof MeshAdminException) {
            MeshAdminException admin = (MeshAdminException) e;
            if (admin.isTransportFailure()) {
                return UNREACHABLE;
            }
            return admin.isAuthenticationFailure() ? UNAUTHORISED : REFUSED;
        }
        if (e instanceof ConfigValidationException || e instanceof ConfigConflictException || e instanceof RefusedException) {
            return REFUSED;
        }
        if (e instanceof MeshIdentityException || e instanceof IllegalArgumentException) {
            // A malformed certificate, key or setting given on the command line or in the config file.
            return USAGE;
        }
        return REFUSED;
    }

    private static String message(Throwable e) {
        if (e instanceof ConfigConflictException) {
            return "conflict: " + e.getMessage() + "; someone else changed the object, read it again and retry";
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getName() : message;
    }

    /** A problem with what the user typed or configured: exit code 2, no usage text. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }

        UsageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The command did not get what it asked for (e.g. an object is missing): exit code 1. */
    static final class RefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) {
            super(message);
        }
    }

    /** Reads durations as {@code 30s}, {@code 500ms}, {@code 2m} or ISO-8601 ({@code PT30S}). */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String v = value.trim().toLowerCase(java.util.Locale.ROOT);
            try {
                Duration d;
                if (v.startsWith("pt")) {
                    d = Duration.parse(value.trim());
                } else if (v.endsWith("ms")) {
                    d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
                } else if (v.endsWith("s")) {
                    d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
                } else if (v.endsWith("m")) {
                    d = Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
                } else {
                    throw new NumberFormatException(value);
                }
                if (d.isNegative() || d.isZero()) {
                    throw new NumberFormatException(value);
                }
                return d;
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("\"" + value
                        + "\" (expected: a positive duration such as 30s, 500ms, 2m or PT30S)");
            }
        }
    }

    /** The version of meshctl, from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"meshctl " + clientVersion()};
        }
    }

    static String clientVersion() {
        String version = Meshctl.class.getPackage().getImplementationVersion();
        return version == null ? "development build" : version;
    }
}
