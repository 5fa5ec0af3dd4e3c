package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.pki.MeshIdentityException;
import io.isthmus.mesh.pki.SpiffeId;
import io.netty.handler.ssl.SslHandler;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;

/** Reads the SPIFFE identity of the peer of a completed TLS handshake (its chain already verified). */
final class PeerIdentity {

    private PeerIdentity() {}

    static SpiffeId of(SslHandler ssl, String trustDomain) {
        Certificate[] chain;
        try {
            chain = ssl.engine().getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new MeshIdentityException("peer presented no certificate", e);
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate)) {
            throw new MeshIdentityException("peer presented no X.509 certificate");
        }
        SpiffeId id = SpiffeId.fromCertificate((X509Certificate) chain[0]);
        if (!id.trustDomain().equals(trustDomain)) {
            throw new MeshIdentityException("peer identity " + id + " is in trust domain " + id.trustDomain()
                    + " (expected: " + trustDomain + ")");
        }
        return id;
    }
}
