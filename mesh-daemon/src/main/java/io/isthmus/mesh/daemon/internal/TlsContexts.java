package io.isthmus.mesh.daemon.internal;

import io.isthmus.mesh.pki.SiteCredentials;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

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
        return new ServerTls(credentials).context();
    }

    /**
     * A server context whose certificate can be replaced (a renewed certificate of the site): new
     * handshakes present the latest one. The trusted roots are those of the first credentials.
     * Thread-safe.
     */
    public static final class ServerTls {
        private final SSLContext context;
        private final Keys keys;

        /**
         * Creates the context.
         *
         * @param credentials the site's credentials
         */
        public ServerTls(SiteCredentials credentials) {
            try {
                keys = new Keys(keyManager(credentials));
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                int i = 0;
                for (X509Certificate root : credentials.trustBundle().roots()) {
                    trust.setCertificateEntry("root-" + i++, root);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
                context = SSLContext.getInstance("TLS");
                context.init(new KeyManager[] {keys}, tmf.getTrustManagers(), null);
            } catch (GeneralSecurityException | java.io.IOException e) {
                throw new IllegalStateException("admin API: cannot build a TLS context from the site's credentials: "
                        + e, e);
            }
        }

        /** @return the context */
        public SSLContext context() {
            return context;
        }

        /**
         * Presents {@code credentials}' certificate from the next handshake on.
         *
         * @param credentials the renewed credentials
         */
        public void update(SiteCredentials credentials) {
            try {
                keys.delegate = keyManager(credentials);
            } catch (GeneralSecurityException | java.io.IOException e) {
                throw new IllegalStateException("admin API: cannot use the renewed credentials: " + e, e);
            }
        }
    }

    private static X509ExtendedKeyManager keyManager(SiteCredentials credentials)
            throws GeneralSecurityException, java.io.IOException {
        char[] password = new char[0];
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("site", credentials.privateKey(), password,
                credentials.certificateChain().toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        for (KeyManager manager : kmf.getKeyManagers()) {
            if (manager instanceof X509ExtendedKeyManager) {
                return (X509ExtendedKeyManager) manager;
            }
        }
        throw new GeneralSecurityException("no X.509 key manager in " + kmf.getAlgorithm());
    }

    /** Delegates to the key manager of the latest credentials. */
    private static final class Keys extends X509ExtendedKeyManager {
        volatile X509ExtendedKeyManager delegate;

        Keys(X509ExtendedKeyManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return delegate.getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return delegate.chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return delegate.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return delegate.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return delegate.chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return delegate.chooseEngineClientAlias(keyType, issuers, engine);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return delegate.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return delegate.getPrivateKey(alias);
        }
    }
}
