package io.isthmus.mesh.pki;

import static io.isthmus.mesh.pki.TestCertificates.tls13Context;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.InetAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issued credentials work for mutual TLS 1.3 with the JDK's own TLS engine, over real sockets. */
@Timeout(30)
class MutualTlsInteropTest {

    private static final int SOCKET_TIMEOUT_MILLIS = 10_000;
    private static final MeshCertificateAuthority CA = MeshCertificateAuthority.create("mesh.test");

    private ExecutorService serverThread;

    @BeforeEach
    void startExecutor() {
        serverThread = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void stopExecutor() throws InterruptedException {
        serverThread.shutdownNow();
        assertThat(serverThread.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void siteCredentialsWorkForMutualTls13WithTheJdk() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        SiteCredentials tokyo = CA.issueSite("tokyo");

        try (SSLServerSocket listener = listen(tls13Context(osaka))) {
            Future<List<X509Certificate>> serverSide = serverThread.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
                    int b = accepted.getInputStream().read();
                    accepted.getOutputStream().write(b + 1);
                    accepted.getOutputStream().flush();
                    return peerChain(accepted);
                }
            });

            try (SSLSocket client = connect(tls13Context(tokyo), listener)) {
                client.startHandshake();
                client.getOutputStream().write(41);
                client.getOutputStream().flush();

                assertThat(client.getInputStream().read()).isEqualTo(42);
                assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.3");
                assertThat(tokyo.trustBundle().verify(peerChain(client))).isEqualTo(osaka.spiffeId());
            }
            assertThat(osaka.trustBundle().verify(serverSide.get(SOCKET_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)))
                    .isEqualTo(tokyo.spiffeId());
        }
    }

    @Test
    void serverRejectsClientCertificateFromAnotherCa() throws Exception {
        SiteCredentials osaka = CA.issueSite("osaka");
        // Trusts our CA, so that the client accepts the server; but its own certificate is from elsewhere.
        SiteCredentials impostor = MeshCertificateAuthority.create("mesh.test").issueSite("tokyo")
                .withTrustBundle(CA.trustBundle());

        try (SSLServerSocket listener = listen(tls13Context(osaka))) {
            Future<Throwable> serverSide = serverThread.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
                    return catchThrowable(accepted::startHandshake);
                }
            });

            try (SSLSocket client = connect(tls13Context(impostor), listener)) {
                // With TLS 1.3 the client finishes its handshake before the server has judged its
                // certificate; the refusal arrives as an alert on the next read.
                Throwable clientFailure = catchThrowable(() -> {
                    client.startHandshake();
                    client.getOutputStream().write(1);
                    client.getOutputStream().flush();
                    client.getInputStream().read();
                });
                assertThat(clientFailure).isInstanceOf(IOException.class);
            }
            assertThat(serverSide.get(SOCKET_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS))
                    .isInstanceOf(SSLHandshakeException.class);
        }
    }

    private static SSLServerSocket listen(SSLContext context) throws IOException {
        SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
        listener.setNeedClientAuth(true);
        listener.setEnabledProtocols(new String[] {"TLSv1.3"});
        return listener;
    }

    private static SSLSocket connect(SSLContext context, SSLServerSocket listener) throws IOException {
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
        socket.setEnabledProtocols(new String[] {"TLSv1.3"});
        return socket;
    }

    private static List<X509Certificate> peerChain(SSLSocket socket) throws IOException {
        Certificate[] chain = socket.getSession().getPeerCertificates();
        return Arrays.stream(chain).map(X509Certificate.class::cast).toList();
    }
}
