package io.isthmus.mesh.daemon;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.extension.Parameters;
import com.github.tomakehurst.wiremock.extension.ServeEventListener;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.util.concurrent.CountDownLatch;

/**
 * A WireMock origin on 127.0.0.1 for daemon tests: {@code /fast} answers at once, {@code /slow} after a
 * delay, and {@link #slowArrived} counts down as {@code /slow} requests arrive (before they are answered).
 */
final class FastAndSlowOrigin implements AutoCloseable {

    /** Counted down once per {@code /slow} request that reached the origin. */
    final CountDownLatch slowArrived;
    private final WireMockServer server;

    FastAndSlowOrigin(int slowDelayMillis, int slowRequests, int threads) {
        slowArrived = new CountDownLatch(slowRequests);
        server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort().containerThreads(threads)
                .extensions(new ServeEventListener() {
                    @Override
                    public void beforeMatch(ServeEvent serveEvent, Parameters parameters) {
                        if (serveEvent.getRequest().getUrl().equals("/slow")) {
                            slowArrived.countDown();
                        }
                    }

                    @Override
                    public String getName() {
                        return "arrivals";
                    }
                }));
        server.start();
        server.stubFor(get(urlEqualTo("/fast")).willReturn(aResponse().withStatus(200).withBody("fast")));
        server.stubFor(get(urlEqualTo("/slow")).willReturn(aResponse().withStatus(200).withBody("slow")
                .withFixedDelay(slowDelayMillis)));
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.stop();
    }
}
