package io.isthmus.mesh.k8s.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Options and failures that need no etcd server. */
class EtcdConfigStoreBuilderTest {

    private static final List<URI> LOCAL = List.of(URI.create("http://127.0.0.1:2379"));

    @Test
    void rejectsEndpointsThatAreNotHttpUrls() {
        assertThatThrownBy(() -> EtcdConfigStore.builder(List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one");
        assertThatThrownBy(() -> EtcdConfigStore.builder(List.of(URI.create("127.0.0.1:2379"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("127.0.0.1:2379");
        assertThatThrownBy(() -> EtcdConfigStore.builder(List.of(URI.create("http://127.0.0.1:2379"),
                URI.create("https://127.0.0.1:2380"))).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("all http or all https");
    }

    @Test
    void rejectsPrefixesOutsideTheLayout() {
        for (String bad : List.of("", "/", "isthmus", "/isthmus/", "/a//b")) {
            assertThatThrownBy(() -> EtcdConfigStore.builder(LOCAL).namespace(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("keyPrefix: \"" + bad + "\" (expected: starts with /, does not end with /, e.g. /isthmus)");
        }
    }

    @Test
    void rejectsHalfConfiguredCredentialsAndTimeouts() {
        assertThatThrownBy(() -> EtcdConfigStore.builder(LOCAL).username("mesh").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("only a username");
        assertThatThrownBy(() -> EtcdConfigStore.builder(LOCAL).requestTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT0S");
        assertThatThrownBy(() -> EtcdConfigStore.builder(LOCAL).requestTimeoutMillis(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> EtcdConfigStore.builder(LOCAL).trustCertificates(Path.of("/nonexistent/ca.pem")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("/nonexistent/ca.pem");
    }

    @Test
    void unreachableEtcdFailsWithinTheTimeoutNamingEndpointAndOperation() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        try (EtcdConfigStore store = EtcdConfigStore.builder(List.of(URI.create("http://127.0.0.1:" + port)))
                .requestTimeout(Duration.ofMillis(500)).build()) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> store.get(ObjectKey.of(Kind.SITE, "osaka")))
                    .isInstanceOf(ConfigStoreException.class)
                    .hasMessageContaining("http://127.0.0.1:" + port)
                    .hasMessageContaining("get Site/osaka");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void interruptedCallKeepsTheInterruptFlag() {
        try (EtcdConfigStore store = EtcdConfigStore.builder(LOCAL).build()) {
            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(store::snapshot).isInstanceOf(ConfigStoreException.class)
                        .hasMessageContaining("read a snapshot interrupted");
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
            }
        }
    }
}
