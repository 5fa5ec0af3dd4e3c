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
}
