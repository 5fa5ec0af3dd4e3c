package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HeadersTest {

    @Test
    void quotesAnIpv6ClientInForwardedAndAppendsToAnEarlierElement() throws Exception {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().set("host", "app:8080").set("forwarded", "for=192.0.2.60");
        Headers.addIngressHeaders(request, new InetSocketAddress(InetAddress.getByName("2001:db8::17"), 4711),
                Headers.via("tokyo", true));
        assertThat(request.headers().get("forwarded"))
                .isEqualTo("for=192.0.2.60, for=\"[2001:db8:0:0:0:0:0:17]\";host=\"app:8080\";proto=http");
        assertThat(request.headers().get("x-forwarded-for")).isEqualTo("2001:db8:0:0:0:0:0:17");
        assertThat(request.headers().get("via")).isEqualTo("2.0 isthmus-tokyo");
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
