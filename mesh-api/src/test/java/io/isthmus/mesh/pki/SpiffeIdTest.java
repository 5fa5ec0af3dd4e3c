package io.isthmus.mesh.pki;

import static io.isthmus.mesh.pki.TestCertificates.dns;
import static io.isthmus.mesh.pki.TestCertificates.leaf;
import static io.isthmus.mesh.pki.TestCertificates.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    @Test
    void buildsTheSiteUriFromTrustDomainAndSite() {
        SpiffeId id = SpiffeId.ofSite("mesh.test", "osaka");

        assertThat(id).hasToString("spiffe://mesh.test/site/osaka");
        assertThat(id.trustDomain()).isEqualTo("mesh.test");
        assertThat(id.site()).isEqualTo("osaka");
        assertThat(id.toUri()).isEqualTo(URI.create("spiffe://mesh.test/site/osaka"));
    }

    @Test
    void equalsAnotherIdOfTheSameUri() {
        SpiffeId parsed = SpiffeId.parse("spiffe://mesh.test/site/osaka");

        assertThat(parsed).isEqualTo(SpiffeId.ofSite("mesh.test", "osaka"))
                .hasSameHashCodeAs(SpiffeId.ofSite("mesh.test", "osaka"))
                .isNotEqualTo(SpiffeId.ofSite("mesh.test", "kyoto"))
                .isNotEqualTo(SpiffeId.ofSite("other.test", "osaka"));
    }

    @Test
    void rejectsASiteThatIsNotALowercaseDnsLabel() {
        assertThatThrownBy(() -> SpiffeId.ofSite("mesh.test", "Osaka!"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("site: \"Osaka!\" (expected: a lowercase DNS label)");
        assertThatThrownBy(() -> SpiffeId.ofSite("mesh.test", "a".repeat(64)))
                .hasMessageStartingWith("site: \"aaaa");
        assertThatThrownBy(() -> SpiffeId.ofSite("mesh.test", "-osaka")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SpiffeId.ofSite("mesh.test", "os.aka")).isInstanceOf(IllegalArgumentException.class);
        assertThat(SpiffeId.ofSite("mesh.test", "a".repeat(63)).site()).hasSize(63);
    }

    @Test
    void rejectsATrustDomainThatIsNotALowercaseDnsName() {
        assertThatThrownBy(() -> SpiffeId.ofSite("Mesh.Test", "osaka"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("trustDomain: \"Mesh.Test\" (expected: a lowercase DNS name of at most 255 characters)");
        assertThatThrownBy(() -> SpiffeId.ofSite("a".repeat(256), "osaka")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SpiffeId.ofSite("mesh.test.", "osaka")).isInstanceOf(IllegalArgumentException.class);
        assertThat(SpiffeId.ofSite("a".repeat(255), "osaka").trustDomain()).hasSize(255);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "https://mesh.test/site/osaka",
        "spiffe://mesh.test/workload/osaka",
        "spiffe://mesh.test",
        "spiffe://mesh.test/site/",
        "spiffe://mesh.test/site/osaka/extra",
        "spiffe://mesh.test/site/osaka?x=1",
        "spiffe://mesh.test:443/site/osaka",
        "spiffe://user@mesh.test/site/osaka",
        "SPIFFE://mesh.test/site/osaka",
        "spiffe:///site/osaka",
    })
    void parsesOnlySiteIdentities(String text) {
        assertThatThrownBy(() -> SpiffeId.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("uri: \"" + text + "\" (expected: spiffe://<trust-domain>/site/<site>)");
    }

    @Test
    void saysWhichPartOfAParsedUriIsMalformed() {
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://mesh.test/site/Osaka"))
                .hasMessage("uri: \"spiffe://mesh.test/site/Osaka\" (expected: spiffe://<trust-domain>/site/<site>); "
                        + "site: \"Osaka\" (expected: a lowercase DNS label)");
    }

    @Test
    void readsTheSpiffeIdOfAnIssuedCertificate() {
        assertThat(SpiffeId.fromCertificate(CA.issueSite("osaka").certificate()))
                .isEqualTo(SpiffeId.ofSite("mesh.test", "osaka"));
    }

    @Test
    void ignoresOtherUriAndDnsNames() throws Exception {
        X509Certificate certificate = leaf(CA, dns("osaka.mesh.test"), uri("https://osaka.mesh.test/"),
                uri("spiffe://mesh.test/site/osaka"));

        assertThat(SpiffeId.fromCertificate(certificate)).isEqualTo(SpiffeId.ofSite("mesh.test", "osaka"));
    }

    @Test
    void rejectsACertificateWithoutSpiffeId() throws Exception {
        X509Certificate withDnsName = leaf(CA, dns("osaka.mesh.test"));
        X509Certificate withoutNames = leaf(CA);

        assertThatThrownBy(() -> SpiffeId.fromCertificate(withDnsName))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=odd carries no SPIFFE id (expected: one URI SAN "
                        + "spiffe://<trust-domain>/site/<site>)");
        assertThatThrownBy(() -> SpiffeId.fromCertificate(withoutNames))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("carries no SPIFFE id");
    }

    @Test
    void rejectsACertificateWithTwoSpiffeIds() throws Exception {
        X509Certificate certificate = leaf(CA, uri("spiffe://mesh.test/site/osaka"), uri("spiffe://mesh.test/site/kyoto"));

        assertThatThrownBy(() -> SpiffeId.fromCertificate(certificate))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessage("certificate CN=odd carries 2 SPIFFE ids [spiffe://mesh.test/site/osaka, "
                        + "spiffe://mesh.test/site/kyoto] (expected: exactly one)");
    }

    @Test
    void rejectsACertificateWithAMalformedSpiffeId() throws Exception {
        X509Certificate certificate = leaf(CA, uri("spiffe://mesh.test/workload/osaka"));

        assertThatThrownBy(() -> SpiffeId.fromCertificate(certificate))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageStartingWith("certificate CN=odd carries a malformed SPIFFE id: "
                        + "uri: \"spiffe://mesh.test/workload/osaka\"");
    }
}
