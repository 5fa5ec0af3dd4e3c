package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.pki.SpiffeId;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code join.*} and {@code ca.*} settings: what fits together and how a bad value is reported. */
class JoinSettingsTest {

    private static final String TOKEN = "0123456789abcdef." + "A".repeat(43);

    private static Map<String, String> joining() {
        Map<String, String> flags = new HashMap<>();
        flags.put("site", "kyoto");
        flags.put("trustDomain", "mesh.example");
        flags.put("join.token", TOKEN);
        flags.put("join.server", "https://10.0.0.1:9443");
        return flags;
    }

    @Test
    void aJoinTokenTakesThePlaceOfCredentialFiles() {
        Map<String, String> flags = joining();
        flags.put("join.caBundle", "/etc/isthmus/trust-bundle.pem");
        flags.put("join.serverIdentity", "spiffe://mesh.example/site/tokyo");

        DaemonConfig config = DaemonConfig.load(null, Map.of(), flags);

        assertThat(config.joinToken()).isEqualTo(TOKEN);
        assertThat(config.joinServer()).isEqualTo(URI.create("https://10.0.0.1:9443"));
        assertThat(config.joinCaBundle()).isEqualTo(Path.of("/etc/isthmus/trust-bundle.pem"));
        assertThat(config.joinServerIdentity()).isEqualTo(SpiffeId.parse("spiffe://mesh.example/site/tokyo"));
        assertThat(config.certificateChain()).isNull();
        assertThat(DaemonConfig.flagName("join.caBundle")).isEqualTo("--join-ca-bundle");
        assertThat(DaemonConfig.envName("join.token")).isEqualTo("ISTHMUS_JOIN_TOKEN");
    }

    @Test
    void refusesAMalformedTokenWithoutEchoingIt() {
        Map<String, String> flags = joining();
        flags.put("join.token", "abc.secret-value");

        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), flags))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessageStartingWith("--join-token: join.token: not a join token")
                .hasMessageNotContaining("secret-value");
    }

    @Test
    void refusesATokenWithoutAServerOrTogetherWithOtherCredentials() {
        Map<String, String> noServer = joining();
        noServer.remove("join.server");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), noServer))
                .hasMessageContaining("join.server: missing");

        Map<String, String> withDevCa = joining();
        withDevCa.put("dev.generateCa", "true");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), withDevCa))
                .hasMessageContaining("join.token: set together with dev.generateCa");

        Map<String, String> plainRemote = joining();
        plainRemote.put("join.server", "http://10.0.0.1:9443");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), plainRemote))
                .hasMessageContaining("join.server: \"http://10.0.0.1:9443\" (expected: https://, or http:// to a "
                        + "loopback address only)");

        Map<String, String> identityWithoutBundle = joining();
        identityWithoutBundle.put("join.serverIdentity", "spiffe://mesh.example/site/tokyo");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), identityWithoutBundle))
                .hasMessageContaining("join.serverIdentity: set without join.caBundle");
    }

    @Test
    void refusesJoinSettingsWithoutAToken() {
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "kyoto", "dev.generateCa", "true",
                "join.server", "https://10.0.0.1:9443")))
                .hasMessageContaining("join.server: set without join.token");
    }

    @Test
    void caFilesComeInPairsAndNotWithTheDevelopmentCa() {
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true",
                "ca.certificate", "/etc/isthmus/ca.pem", "ca.privateKey", "/etc/isthmus/ca-key.pem")))
                .hasMessageContaining("ca.certificate: set together with dev.generateCa");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "trustDomain", "mesh.example",
                "ca.certificate", "/etc/isthmus/ca.pem")))
                .hasMessageContaining("ca.privateKey: missing (expected: ca.certificate and ca.privateKey together)");
    }

    @Test
    void theValidityOfIssuedSiteCertificatesIsASettingOfTheCaDaemon() {
        DaemonConfig defaults = DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true"));
        assertThat(defaults.siteCertificateValidity()).isEqualTo(java.time.Duration.ofHours(24));

        DaemonConfig shorter = DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true",
                "ca.siteCertificateValidity", "6h"));
        assertThat(shorter.siteCertificateValidity()).isEqualTo(java.time.Duration.ofHours(6));
        assertThat(DaemonConfig.flagName("ca.siteCertificateValidity")).isEqualTo("--ca-site-certificate-validity");

        Map<String, String> withoutCa = joining();
        withoutCa.put("ca.siteCertificateValidity", "6h");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), withoutCa))
                .isInstanceOf(DaemonConfigException.class)
                .hasMessageContaining("ca.siteCertificateValidity: set without a CA");
        assertThatThrownBy(() -> DaemonConfig.load(null, Map.of(), Map.of("site", "tokyo", "dev.generateCa", "true",
                "ca.siteCertificateValidity", "0s")))
                .hasMessageContaining("ca.siteCertificateValidity: \"0s\" (expected: a duration > 0");
    }
}
