package io.isthmus.mesh.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.netty.MeshRouter;
import org.junit.jupiter.api.Test;

/** Checks that the handshake load tool runs against a router; its figures are not checked. */
class TunnelHandshakeBenchTest {

    @Test
    void completesTunnelHandshakesAndReadsTheRouterCpuTime() throws Exception {
        TunnelHandshakeBench.Credentials credentials = TunnelHandshakeBench.Credentials.load(null);
        try (MeshRouter router = TunnelHandshakeBench.startRouter(credentials, 0, 1)) {
            HandshakeLoad.Settings settings = new HandshakeLoad.Settings(2, 1, 0, 1, 20, true);
            HandshakeLoad.Result result = new HandshakeLoad(settings, credentials.siteA, router.tunnelAddress(),
                    TunnelHandshakeBench.CpuClock.threads("isthmus-site-b")).run();

            assertThat(result.firstFailure()).isNull();
            assertThat(result.handshakes()).isPositive();
            assertThat(result.resumed()).isZero();
            assertThat(result.serverCpuNanos()).isPositive();
            assertThat(result.report(settings)).contains("RESULT handshakes_per_s=");
        }
    }
}
