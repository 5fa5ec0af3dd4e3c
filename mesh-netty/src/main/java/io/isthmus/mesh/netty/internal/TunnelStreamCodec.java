package io.isthmus.mesh.netty.internal;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.Map;

/**
 * Converts between the HTTP objects of an exchange and the HTTP/2 frames of one tunnel stream: for
 * the sending router's streams ({@link TunnelExchanges}: requests out with {@link #toFrames},
 * responses in with {@link #toResponse}) and for those the receiving router accepts ({@link
 * AcceptedStreams}: requests in with {@link #toRequest}, responses out with {@link #toFrames}).
 *
 * <p>It does what Netty's {@code Http2StreamFrameToHttpObjectCodec} does for the messages a router
 * exchanges, in fewer steps: the headers are copied once between the two header maps, without the
 * {@code x-http2-*} extension headers the generic conversion adds (and the next hop would remove
 * again), without re-validating what the frame codec or the ingress parser already validated, and
 * without an intermediate output list per message; body buffers pass from frame to content and back
 * without being retained and released. Hop-by-hop headers were removed before a message reaches a
 * tunnel stream; those that HTTP/2 forbids are still never copied into a HEADERS frame.
 */
final class TunnelStreamCodec {

    /** Header maps of converted messages: their names and values were validated where they entered. */
    private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final HttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory().withValidation(false);
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private TunnelStreamCodec() {}

    /** A request (or its trailers) from the HEADERS frame that carried it. */
    static Object toRequest(Http2Headers headers, boolean endStream) {
        CharSequence method = headers.method();
        if (method == null && headers.status() == null && endStream) {
            return trailers(headers);
        }
        CharSequence path = headers.path();
        HttpMethod m = HttpMethod.valueOf(String.valueOf(method));
        String uri = String.valueOf(path);
        HttpMessage request;
        if (endStream) {
            request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, m, uri, Unpooled.EMPTY_BUFFER, HEADERS.newHeaders(),
                    EmptyHttpHeaders.INSTANCE);
        } else {
            request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, uri, HEADERS);
        }
        HttpHeaders out = request.headers();
        CharSequence authority = headers.authority();
        if (authority != null) {
            out.add(HttpHeaderNames.HOST, authority);
        }
        copyToHttp1(headers, out);
        if (!endStream && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            out.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return request;
    }

    /** A response (or its trailers) from the HEADERS frame that carried it. */
    static Object toResponse(Http2Headers headers, boolean endStream) throws Http2Exception {
        CharSequence status = headers.status();
        if (status == null && endStream) {
            return trailers(headers);
        }
        HttpResponseStatus s = HttpConversionUtil.parseStatus(status);
        HttpMessage response;
        // An interim response (1xx) stands alone: it is complete in itself, whatever follows it.
        if (endStream || s.code() < 200) {
            response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, s, Unpooled.EMPTY_BUFFER, HEADERS.newHeaders(),
                    EmptyHttpHeaders.INSTANCE);
        } else {
            response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, s, HEADERS);
        }
        HttpHeaders out = response.headers();
        copyToHttp1(headers, out);
        if (!endStream && s.code() >= 200 && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            out.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return response;
    }

    private static LastHttpContent trailers(Http2Headers headers) {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, TRAILERS);
        copyToHttp1(headers, last.trailingHeaders());
        return last;
    }

    /**
     * Copies the regular fields of HTTP/2 headers into HTTP/1.1 headers; pseudo-header fields stay
     * behind, and the {@code cookie} fields HTTP/2 may split are joined again (RFC 9113 section 8.2.3).
     */
    private static void copyToHttp1(Http2Headers in, HttpHeaders out) {
        CharSequence cookie = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iterator();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> entry = it.next();
            CharSequence name = entry.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            if (HttpHeaderNames.COOKIE.contentEquals(name)) {
                cookie = cookie == null ? entry.getValue() : cookie + "; " + entry.getValue();
                continue;
            }
            out.add(name, entry.getValue());
        }
        if (cookie != null) {
            out.add(HttpHeaderNames.COOKIE, cookie);
        }
    }

    /** The most frames one HTTP object becomes: HEADERS, DATA and trailing HEADERS. */
    static final int MAX_FRAMES = 3;

    /**
     * Puts the frames that carry an HTTP object on a tunnel stream into {@code out}, in order, and
     * returns how many ({@code out} has room for {@link #MAX_FRAMES}); -1 when {@code msg} is not an
     * HTTP object. The body buffers pass to the frames; a message that ends up without one is released.
     */
    static int toFrames(Object msg, Http2StreamFrame[] out) {
        int count = 0;
        if (msg instanceof HttpMessage) {
            HttpMessage message = (HttpMessage) msg;
            Http2Headers headers = toHttp2(message);
            boolean endStream = false;
            if (msg instanceof FullHttpMessage) {
                FullHttpMessage full = (FullHttpMessage) msg;
                endStream = !full.content().isReadable() && full.trailingHeaders().isEmpty();
            }
            if (!(msg instanceof HttpContent)) {
                out[0] = new DefaultHttp2HeadersFrame(headers, false);
                return 1;
            }
            if (endStream) {
                ((HttpContent) msg).release();
                out[0] = new DefaultHttp2HeadersFrame(headers, true);
                return 1;
            }
            out[count++] = new DefaultHttp2HeadersFrame(headers, false);
        }
        if (msg instanceof LastHttpContent) {
            LastHttpContent last = (LastHttpContent) msg;
            HttpHeaders trailers = last.trailingHeaders();
            if (trailers.isEmpty()) {
                out[count++] = new DefaultHttp2DataFrame(last.content(), true);
                return count;
            }
            Http2Headers http2Trailers = new DefaultHttp2Headers(false, trailers.size());
            copyToHttp2(trailers, http2Trailers);
            if (last.content().isReadable()) {
                out[count++] = new DefaultHttp2DataFrame(last.content(), false);
            } else {
                last.release();
            }
            out[count++] = new DefaultHttp2HeadersFrame(http2Trailers, true);
            return count;
        }
        if (msg instanceof HttpContent) {
            out[count++] = new DefaultHttp2DataFrame(((HttpContent) msg).content(), false);
            return count;
        }
        return -1;
    }

    /** The HEADERS frame of a request or response head, ending the stream or not. */
    static Http2HeadersFrame headersFrame(HttpMessage message, boolean endStream) {
        return new DefaultHttp2HeadersFrame(toHttp2(message), endStream);
    }

    /** The HEADERS of a request or response: pseudo-header fields, then the regular ones. */
    private static Http2Headers toHttp2(HttpMessage message) {
        HttpHeaders in = message.headers();
        Http2Headers out = new DefaultHttp2Headers(false, in.size() + 4);
        if (message instanceof HttpRequest) {
            HttpRequest request = (HttpRequest) message;
            String uri = request.uri();
            if (uri.isEmpty() || uri.charAt(0) != '/' && !"*".equals(uri)) {
                // Not origin-form: the generic conversion takes the path and authority from the URI.
                return HttpConversionUtil.toHttp2Headers(message, false);
            }
            out.method(request.method().asciiName());
            out.scheme(HTTPS);
            out.path(uri);
            String host = in.get(HttpHeaderNames.HOST);
            if (host != null) {
                int userInfoEnd = host.indexOf('@');
                out.authority(userInfoEnd < 0 ? host : host.substring(userInfoEnd + 1));
            }
        } else {
            out.status(((HttpResponse) message).status().codeAsText());
        }
        copyToHttp2(in, out);
        return out;
    }

    /** Copies header fields with lower-case names, leaving out those HTTP/2 does not carry (RFC 9113 section 8.2.2). */
    private static void copyToHttp2(HttpHeaders in, Http2Headers out) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> entry = it.next();
            AsciiString name = lowerCase(entry.getKey());
            if (!carriedByHttp2(name)) {
                continue;
            }
            if (HttpHeaderNames.TE.contentEquals(name)) {
                if (AsciiString.contentEqualsIgnoreCase(entry.getValue().toString().trim(), HttpHeaderValues.TRAILERS)) {
                    out.add(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
                }
                continue;
            }
            out.add(name, entry.getValue());
        }
    }

    /**
     * Common field names in lower case, by their case-insensitive hash ({@link AsciiString#hashCode}):
     * names an HTTP/1.1 origin or client writes capitalised ({@code Content-Type}) are looked up
     * instead of being copied in lower case for every message. A name whose slot another one took is
     * lowered as usual.
     */
    private static final AsciiString[] LOWER_CASE_NAMES = new AsciiString[128];

    static {
        for (AsciiString name : new AsciiString[] {HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_LENGTH,
                HttpHeaderNames.DATE, HttpHeaderNames.SERVER, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.ETAG,
                HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.ACCEPT_RANGES, HttpHeaderNames.VARY,
                HttpHeaderNames.LOCATION, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.EXPIRES, HttpHeaderNames.AGE,
                HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.USER_AGENT, HttpHeaderNames.ACCEPT,
                HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.ACCEPT_LANGUAGE, HttpHeaderNames.AUTHORIZATION,
                HttpHeaderNames.COOKIE, HttpHeaderNames.CONNECTION, HttpHeaderNames.TRANSFER_ENCODING,
                HttpHeaderNames.HOST, HttpHeaderNames.CONTENT_SECURITY_POLICY,
                HttpHeaderNames.X_FRAME_OPTIONS, HttpHeaderNames.ORIGIN, HttpHeaderNames.REFERER, HttpHeaderNames.PRAGMA,
                HttpHeaderNames.IF_NONE_MATCH, HttpHeaderNames.IF_MODIFIED_SINCE, HttpHeaderNames.UPGRADE}) {
            int slot = name.hashCode() & (LOWER_CASE_NAMES.length - 1);
            if (LOWER_CASE_NAMES[slot] == null) {
                LOWER_CASE_NAMES[slot] = name;
            }
        }
    }

    /** {@code name} in lower case: a constant for the common names; an {@link AsciiString} already in lower case as it is. */
    static AsciiString lowerCase(CharSequence name) {
        AsciiString ascii = AsciiString.of(name);
        AsciiString known = LOWER_CASE_NAMES[ascii.hashCode() & (LOWER_CASE_NAMES.length - 1)];
        return known != null && known.contentEqualsIgnoreCase(ascii) ? known : ascii.toLowerCase();
    }

    private static boolean carriedByHttp2(AsciiString name) {
        if (name.length() > Headers.HTTP2_EXTENSION_PREFIX.length() && name.startsWith(Headers.HTTP2_EXTENSION_PREFIX)) {
            return false;
        }
        switch (name.length()) {
            case 4:
                return !HttpHeaderNames.HOST.contentEquals(name);
            case 7:
                return !HttpHeaderNames.UPGRADE.contentEquals(name);
            case 10:
                return !HttpHeaderNames.CONNECTION.contentEquals(name) && !KEEP_ALIVE.contentEquals(name);
            case 16:
                return !PROXY_CONNECTION.contentEquals(name);
            case 17:
                return !HttpHeaderNames.TRANSFER_ENCODING.contentEquals(name);
            default:
                return true;
        }
    }

    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
}
