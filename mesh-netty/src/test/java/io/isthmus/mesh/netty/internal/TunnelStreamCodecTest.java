package io.isthmus.mesh.netty.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

class TunnelStreamCodecTest {

    @Test
    void writesARequestAsHeadersAndDataWithoutFieldsHttp2DoesNotCarry() {
        Http2StreamFrame[] frames = new Http2StreamFrame[TunnelStreamCodec.MAX_FRAMES];
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/orders?id=7");
        request.headers().add("Host", "user@osaka-app:8080").add("X-Request-Id", "r1").add("connection", "close")
                .add("transfer-encoding", "chunked").add("x-http2-scheme", "http").add("te", "trailers")
                .add("upgrade", "h2c").add("proxy-connection", "keep-alive").add("cookie", "a=1; b=2");
        ByteBuf body = Unpooled.copiedBuffer("hello", US_ASCII);
        LastHttpContent last = new DefaultLastHttpContent(body);
        last.trailingHeaders().add("X-Checksum", "abc");
        assertThat(TunnelStreamCodec.toFrames(request, frames)).isEqualTo(1);

        Http2HeadersFrame head = (Http2HeadersFrame) frames[0];
        assertThat(head.isEndStream()).isFalse();
        Http2Headers headers = head.headers();
        assertThat(headers.method()).hasToString("POST");
        assertThat(headers.path()).hasToString("/orders?id=7");
        assertThat(headers.scheme()).hasToString("https");
        assertThat(headers.authority()).hasToString("osaka-app:8080");
        assertThat(headers.names()).extracting(CharSequence::toString).containsExactlyInAnyOrder(
                ":method", ":path", ":scheme", ":authority", "x-request-id", "te", "cookie");
        assertThat(TunnelStreamCodec.toFrames(last, frames)).isEqualTo(2);
        Http2DataFrame data = (Http2DataFrame) frames[0];
        assertThat(data.isEndStream()).isFalse();
        assertThat(data.content()).isSameAs(body);
        assertThat(data.content().toString(US_ASCII)).isEqualTo("hello");
        Http2HeadersFrame trailers = (Http2HeadersFrame) frames[1];
        assertThat(trailers.isEndStream()).isTrue();
        assertThat(trailers.headers().get("x-checksum")).hasToString("abc");
        data.release();
        assertThat(body.refCnt()).isZero();
        assertThat(TunnelStreamCodec.toFrames("not an HTTP object", frames)).isEqualTo(-1);
    }

    @Test
    void endsTheStreamWithTheHeadersOfAMessageWithoutBody() {
        Http2StreamFrame[] frames = new Http2StreamFrame[TunnelStreamCodec.MAX_FRAMES];
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().add("host", "osaka-app");

        assertThat(TunnelStreamCodec.toFrames(request, frames)).isEqualTo(1);
        assertThat(((Http2HeadersFrame) frames[0]).isEndStream()).isTrue();
        assertThat(((Http2HeadersFrame) frames[0]).headers().authority()).hasToString("osaka-app");
        assertThat(request.refCnt()).isZero();
        assertThat(TunnelStreamCodec.headersFrame(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"),
                true).isEndStream()).isTrue();
    }

    @Test
    void lowersFieldNamesWithTheCommonOnesFromConstants() {
        assertThat(lower("Content-Type")).isSameAs(HttpHeaderNames.CONTENT_TYPE);
        assertThat(lower(new AsciiString("DATE"))).isSameAs(HttpHeaderNames.DATE);
        assertThat(lower("Server")).isSameAs(HttpHeaderNames.SERVER);
        // Same hash as a constant does not make a name that constant.
        assertThat(lower("X-Custom-Field")).hasToString("x-custom-field");
        assertThat(lower("Dat")).hasToString("dat");
        AsciiString lower = new AsciiString("x-request-id");
        assertThat(lower(lower)).isSameAs(lower);
        for (String name : new String[] {"Content-Length", "Set-Cookie", "ETag", "Last-Modified", "Vary", "Age"}) {
            assertThat(lower(name)).hasToString(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** As an object: an {@link AsciiString} is both a char sequence and comparable to AssertJ. */
    private static Object lower(CharSequence name) {
        return TunnelStreamCodec.lowerCase(name);
    }

    @Test
    void endsTheStreamWithTheHeadersOfABodilessFullResponse() {
        Http2StreamFrame[] frames = new Http2StreamFrame[TunnelStreamCodec.MAX_FRAMES];
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
        response.headers().add("Server", "origin").add("Keep-Alive", "timeout=5");
        assertThat(TunnelStreamCodec.toFrames(response, frames)).isEqualTo(1);
        Http2HeadersFrame head = (Http2HeadersFrame) frames[0];
        assertThat(head.isEndStream()).isTrue();
        assertThat(head.headers().status()).hasToString("204");
        assertThat(head.headers().names()).extracting(CharSequence::toString)
                .containsExactlyInAnyOrder(":status", "server");
        assertThat(response.refCnt()).isZero();
    }

    @Test
    void readsARequestWithHostFromAuthorityJoinedCookiesAndNoStreamExtensionHeaders() {
        Http2Headers headers = new DefaultHttp2Headers().method("PUT").path("/a").scheme("https")
                .authority("osaka-app").add("cookie", "a=1").add("cookie", "b=2").add("x-isthmus-pool", "default/p");
        Object read = TunnelStreamCodec.toRequest(headers, false);

        assertThat(read).isNotInstanceOf(HttpContent.class);
        HttpRequest request = (HttpRequest) read;
        assertThat(request.method()).isEqualTo(HttpMethod.PUT);
        assertThat(request.uri()).isEqualTo("/a");
        assertThat(request.headers().get("host")).isEqualTo("osaka-app");
        assertThat(request.headers().get("cookie")).isEqualTo("a=1; b=2");
        assertThat(request.headers().get("x-isthmus-pool")).isEqualTo("default/p");
        assertThat(request.headers().get("transfer-encoding")).isEqualTo("chunked");
        assertThat(request.headers().names()).noneMatch(name -> name.startsWith("x-http2-") || name.startsWith(":"));
    }

    @Test
    void readsAHeadersOnlyRequestAsAFullRequestAndTrailersAsLastContent() {
        Object read = TunnelStreamCodec.toRequest(new DefaultHttp2Headers().method("GET").path("/")
                .scheme("https").authority("app"), true);
        assertThat(read).isInstanceOf(FullHttpRequest.class);
        FullHttpRequest get = (FullHttpRequest) read;
        assertThat(get.content().readableBytes()).isZero();
        assertThat(get.headers().contains("transfer-encoding")).isFalse();

        Object trailers = TunnelStreamCodec.toRequest(new DefaultHttp2Headers().add("x-checksum", "abc"), true);
        assertThat(trailers).isInstanceOf(LastHttpContent.class).isNotInstanceOf(HttpRequest.class);
        assertThat(((LastHttpContent) trailers).trailingHeaders().get("x-checksum")).isEqualTo("abc");
    }

    @Test
    void readsAResponseAndMarksABodyWithoutLengthChunked() throws Exception {
        Object interim = TunnelStreamCodec.toResponse(new DefaultHttp2Headers().status("103").add("link", "</a>"), false);
        assertThat(interim).isInstanceOf(FullHttpResponse.class);
        assertThat(((FullHttpResponse) interim).status().code()).isEqualTo(103);
        Object head = TunnelStreamCodec.toResponse(
                new DefaultHttp2Headers().status("200").add("content-type", "text/plain"), false);
        assertThat(head).isNotInstanceOf(FullHttpResponse.class);
        HttpResponse response = (HttpResponse) head;
        assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(response.headers().get("transfer-encoding")).isEqualTo("chunked");
        assertThat(response.headers().names()).containsExactlyInAnyOrder("content-type", "transfer-encoding");
        Object trailers = TunnelStreamCodec.toResponse(new DefaultHttp2Headers().add("x-checksum", "abc"), true);
        assertThat(trailers).isInstanceOf(LastHttpContent.class);
        assertThat(((LastHttpContent) trailers).trailingHeaders().get("x-checksum")).isEqualTo("abc");
    }
}
