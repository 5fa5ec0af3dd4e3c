package io.isthmus.mesh.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.isthmus.mesh.model.Endpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading a large response through the tunnel holds up the origin: the response
 * is not buffered in the routers (the tunnel stream's window is given back only as the sending router
 * passes the body on), and it arrives intact once the client reads again.
 */
class TunnelBackPressureTest {

    /** Far more than the socket buffers, the stream window and the routers' write buffers hold together. */
    private static final long BODY = 256L << 20;
    private static final long HELD_BACK_BOUND = 64L << 20;

    private MeshFixture mesh;
    private StreamingOrigin origin;
    private MeshRouter tokyo;

    @BeforeEach
    void setUp() throws IOException {
        mesh = new MeshFixture();
        origin = new StreamingOrigin(BODY);
        tokyo = mesh.site("tokyo");
        MeshRouter osaka = mesh.site("osaka");
        mesh.loadBalancer("big", "tokyo", "osaka",
                Endpoint.of("127.0.0.1", origin.port()));
        mesh.awaitApplied(tokyo, osaka);
    }

    @AfterEach
    void tearDown() throws IOException {
        mesh.close();
        origin.close();
    }

    @Test
    void aClientThatStopsReadingHoldsUpTheOriginAndThenGetsTheWholeBody() throws Exception {
        InetSocketAddress ingress = tokyo.ingressAddress();
        try (Socket client = new Socket(ingress.getAddress(), ingress.getPort())) {
            client.setSoTimeout(20_000);
            client.setReceiveBufferSize(64 << 10);
            OutputStream out = client.getOutputStream();
            out.write("GET /big HTTP/1.1\r\nHost: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = client.getInputStream();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + BODY);

            // Not reading: the origin's writes stall once the buffers on the way are full.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(origin::stalled);
            assertThat(origin.written()).isLessThan(HELD_BACK_BOUND);

            long received = 0;
            byte[] buffer = new byte[1 << 16];
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (received < BODY && System.nanoTime() < deadline) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, BODY - received));
                if (n < 0) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != StreamingOrigin.byteAt(received + i)) {
                        throw new AssertionError("body differs at byte " + (received + i));
                    }
                }
                received += n;
            }
            assertThat(received).isEqualTo(BODY);
        }
        // A request without a body crosses the tunnel as one HEADERS frame and reaches the origin without one.
        assertThat(origin.requests).hasSize(1);
        assertThat(origin.requests.get(0)).doesNotContainIgnoringCase("transfer-encoding")
                .doesNotContainIgnoringCase("content-length");
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.write(b);
            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    /**
     * An HTTP/1.1 origin that answers every request with a body of a known pattern and counts the
     * bytes it managed to write; stalled once no write went through for a while.
     */
    static final class StreamingOrigin implements AutoCloseable {

        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final ExecutorService threads = Executors.newCachedThreadPool();
        private final AtomicLong written = new AtomicLong();
        private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        /** The request heads received, as sent. */
        final java.util.List<String> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile long lastWriteNanos = System.nanoTime();
        private final long size;

        StreamingOrigin(long size) throws IOException {
            this.size = size;
            threads.execute(this::accept);
        }

        static byte byteAt(long offset) {
            return (byte) (offset % 251);
        }

        int port() {
            return server.getLocalPort();
        }

        long written() {
            return written.get();
        }

        /** Whether some body went out and nothing more for 500 ms. */
        boolean stalled() {
            return written.get() > 0 && System.nanoTime() - lastWriteNanos > Duration.ofMillis(500).toNanos();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    threads.execute(() -> serve(socket));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket socket) {
            try (socket) {
                requests.add(readHead(socket.getInputStream()));
                OutputStream out = socket.getOutputStream();
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + size
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[1 << 16];
                for (long sent = 0; sent < size; sent += chunk.length) {
                    for (int i = 0; i < chunk.length; i++) {
                        chunk[i] = byteAt(sent + i);
                    }
                    out.write(chunk, 0, (int) Math.min(chunk.length, size - sent));
                    written.addAndGet(Math.min(chunk.length, size - sent));
                    lastWriteNanos = System.nanoTime();
                }
                out.flush();
                // Open until the test ends: the router decides when the connection closes.
                closed.await();
            } catch (IOException e) {
                // The test ended the connection.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() throws IOException {
            closed.countDown();
            server.close();
            threads.shutdownNow();
        }
    }
}
