package io.isthmus.mesh.reliability;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.jspecify.annotations.Nullable;

/**
 * Fuzzes a running router's HTTP/1.1 ingress over real sockets: each input is written to a fresh
 * connection, which is then half-closed. The router must answer with HTTP or nothing, keep serving
 * a normal request on the next connection, and never forward more requests than a reference decoder
 * with the ingress's limits decodes before its first malformed request head (a request the decoder
 * flagged as bad is never forwarded).
 *
 * <p>Without {@code JAZZER_FUZZ=1} this replays the seed corpus in
 * {@code src/test/resources/io/isthmus/mesh/reliability/IngressFuzzTestInputs/ingressSurvivesArbitraryBytes/}.
 */
class IngressFuzzTest {

    // The limits of the router's ingress decoder (IngressInitializer).
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADER_SIZE = 16384;
    private static final byte[] PROBE = "GET /probe HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private static @Nullable MeshFixture mesh;
    private static @Nullable CountingOrigin origin;
    private static @Nullable MeshRouter router;

    /**
     * Starts the router with the first input. Jazzer's SSRF detector refuses every connection during
     * fuzzing; each execution allows 127.0.0.1 for its own duration (see {@link #loopbackOnly()}).
     */
    private static synchronized MeshRouter router() {
        if (router == null) {
            mesh = new MeshFixture();
            origin = new CountingOrigin();
            router = mesh.site("tokyo");
            mesh.loadBalancer("app", "tokyo", "tokyo", MeshFixture.endpoint(origin.address()));
            mesh.awaitApplied(router);
        }
        return router;
    }

    private static CountingOrigin origin() {
        router();
        return requireNonNull(origin, "origin");
    }

    @AfterAll
    static synchronized void stop() {
        if (mesh != null) {
            mesh.close();
        }
        if (origin != null) {
            origin.close();
        }
        mesh = null;
        origin = null;
        router = null;
    }

    /** Lets the router and this test connect to loopback addresses only; a no-op without Jazzer's agent. */
    private static SilentCloseable loopbackOnly() {
        try {
            return BugDetectors.allowNetworkConnections((host, port) -> isLoopback(host));
        } catch (IllegalStateException notUnderJazzer) {
            return () -> { };
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }

    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a fuzz run takes maxDuration plus start-up
    void ingressSurvivesArbitraryBytes(byte[] input) throws IOException {
        try (SilentCloseable loopback = loopbackOnly()) {
            check(input);
        }
    }

    private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private static boolean startsWith(byte[] input, byte[] prefix) {
        return input.length >= prefix.length && Arrays.equals(input, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static void check(byte[] input) throws IOException {
        int allowed = requestHeadsBeforeTheFirstMalformedOne(input);
        int before = origin().requestHeads.get();

        String answer = exchange(input, true);
        // The ingress speaks h2c too: after the HTTP/2 connection preface it answers with HTTP/2 frames.
        boolean http2 = startsWith(input, H2_PREFACE);
        assertThat(answer.isEmpty() || answer.startsWith("HTTP/1.1 ") || http2)
                .as("the router answers with HTTP/1.1 or nothing, not %s", abbreviate(answer)).isTrue();

        String probe = exchange(PROBE, false);
        assertThat(probe).as("the next connection is served normally").startsWith("HTTP/1.1 200 ");
        int forwarded = origin().requestHeads.get() - before - 1;
        assertThat(forwarded).as("requests forwarded to the origin (the reference decoder accepted %d heads "
                + "before the first malformed one)", allowed).isLessThanOrEqualTo(allowed);
    }

    /** Decodes the input as the ingress does and counts the well-formed request heads before the first failure. */
    private static int requestHeadsBeforeTheFirstMalformedOne(byte[] input) {
        EmbeddedChannel decoder = new EmbeddedChannel(new HttpRequestDecoder(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE)
                .setMaxHeaderSize(MAX_HEADER_SIZE)));
        int heads = 0;
        boolean failed = false;
        try {
            decoder.writeInbound(Unpooled.wrappedBuffer(input));
            decoder.finish();
            for (Object msg; (msg = decoder.readInbound()) != null; ) {
                try {
                    if (failed) {
                        continue;
                    }
                    boolean bad = ((HttpObject) msg).decoderResult().isFailure();
                    if (msg instanceof HttpRequest && !bad) {
                        heads++;
                    }
                    if (bad && (msg instanceof HttpRequest || msg instanceof HttpContent)) {
                        failed = true;
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
        } finally {
            decoder.finishAndReleaseAll();
        }
        return heads;
    }

    /** Sends bytes on a new ingress connection and returns what the router answers until it closes. */
    private static String exchange(byte[] bytes, boolean halfClose) throws IOException {
        InetSocketAddress ingress = router().ingressAddress();
        try (Socket socket = new Socket(ingress.getAddress(), ingress.getPort())) {
            socket.setSoTimeout(10_000);
            try {
                socket.getOutputStream().write(bytes);
                socket.getOutputStream().flush();
                if (halfClose) {
                    socket.shutdownOutput();
                }
            } catch (SocketException e) {
                // The router may close while bytes are still being written: what it answered still counts.
            }
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) >= 0 && received.size() < (1 << 20); ) {
                    received.write(buffer, 0, n);
                }
            } catch (SocketException reset) {
                // Closed with a reset: the answer so far is complete.
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the router kept a half-closed connection open for 10 s; it answered "
                        + abbreviate(received.toString(StandardCharsets.ISO_8859_1)), e);
            }
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }
}
