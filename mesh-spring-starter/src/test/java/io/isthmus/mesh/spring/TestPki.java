package io.isthmus.mesh.spring;

import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A mesh CA for tests, and the PEM files of a site as an application would find them on disk. */
final class TestPki {

    static final String TRUST_DOMAIN = "spring.test.isthmus.io";

    private TestPki() {}

    static MeshCertificateAuthority ca() {
        return MeshCertificateAuthority.create(TRUST_DOMAIN);
    }

    /** Writes the site's chain, key and the CA bundle under {@code dir}; returns the matching properties. */
    static String[] siteFiles(MeshCertificateAuthority ca, String site, Path dir) {
        SiteCredentials credentials = ca.issueSite(site);
        try {
            Path chain = Files.writeString(dir.resolve(site + ".crt"), credentials.certificateChainPem());
            Path key = Files.writeString(dir.resolve(site + ".key"), credentials.privateKeyPem());
            Path bundle = Files.writeString(dir.resolve("ca.crt"), ca.trustBundle().toPem());
            return new String[] {
                "isthmus.mode=embedded",
                "isthmus.site=" + site,
                "isthmus.trust-domain=" + TRUST_DOMAIN,
                "isthmus.tls.certificate-chain=" + chain,
                "isthmus.tls.private-key=" + key,
                "isthmus.tls.trust-bundle=" + bundle,
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
