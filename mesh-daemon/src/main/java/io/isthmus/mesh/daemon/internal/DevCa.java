package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.isthmus.mesh.pki.MeshCertificateAuthority;
import io.isthmus.mesh.pki.SiteCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The development CA of a one-machine setup ({@code dev.generateCa: true}): created once in a
 * directory, reused by every daemon that names the same directory, and asked for a fresh site
 * certificate at each start. A file lock keeps two daemons starting at once from creating two CAs.
 */
public final class DevCa {

    private DevCa() {}

    /**
     * Loads or creates the CA in {@code caDir}, issues the site's credentials and writes them, with
     * the trust bundle, to {@code stateDir} ({@code site.pem}, {@code site-key.pem}, {@code trust-bundle.pem}).
     *
     * @param caDir where the CA's {@code ca.pem} and {@code ca-key.pem} live
     * @param stateDir where the site's PEM files are written
     * @param trustDomain the mesh's trust domain
     * @param site the site
     * @return the site's credentials
     */
    public static SiteCredentials issue(Path caDir, Path stateDir, String trustDomain, String site) {
        MeshCertificateAuthority ca = load(caDir, trustDomain);
        try {
            Files.createDirectories(stateDir);
            SiteCredentials credentials = ca.issueSite(site);
            Files.writeString(stateDir.resolve("site.pem"), credentials.certificateChainPem(), UTF_8);
            writePrivate(stateDir.resolve("site-key.pem"), credentials.privateKeyPem());
            Files.writeString(stateDir.resolve("trust-bundle.pem"), ca.trustBundle().toPem(), UTF_8);
            return credentials;
        } catch (IOException e) {
            throw new UncheckedIOException("dev.generateCa: cannot write the site's files in " + stateDir + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Loads the CA in {@code caDir}, creating it the first time.
     *
     * @param caDir where the CA's {@code ca.pem} and {@code ca-key.pem} live
     * @param trustDomain the mesh's trust domain
     * @return the CA
     */
    public static MeshCertificateAuthority load(Path caDir, String trustDomain) {
        try {
            Files.createDirectories(caDir);
            Path certFile = caDir.resolve("ca.pem");
            Path keyFile = caDir.resolve("ca-key.pem");
            try (FileChannel channel = FileChannel.open(caDir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
                    FileLock lock = channel.lock()) {
                if (Files.exists(certFile) && Files.exists(keyFile)) {
                    return MeshCertificateAuthority.fromPem(trustDomain, Files.readString(certFile, UTF_8),
                            Files.readString(keyFile, UTF_8));
                }
                MeshCertificateAuthority ca = MeshCertificateAuthority.create(trustDomain);
                writePrivate(keyFile, ca.privateKeyPem());
                Files.writeString(certFile, ca.certificatePem(), UTF_8);
                return ca;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("dev.generateCa: cannot keep the development CA in " + caDir + ": "
                    + e.getMessage(), e);
        }
    }

    private static void writePrivate(Path file, String pem) throws IOException {
        Files.writeString(file, pem, UTF_8);
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the directory's permissions protect the key.
        }
    }
}
