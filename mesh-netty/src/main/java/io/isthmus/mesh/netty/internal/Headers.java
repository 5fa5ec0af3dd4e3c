package io.isthmus.mesh.netty.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Header rewriting shared by every hop: hop-by-hop removal, forwarding headers, mesh-internal headers. */
final class Headers {

    /** Carries the origin pool chosen by the sending site across a tunnel. */
    static final AsciiString POOL = AsciiString.cached("x-isthmus-pool");
    /** The request id every hop keeps; generated at ingress when absent. */
    static final AsciiString REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

    private static final List<AsciiString> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION, AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"),
            HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE);

    private static final List<AsciiString> HTTP2_EXTENSIONS = List.of(
            HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(),
            HttpConversionUtil.ExtensionHeaderNames.PATH.text(),
            HttpConversionUtil.ExtensionHeaderNames.STREAM_DEPENDENCY_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.STREAM_PROMISE_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.STREAM_WEIGHT.text());

    private Headers() {}

    /**
     * Removes hop-by-hop headers (RFC 9110 section 7.6.1), including those the Connection header names,
     * and the headers that only describe the HTTP/2 stream a message arrived on. Transfer-Encoding is
     * kept: the codecs of the next hop frame the body.
     */
    static void removeHopByHop(HttpMessage message) {
        HttpHeaders headers = message.headers();
        for (String connection : headers.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : connection.split(",")) {
                String name = token.trim();
                if (!name.isEmpty()) {
                    headers.remove(name);
                }
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
        for (AsciiString name : HTTP2_EXTENSIONS) {
            headers.remove(name);
        }
    }

    /** Adds what a request entering the mesh at ingress should carry: forwarding headers and an id. */
    static void addIngressHeaders(HttpMessage request, SocketAddress client) {
        HttpHeaders headers = request.headers();
        headers.remove(POOL);
        if (client instanceof InetSocketAddress) {
            String ip = ((InetSocketAddress) client).getAddress().getHostAddress();
            String previous = headers.get(X_FORWARDED_FOR);
            headers.set(X_FORWARDED_FOR, previous == null ? ip : previous + ", " + ip);
        }
        if (!headers.contains(X_FORWARDED_PROTO)) {
            headers.set(X_FORWARDED_PROTO, "http");
        }
        String host = headers.get(HttpHeaderNames.HOST);
        if (host != null && !headers.contains(X_FORWARDED_HOST)) {
            headers.set(X_FORWARDED_HOST, host);
        }
        if (!headers.contains(REQUEST_ID)) {
            headers.set(REQUEST_ID, newRequestId());
        }
    }

    /** Marks a message for a persistent HTTP/1.1 connection, or for closing it after this exchange. */
    static void setKeepAlive(HttpMessage message, boolean keepAlive) {
        if (keepAlive) {
            message.headers().remove(HttpHeaderNames.CONNECTION);
        } else {
            message.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    static String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long hi = random.nextLong();
        long lo = random.nextLong();
        char[] id = new char[32];
        for (int i = 0; i < 16; i++) {
            id[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xf];
            id[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xf];
        }
        return new String(id);
    }
}
