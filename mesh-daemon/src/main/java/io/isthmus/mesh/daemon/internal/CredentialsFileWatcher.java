package io.isthmus.mesh.daemon.internal;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.pki.SiteCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads a site's credentials when their PEM files change on disk (a certificate renewed by an
 * external tool, a Kubernetes Secret updated): {@link #check()}, called at an interval, compares the
 * files' modification times and sizes with the last look and, when one differs, reads all three and
 * hands the new credentials to the listener.
 *
 * <p>Files are often replaced one at a time, so a check may see a new certificate with the old key:
 * such a half-written set is not applied (the current credentials stay in use) and is read again at the
 * next check. Credentials of another site or trust domain are refused the same way, with a warning.
 *
 * <p>Not thread-safe: call {@link #check()} from one thread, e.g. a scheduler.
 */
public final class CredentialsFileWatcher {

    private static final Logger logger = LoggerFactory.getLogger(CredentialsFileWatcher.class);

    private final String trustDomain;
    private final Path certificateChain;
    private final Path privateKey;
    private final Path trustBundle;
    private final Consumer<SiteCredentials> listener;
    private SiteCredentials current;
    private List<String> lastSeen;
    private @Nullable String lastProblem;

    /**
     * Creates a watcher; the files as they are now count as seen.
     *
     * @param trustDomain the mesh's trust domain
     * @param certificateChain the site certificate chain PEM file
     * @param privateKey the site private key PEM file
     * @param trustBundle the trust bundle PEM file
     * @param current the credentials read from the files at start
     * @param listener called with each new, complete set of credentials, on the thread of {@link #check()}
     */
    public CredentialsFileWatcher(String trustDomain, Path certificateChain, Path privateKey, Path trustBundle,
            SiteCredentials current, Consumer<SiteCredentials> listener) {
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        this.certificateChain = requireNonNull(certificateChain, "certificateChain");
        this.privateKey = requireNonNull(privateKey, "privateKey");
        this.trustBundle = requireNonNull(trustBundle, "trustBundle");
        this.current = requireNonNull(current, "current");
        this.listener = requireNonNull(listener, "listener");
        this.lastSeen = stamps();
    }

    /**
     * Looks at the files once and applies new credentials when they changed and fit together.
     *
     * @return whether new credentials were handed to the listener
     */
    public boolean check() {
        List<String> seen = stamps();
        if (seen.equals(lastSeen)) {
            return false;
        }
        SiteCredentials loaded;
        try {
            loaded = SiteCredentials.fromFiles(trustDomain, certificateChain, privateKey, trustBundle);
        } catch (RuntimeException e) {
            // Probably replaced one file at a time: look again at the next check.
            report("credentials files changed but cannot be used yet: " + e.getMessage());
            return false;
        }
        if (!loaded.spiffeId().equals(current.spiffeId())) {
            lastSeen = seen;
            report("credentials files " + certificateChain + " now hold " + loaded.spiffeId() + " (expected: "
                    + current.spiffeId() + "); keeping the current certificate");
            return false;
        }
        lastSeen = seen;
        lastProblem = null;
        if (loaded.equals(current)) {
            return false;
        }
        current = loaded;
        logger.info("site credentials reloaded from {}: certificate serial {} valid until {}", certificateChain,
                loaded.certificate().getSerialNumber().toString(16), loaded.notAfter());
        listener.accept(loaded);
        return true;
    }

    /** @return the credentials in use */
    public SiteCredentials current() {
        return current;
    }

    private void report(String problem) {
        if (!problem.equals(lastProblem)) {
            logger.warn(problem);
            lastProblem = problem;
        }
    }

    private List<String> stamps() {
        List<String> stamps = new ArrayList<>(3);
        for (Path file : List.of(certificateChain, privateKey, trustBundle)) {
            try {
                BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
                stamps.add(attributes.lastModifiedTime().toMillis() + "/" + attributes.size() + "/"
                        + attributes.fileKey());
            } catch (IOException e) {
                stamps.add("missing");
            }
        }
        return stamps;
    }
}
