package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class HeadersTest {

    @Test
    void quotesAnIpv6ClientInForwardedAndAppendsToAnEarlierElement() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().set("host", "app:8080").set("forwarded", "for=192.0.2.60");
        Headers.addIngressHeaders(request,
                Headers.Client.of(InetAddress.getByName("2001:db8::17")),
                Headers.via("tokyo", true));
        assertThat(request.headers().get("forwarded"))
                .isEqualTo("for=192.0.2.60, for=\"[2001:db8:0:0:0:0:0:17]\";host=\"app:8080\";proto=http");
        assertThat(request.headers().get("x-forwarded-for")).isEqualTo("2001:db8:0:0:0:0:0:17");
        assertThat(request.headers().get("via")).isEqualTo("2.0 isthmus-tokyo");
    }

    @Test
    void namesTheHostOfEachRequestOfOneConnectionInForwarded() throws Exception {
        Headers.Client client = Headers.Client.of(InetAddress.getByName("192.0.2.7"));
        String[] hosts = {"app", "app", "other:8080", "app", "bad\"host"};
        String[] expected = {"for=192.0.2.7;host=app;proto=http", "for=192.0.2.7;host=app;proto=http",
                "for=192.0.2.7;host=\"other:8080\";proto=http", "for=192.0.2.7;host=app;proto=http",
                "for=192.0.2.7;host=\"bad\\\"host\";proto=http"};
        for (int i = 0; i < hosts.length; i++) {
            HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
            request.headers().set("host", hosts[i]);
            Headers.addIngressHeaders(request, client, Headers.via("tokyo", false));
            assertThat(request.headers().get("forwarded")).isEqualTo(expected[i]);
            assertThat(request.headers().get("x-forwarded-for")).isEqualTo("192.0.2.7");
            assertThat(request.headers().get("x-forwarded-host")).isEqualTo(hosts[i]);
            assertThat(request.headers().get("x-request-id")).matches("[0-9a-f]{32}");
        }
        HttpRequest noHost = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        Headers.addIngressHeaders(noHost, client, Headers.via("tokyo", false));
        assertThat(noHost.headers().get("forwarded")).isEqualTo("for=192.0.2.7;proto=http");
        HttpRequest unix = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        unix.headers().set("host", "app");
        Headers.addIngressHeaders(unix, Headers.Client.of(null), Headers.via("tokyo", false));
        assertThat(unix.headers().get("forwarded")).isEqualTo("host=app;proto=http");
        assertThat(unix.headers().contains("x-forwarded-for")).isFalse();
    }

    @Test
    void removesHopByHopFieldsAndThoseTheConnectionHeaderNames() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/");
        request.headers().add("connection", "keep-alive, x-private ,\tx-other")
                .add("connection", "close,,upgrade")
                .add("keep-alive", "timeout=5").add("x-private", "1").add("X-Other", "2").add("upgrade", "h2c")
                .add("te", "trailers").add("x-http2-stream-id", "3").add("transfer-encoding", "chunked")
                .add("x-kept", "yes").add("host", "app");
        Headers.removeHopByHop(request);
        assertThat(request.headers().names()).containsExactlyInAnyOrder("x-kept", "host", "transfer-encoding");
        assertThat(request.headers().get("transfer-encoding")).isEqualTo("chunked");
    }

    @Test
    void leavesAMessageWithoutHopByHopFieldsAsItIs() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().add("host", "app").add("content-length", "0").add("x-connection-id", "7");
        Headers.removeHopByHop(request);
        assertThat(request.headers().names()).containsExactlyInAnyOrder("host", "content-length", "x-connection-id");
    }
}
