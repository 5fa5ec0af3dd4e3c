package io.isthmus.mesh.daemon.internal;

import io.isthmus.mesh.pki.SiteCredentials;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** JDK TLS contexts made from a site's credentials, for the admin API. */
public final class TlsContexts {

    private TlsContexts() {}

    /**
     * Returns a server context that presents the site's certificate and trusts the mesh's roots for
     * client certificates.
     *
     * @param credentials the site's credentials
     * @return the context
     */
    public static SSLContext server(SiteCredentials credentials) {
        try {
            char[] password = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("site", credentials.privateKey(), password,
                    credentials.certificateChain().toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (X509Certificate root : credentials.trustBundle().roots()) {
                trust.setCertificateEntry("root-" + i++, root);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("admin API: cannot build a TLS context from the site's credentials: " + e, e);
        }
    }
}
