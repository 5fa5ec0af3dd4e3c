package io.isthmus.mesh.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.junit.jupiter.api.Test;

class MeshPkiTest {

    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    @Test
    void issuesSiteCertificatesThatVerifyToTheirSpiffeId() {
        SiteCredentials osaka = CA.issueSite("osaka");

        assertThat(osaka.spiffeId()).hasToString("spiffe://mesh.test/site/osaka");
        assertThat(CA.trustBundle().verify(osaka.certificateChain())).isEqualTo(SpiffeId.ofSite("mesh.test", "osaka"));
        assertThat(osaka.notAfter()).isBetween(Instant.now().plus(Duration.ofDays(89)), Instant.now().plus(Duration.ofDays(91)));
    }

    @Test
    void carriesTheDnsNameOfTheSiteToo() throws Exception {
        assertThat(CA.issueSite("osaka").certificate().getSubjectAlternativeNames())
                .contains(List.of(2, "osaka.mesh.test"), List.of(6, "spiffe://mesh.test/site/osaka"));
    }

    @Test
    void rejectsAChainFromAnotherCa() {
        SiteCredentials rogue = MeshCertificateAuthority.create("mesh.test").issueSite("osaka");

        assertThatThrownBy(() -> CA.trustBundle().verify(rogue.certificateChain()))
                .isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("is not issued by a root of the mesh.test trust bundle");
    }

    @Test
    void rejectsExpiredAndNotYetValidCertificates() {
        Instant now = Instant.now();
        SiteCredentials expired = CA.issueSite("osaka", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
        SiteCredentials future = CA.issueSite("osaka", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2)));

        assertThatThrownBy(() -> CA.trustBundle().verify(expired.certificateChain()))
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("expired at");
        assertThatThrownBy(() -> CA.trustBundle().verify(future.certificateChain()))
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("is not valid before");
    }

    @Test
    void rejectsAnIdentityOfAnotherTrustDomain() {
        MeshCertificateAuthority other = MeshCertificateAuthority.create("other.test");
        TrustBundle mixed = TrustBundle.of("mesh.test", List.of(CA.certificate(), other.certificate()));

        assertThatThrownBy(() -> mixed.verify(other.issueSite("osaka").certificateChain()))
                .hasMessageContaining("names spiffe://other.test/site/osaka (expected: trust domain mesh.test)");
    }

    @Test
    void rejectsCertificatesWithNoOrTwoSpiffeIds() {
        X509Certificate none = leaf(new GeneralName(GeneralName.dNSName, "osaka.mesh.test"));
        X509Certificate two = leaf(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://mesh.test/site/osaka"),
                new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://mesh.test/site/kyoto"));

        assertThatThrownBy(() -> SpiffeId.fromCertificate(none)).isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("carries no SPIFFE id");
        assertThatThrownBy(() -> CA.trustBundle().verify(List.of(two))).isInstanceOf(MeshIdentityException.class)
                .hasMessageContaining("carries 2 SPIFFE ids");
    }

    @Test
    void roundTripsCaAndSiteCredentialsThroughPem() {
        SiteCredentials osaka = CA.issueSite("osaka");

        SiteCredentials read = SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), osaka.privateKeyPem(),
                CA.trustBundle().toPem());
        MeshCertificateAuthority loaded = MeshCertificateAuthority.fromPem("mesh.test", CA.certificatePem(), CA.privateKeyPem());

        assertThat(read.certificateChain()).isEqualTo(osaka.certificateChain());
        assertThat(((java.security.interfaces.ECPrivateKey) read.privateKey()).getS())
                .isEqualTo(((java.security.interfaces.ECPrivateKey) osaka.privateKey()).getS());
        assertThat(read.trustBundle()).isEqualTo(CA.trustBundle());
        assertThat(CA.trustBundle().verify(loaded.issueSite("kyoto").certificateChain()).site()).isEqualTo("kyoto");
    }

    @Test
    void rejectsAKeyThatDoesNotMatchTheCertificate() {
        SiteCredentials osaka = CA.issueSite("osaka");
        SiteCredentials kyoto = CA.issueSite("kyoto");

        assertThatThrownBy(() -> SiteCredentials.fromPem("mesh.test", osaka.certificateChainPem(), kyoto.privateKeyPem(),
                CA.trustBundle().toPem()))
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("does not match certificate");
        assertThatThrownBy(() -> MeshCertificateAuthority.fromPem("mesh.test", CA.certificatePem(), osaka.privateKeyPem()))
                .isInstanceOf(MeshIdentityException.class).hasMessageContaining("CA private key does not match");
    }

    @Test
    void validatesSpiffeIds() {
        assertThat(SpiffeId.parse("spiffe://mesh.test/site/osaka")).isEqualTo(SpiffeId.ofSite("mesh.test", "osaka"));
        assertThatThrownBy(() -> SpiffeId.ofSite("mesh.test", "Osaka!"))
                .hasMessage("site: \"Osaka!\" (expected: a lowercase DNS label)");
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://mesh.test/workload/osaka"))
                .hasMessageContaining("expected: spiffe://<trust-domain>/site/<site>");
    }

    @Test
    void aBundleWithTwoRootsVerifiesBothUntilOneIsRemoved() {
        MeshCertificateAuthority next = MeshCertificateAuthority.create("mesh.test");
        TrustBundle overlap = CA.trustBundle().withRoot(next.certificate());

        assertThat(overlap.verify(CA.issueSite("osaka").certificateChain()).site()).isEqualTo("osaka");
        assertThat(overlap.verify(next.issueSite("kyoto").certificateChain()).site()).isEqualTo("kyoto");
        TrustBundle afterRotation = overlap.withoutRoot(CA.certificate());
        assertThatThrownBy(() -> afterRotation.verify(CA.issueSite("osaka").certificateChain()))
                .isInstanceOf(MeshIdentityException.class);
        assertThatThrownBy(() -> afterRotation.withoutRoot(next.certificate())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void siteCredentialsWorkForMutualTlsWithTheJdk() throws Exception {
        SSLContext server = sslContext(CA.issueSite("osaka"));
        SSLContext client = sslContext(CA.issueSite("tokyo"));
        try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            listener.setEnabledProtocols(new String[] {"TLSv1.3"});
            CompletableFuture<Certificate[]> serverSide = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(10_000);
                    InputStream in = accepted.getInputStream();
                    int b = in.read();
                    accepted.getOutputStream().write(b);
                    return accepted.getSession().getPeerCertificates();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket socket = (SSLSocket) client.getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                out.write(42);
                out.flush();
                assertThat(socket.getInputStream().read()).isEqualTo(42);
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
                assertThat(SpiffeId.fromCertificate((X509Certificate) socket.getSession().getPeerCertificates()[0]).site())
                        .isEqualTo("osaka");
            }
            Certificate[] clientChain = serverSide.get(10, TimeUnit.SECONDS);
            assertThat(SpiffeId.fromCertificate((X509Certificate) clientChain[0]).site()).isEqualTo("tokyo");
        }
    }

    private static SSLContext sslContext(SiteCredentials credentials) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("site", credentials.privateKey(), new char[0],
                credentials.certificateChain().toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate root : credentials.trustBundle().roots()) {
            trust.setCertificateEntry("root" + i++, root);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    /** A leaf signed by the test CA with the given subject alternative names. */
    private static X509Certificate leaf(GeneralName... names) {
        KeyPair keys = MeshCertificateAuthority.newKeyPair();
        SiteCredentials signer = CA.issueSite("signer");
        try {
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(CA.certificate(), BigInteger.TEN,
                    Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)), new X500Name("CN=odd"),
                    keys.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            return MeshCertificateAuthority.sign(builder, caKey(signer));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.security.PrivateKey caKey(SiteCredentials unused) {
        return Pem.readPrivateKey(CA.privateKeyPem(), "CA key");
    }
}
