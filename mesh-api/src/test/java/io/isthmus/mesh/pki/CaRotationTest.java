package io.isthmus.mesh.pki;

import static io.isthmus.mesh.pki.TestCertificates.tls13Context;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Walks the CA rotation of the package documentation: trust both roots everywhere, re-issue from the new
 * CA, drop the old root. At each step, real TLS 1.3 handshakes with mutual authentication over 127.0.0.1
 * show which sites can talk. Each site's credentials come from a {@link SiteCertificateRenewer}, as a
 * router would get them.
 */
@Timeout(120)
class CaRotationTest {

    private static final int TIMEOUT_MILLIS = 10_000;

    private final AtomicReference<MeshCertificateAuthority> activeCa = new AtomicReference<>();
    private final Map<String, SiteCertificateRenewer> renewers = new ConcurrentHashMap<>();
    /** What each site's router uses: the latest credentials its renewer published. */
    private final Map<String, SiteCredentials> live = new ConcurrentHashMap<>();
    private ScheduledExecutorService scheduler;
    private ExecutorService serverThread;

    @BeforeEach
    void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor();
        serverThread = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void stop() throws InterruptedException {
        renewers.values().forEach(SiteCertificateRenewer::close);
        scheduler.shutdownNow();
        serverThread.shutdownNow();
        assertThat(scheduler.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(serverThread.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private void join(String site) {
        SiteCredentialIssuer issuer = current -> activeCa.get().issueSite(current.site());
        SiteCredentials initial = activeCa.get().issueSite(site);
        live.put(site, initial);
        SiteCertificateRenewer renewer = SiteCertificateRenewer.builder(initial, issuer, scheduler).build();
        renewer.addListener(credentials -> live.put(site, credentials));
        renewers.put(site, renewer.start());
    }

    private void addRoot(String site, X509Certificate root) {
        SiteCertificateRenewer renewer = renewers.get(site);
        renewer.updateTrustBundle(renewer.current().trustBundle().withRoot(root));
    }

    private void dropRoot(String site, X509Certificate root) {
        SiteCertificateRenewer renewer = renewers.get(site);
        renewer.updateTrustBundle(renewer.current().trustBundle().withoutRoot(root));
    }

    private void reissue(String site) throws Exception {
        renewers.get(site).renewNow().get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Test
    void rotatesTheCaWithoutCuttingOffAnySite() throws Exception {
        MeshCertificateAuthority oldCa = MeshCertificateAuthority.create("mesh.test");
        activeCa.set(oldCa);
        for (String site : List.of("tokyo", "osaka", "kyoto", "sapporo")) {
            join(site);
        }
        assertCanTalk("tokyo", "osaka");
        assertCanTalk("tokyo", "kyoto");

        // Step 1: every site (but sapporo, which we leave behind to show why this step comes first)
        // trusts the new root as well. Certificates are all still the old CA's.
        MeshCertificateAuthority newCa = MeshCertificateAuthority.create("mesh.test");
        for (String site : List.of("tokyo", "osaka", "kyoto")) {
            addRoot(site, newCa.certificate());
        }
        assertThat(live.get("tokyo").trustBundle().roots()).containsExactly(oldCa.certificate(), newCa.certificate());
        assertCanTalk("tokyo", "osaka");
        assertCanTalk("tokyo", "kyoto");
        assertCanTalk("osaka", "kyoto");
        assertCanTalk("tokyo", "sapporo");

        // Step 2: re-issue from the new CA, one site after the other; kyoto lags behind.
        activeCa.set(newCa);
        reissue("tokyo");
        assertThat(newCa.trustBundle().verify(live.get("tokyo").certificateChain()).site()).isEqualTo("tokyo");
        assertCanTalk("tokyo", "osaka");   // new certificate <-> old certificate: both roots are trusted
        assertCanTalk("tokyo", "kyoto");
        // sapporo never learnt the new root: it refuses tokyo's new certificate, and tokyo cannot reach it.
        assertRefused("tokyo", "sapporo");
        assertCanTalk("osaka", "sapporo");

        reissue("osaka");
        assertCanTalk("tokyo", "osaka");   // new <-> new
        assertCanTalk("osaka", "kyoto");   // new <-> old (kyoto still on the old CA)
        // The renewals kept the old root: removing a root is always an explicit step.
        assertThat(live.get("osaka").trustBundle().roots()).containsExactly(oldCa.certificate(), newCa.certificate());

        // Step 3: drop the old root at the re-issued sites. kyoto, still presenting an old certificate, is
        // now refused in both directions; tokyo and osaka keep talking.
        dropRoot("tokyo", oldCa.certificate());
        dropRoot("osaka", oldCa.certificate());
        assertCanTalk("tokyo", "osaka");
        assertRefused("tokyo", "kyoto");
        assertRefused("osaka", "kyoto");

        // Once kyoto is re-issued and drops the old root too, the rotation is complete.
        reissue("kyoto");
        dropRoot("kyoto", oldCa.certificate());
        assertCanTalk("tokyo", "kyoto");
        assertCanTalk("osaka", "kyoto");
        for (String site : List.of("tokyo", "osaka", "kyoto")) {
            assertThat(live.get(site).trustBundle().roots()).containsExactly(newCa.certificate());
        }
        // A certificate of the old CA, however fresh, is no longer accepted anywhere.
        SiteCredentials lateOld = oldCa.issueSite("nagoya").withTrustBundle(live.get("tokyo").trustBundle());
        assertThat(handshake(lateOld, live.get("tokyo")).succeeded()).isFalse();
    }

    private void assertCanTalk(String a, String b) throws Exception {
        Handshake ab = handshake(live.get(a), live.get(b));
        Handshake ba = handshake(live.get(b), live.get(a));
        assertThat(ab.succeeded()).as("%s -> %s: %s", a, b, ab).isTrue();
        assertThat(ba.succeeded()).as("%s -> %s: %s", b, a, ba).isTrue();
        assertThat(ab.serverSawClient).isEqualTo(live.get(a).spiffeId());
        assertThat(ab.clientSawServer).isEqualTo(live.get(b).spiffeId());
    }

    private void assertRefused(String a, String b) throws Exception {
        Handshake ab = handshake(live.get(a), live.get(b));
        Handshake ba = handshake(live.get(b), live.get(a));
        assertThat(ab.succeeded()).as("%s -> %s: %s", a, b, ab).isFalse();
        assertThat(ba.succeeded()).as("%s -> %s: %s", b, a, ba).isFalse();
        // Refused for its certificate by one side's trust bundle, not lost to a timeout or a reset.
        for (Handshake refused : List.of(ab, ba)) {
            assertThat(refused.clientFailure() + " | " + refused.serverFailure()).as("%s", refused)
                    .contains("Path does not chain with any of the trust anchors")
                    .doesNotContain("SocketTimeoutException");
        }
    }

    /** The outcome of one connection: who saw whom, or why each side failed. */
    private record Handshake(SpiffeId clientSawServer, SpiffeId serverSawClient, String clientFailure,
            String serverFailure) {

        boolean succeeded() {
            return clientSawServer != null && serverSawClient != null;
        }
    }

    /**
     * One TLS 1.3 connection with mutual authentication from {@code client} to {@code server}, each side
     * presenting its chain and trusting only its own bundle, and one byte each way. Both sides must succeed
     * for the connection to count.
     */
    private Handshake handshake(SiteCredentials client, SiteCredentials server) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) tls13Context(server).getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(TIMEOUT_MILLIS);
            listener.setNeedClientAuth(true);
            listener.setEnabledProtocols(new String[] {"TLSv1.3"});
            Future<Object> serverSide = serverThread.submit(() -> {
                try (SSLSocket accepted = (SSLSocket) listener.accept()) {
                    accepted.setSoTimeout(TIMEOUT_MILLIS);
                    accepted.startHandshake();
                    int b = accepted.getInputStream().read();
                    accepted.getOutputStream().write(b + 1);
                    accepted.getOutputStream().flush();
                    return server.trustBundle().verify(peerChain(accepted));
                } catch (IOException e) {
                    return e.toString();
                }
            });
            SpiffeId clientSawServer = null;
            String clientFailure = null;
            try (SSLSocket socket = (SSLSocket) tls13Context(client).getSocketFactory()
                    .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                socket.setSoTimeout(TIMEOUT_MILLIS);
                socket.setEnabledProtocols(new String[] {"TLSv1.3"});
                socket.startHandshake();
                assertThat(socket.getSession().getProtocol()).isEqualTo("TLSv1.3");
                // With TLS 1.3 a refusal of the client's certificate arrives as an alert on the first read.
                socket.getOutputStream().write(41);
                socket.getOutputStream().flush();
                if (socket.getInputStream().read() == 42) {
                    clientSawServer = client.trustBundle().verify(peerChain(socket));
                } else {
                    clientFailure = "connection closed without an answer";
                }
            } catch (IOException e) {
                clientFailure = e.toString();
            }
            Object serverOutcome = serverSide.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            return serverOutcome instanceof SpiffeId
                    ? new Handshake(clientSawServer, (SpiffeId) serverOutcome, clientFailure, null)
                    : new Handshake(clientSawServer, null, clientFailure, (String) serverOutcome);
        }
    }

    private static List<X509Certificate> peerChain(SSLSocket socket) throws IOException {
        return Arrays.stream(socket.getSession().getPeerCertificates()).map(X509Certificate.class::cast).toList();
    }
}
