package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.MeshConnection;
import io.isthmus.mesh.daemon.cli.Meshctl.UsageException;
import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SpiffeId;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The connection settings of one run, each taken from the first of: a flag, an environment variable,
 * the config file. Files named in the config file are relative to its directory.
 */
final class ConnectionSettings {

    static final List<String> FILE_KEYS = List.of("server", "token", "tokenFile", "certificateAuthority",
            "clientCertificate", "clientKey", "insecureSkipTlsVerify", "serverIdentity");

    private final String server;
    private final @Nullable String token;
    private final @Nullable Path certificateAuthority;
    private final @Nullable Path clientCertificate;
    private final @Nullable Path clientKey;
    private final boolean insecureSkipTlsVerify;
    private final @Nullable String serverIdentity;
    private final @Nullable Duration requestTimeout;

    private ConnectionSettings(String server, @Nullable String token, @Nullable Path certificateAuthority,
            @Nullable Path clientCertificate, @Nullable Path clientKey, boolean insecureSkipTlsVerify,
            @Nullable String serverIdentity, @Nullable Duration requestTimeout) {
        this.server = server;
        this.token = token;
        this.certificateAuthority = certificateAuthority;
        this.clientCertificate = clientCertificate;
        this.clientKey = clientKey;
        this.insecureSkipTlsVerify = insecureSkipTlsVerify;
        this.serverIdentity = serverIdentity;
        this.requestTimeout = requestTimeout;
    }

    String server() {
        return server;
    }

    @Nullable String token() {
        return token;
    }

    @Nullable Path certificateAuthority() {
        return certificateAuthority;
    }

    boolean insecureSkipTlsVerify() {
        return insecureSkipTlsVerify;
    }

    static ConnectionSettings resolve(Meshctl flags, CommandSpec command) {
        Map<String, String> env = flags.env();
        ConfigFile file = ConfigFile.load(flags.config, env);

        String server = first(flags.server, env.get("MESHCTL_SERVER"), file.text("server"));
        if (server == null || server.isBlank()) {
            throw new UsageException("no server given (expected: --server URL, the MESHCTL_SERVER environment "
                    + "variable, or \"server:\" in " + file.path() + ")");
        }

        String token;
        if (flags.token != null || flags.tokenFile != null) {
            token = flags.token != null ? flags.token : readToken(flags.tokenFile, "--token-file");
        } else if (env.get("MESHCTL_TOKEN") != null || env.get("MESHCTL_TOKEN_FILE") != null) {
            token = env.get("MESHCTL_TOKEN") != null ? env.get("MESHCTL_TOKEN")
                    : readToken(Path.of(env.get("MESHCTL_TOKEN_FILE")), "MESHCTL_TOKEN_FILE");
        } else {
            token = file.text("token");
            Path tokenFile = file.path("tokenFile");
            if (token == null && tokenFile != null) {
                token = readToken(tokenFile, "tokenFile in " + file.path());
            }
        }

        Path ca = first(flags.certificateAuthority, envPath(env, "MESHCTL_CERTIFICATE_AUTHORITY"),
                file.path("certificateAuthority"));
        Path clientCertificate;
        Path clientKey;
        if (flags.clientCertificate != null || flags.clientKey != null) {
            clientCertificate = flags.clientCertificate;
            clientKey = flags.clientKey;
        } else if (env.get("MESHCTL_CLIENT_CERTIFICATE") != null || env.get("MESHCTL_CLIENT_KEY") != null) {
            clientCertificate = envPath(env, "MESHCTL_CLIENT_CERTIFICATE");
            clientKey = envPath(env, "MESHCTL_CLIENT_KEY");
        } else {
            clientCertificate = file.path("clientCertificate");
            clientKey = file.path("clientKey");
        }
        if ((clientCertificate == null) != (clientKey == null)) {
            throw new UsageException("client certificate: " + (clientCertificate == null ? "a key without a certificate"
                    : "a certificate without a key") + " (expected: both --client-certificate and --client-key)");
        }

        boolean insecure = flags.insecureSkipTlsVerify
                || bool(env.get("MESHCTL_INSECURE_SKIP_TLS_VERIFY"), "MESHCTL_INSECURE_SKIP_TLS_VERIFY")
                || file.bool("insecureSkipTlsVerify");
        if (insecure) {
            ca = null; // nothing is verified, so no bundle is needed
        }
        String serverIdentity = first(flags.serverIdentity, env.get("MESHCTL_SERVER_IDENTITY"),
                file.text("serverIdentity"));
        return new ConnectionSettings(server.strip(), token, ca, clientCertificate, clientKey, insecure,
                insecure ? null : serverIdentity, flags.requestTimeout);
    }

    MeshConnection toConnection() {
        URI uri;
        try {
            uri = new URI(server);
        } catch (URISyntaxException e) {
            throw new UsageException("server: \"" + server + "\" (expected: a URL such as https://10.0.0.5:9443): "
                    + e.getMessage(), e);
        }
        MeshConnection.Builder builder;
        try {
            builder = MeshConnection.builder(uri);
            if (token != null) {
                builder.bearerToken(token.strip());
            }
            if (requestTimeout != null) {
                builder.requestTimeout(requestTimeout);
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() == null ? "bad setting" : e.getMessage(), e);
        }
        if (certificateAuthority != null) {
            builder.trustedCertificatesPem(read(certificateAuthority, "certificate authority"));
        }
        if (clientCertificate != null && clientKey != null) {
            builder.clientCredentials(read(clientCertificate, "client certificate"), read(clientKey, "client key"));
        }
        builder.insecureSkipTlsVerify(insecureSkipTlsVerify);
        if (serverIdentity != null) {
            try {
                builder.serverIdentity(SpiffeId.parse(serverIdentity.strip()));
            } catch (MeshIdentityException e) {
                throw new UsageException("server identity: " + e.getMessage(), e);
            }
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() == null ? "bad setting" : e.getMessage(), e);
        }
    }

    @SafeVarargs
    private static <T> @Nullable T first(@Nullable T... values) {
        for (T value : values) {
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    private static @Nullable Path envPath(Map<String, String> env, String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? null : Path.of(value);
    }

    private static boolean bool(@Nullable String value, String where) {
        if (value == null || value.isBlank()) {
            return false;
        }
        switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true":
            case "1":
            case "yes":
                return true;
            case "false":
            case "0":
            case "no":
                return false;
            default:
                throw new UsageException(where + ": \"" + value + "\" (expected: true or false)");
        }
    }

    private static String readToken(@Nullable Path file, String where) {
        String token = read(file, where).strip();
        if (token.isEmpty()) {
            throw new UsageException(where + ": " + file + " is empty (expected: the bearer token)");
        }
        return token;
    }

    static String read(@Nullable Path file, String what) {
        if (file == null) {
            throw new UsageException(what + ": no file given");
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new UsageException(what + ": " + file + " does not exist");
        } catch (IOException e) {
            throw new UsageException(what + ": cannot read " + file + " (" + e.getMessage() + ")", e);
        }
    }

    /** The config file, or an empty one when the default file does not exist. */
    static final class ConfigFile {

        private static final YAMLMapper YAML = YAMLMapper.builder().build();

        private final Path path;
        private final Path home;
        private final @Nullable JsonNode root;

        private ConfigFile(Path path, Path home, @Nullable JsonNode root) {
            this.path = path;
            this.home = home;
            this.root = root;
        }

        static ConfigFile load(@Nullable Path flag, Map<String, String> env) {
            Path explicit = flag != null ? flag : envPath(env, "MESHCTL_CONFIG");
            Path home = home(env);
            Path path = explicit != null ? explicit : home.resolve(".isthmus").resolve("meshctl.yaml");
            if (!Files.exists(path)) {
                if (explicit != null) {
                    throw new UsageException("config file " + path + " does not exist");
                }
                return new ConfigFile(path, home, null);
            }
            JsonNode root;
            try {
                root = YAML.readTree(read(path, "config file"));
            } catch (JacksonException e) {
                throw new UsageException("config file " + path + ": malformed YAML: " + e.getOriginalMessage(), e);
            }
            if (root == null || root.isMissingNode() || root.isNull()) {
                return new ConfigFile(path, home, null);
            }
            if (!root.isObject()) {
                throw new UsageException("config file " + path + ": " + root + " (expected: a map of settings: "
                        + String.join(", ", FILE_KEYS) + ')');
            }
            for (String key : root.propertyNames()) {
                if (!FILE_KEYS.contains(key)) {
                    throw new UsageException("config file " + path + ": unknown setting \"" + key + "\" (expected one of: "
                            + String.join(", ", FILE_KEYS) + ')');
                }
            }
            return new ConfigFile(path, home, root);
        }

        private static Path home(Map<String, String> env) {
            String home = env.get("HOME");
            if (home == null || home.isBlank()) {
                home = System.getProperty("user.home");
            }
            return Path.of(home);
        }

        Path path() {
            return path;
        }

        @Nullable String text(String key) {
            JsonNode value = root == null ? null : root.get(key);
            if (value == null || value.isNull()) {
                return null;
            }
            if (!value.isString()) {
                throw new UsageException("config file " + path + ": " + key + ": " + value + " (expected: a string)");
            }
            return value.stringValue();
        }

        @Nullable Path path(String key) {
            String text = text(key);
            if (text == null || text.isBlank()) {
                return null;
            }
            Path file = text.startsWith("~/") ? home.resolve(text.substring(2)) : Path.of(text);
            Path dir = path.toAbsolutePath().getParent();
            return file.isAbsolute() || dir == null ? file : dir.resolve(file);
        }

        boolean bool(String key) {
            JsonNode value = root == null ? null : root.get(key);
            if (value == null || value.isNull()) {
                return false;
            }
            if (!value.isBoolean()) {
                throw new UsageException("config file " + path + ": " + key + ": " + value + " (expected: true or false)");
            }
            return value.booleanValue();
        }
    }
}
