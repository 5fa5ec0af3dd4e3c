package io.isthmus.mesh.netty.internal;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/** Header rewriting shared by every hop: hop-by-hop removal, forwarding headers, mesh-internal headers. */
final class Headers {

    /** Carries the origin pool chosen by the sending site across a tunnel. */
    static final AsciiString POOL = AsciiString.cached("x-isthmus-pool");
    /** Carries the load balancer ({@code namespace/name}) whose policies the pool's site enforces. */
    static final AsciiString LOAD_BALANCER = AsciiString.cached("x-isthmus-load-balancer");
    /**
     * Carries the address of the client that entered the mesh at the ingress router; trusted only on
     * a stream of an authenticated tunnel.
     */
    static final AsciiString CLIENT_IP = AsciiString.cached("x-isthmus-client-ip");
    /** Carries the route's response timeout, in milliseconds, to the pool's site. */
    static final AsciiString TIMEOUT = AsciiString.cached("x-isthmus-timeout-ms");
    /** The request id every hop keeps; generated at ingress when absent. */
    static final AsciiString REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    static final AsciiString VIA = AsciiString.cached("via");

    /**
     * The trailer maps of the messages the HTTP/1.1 decoders read: a message's last part always has one,
     * and it mostly stays empty, so it starts with room for two fields instead of sixteen.
     */
    static final HttpHeadersFactory TRAILERS = new HttpHeadersFactory() {
        private final DefaultHttpHeadersFactory trailers = DefaultHttpHeadersFactory.trailersFactory();

        @Override
        public HttpHeaders newHeaders() {
            return trailers.newEmptyHeaders();
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
            return trailers.newEmptyHeaders();
        }
    };

    private static final List<AsciiString> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION, AsciiString.cached("keep-alive"), AsciiString.cached("proxy-connection"),
            HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE, HttpHeaderNames.TRANSFER_ENCODING);

    /** What the headers describing the HTTP/2 stream of a converted message start with. */
    static final AsciiString HTTP2_EXTENSION_PREFIX = AsciiString.cached("x-http2-");

    private Headers() {}

    /**
     * Removes hop-by-hop headers (RFC 9110 section 7.6.1), including those the Connection header names,
     * and the headers that only describe the HTTP/2 stream a message arrived on ({@code x-http2-*}).
     * Transfer-Encoding is removed with the rest; a body that arrived chunked without a Content-Length
     * is marked chunked again, for the framing of the next HTTP/1.1 hop (HTTP/2 codecs drop the mark).
     * One pass over the names finds what to remove; most messages have little or nothing.
     */
    static void removeHopByHop(HttpMessage message) {
        HttpHeaders headers = message.headers();
        List<CharSequence> found = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            if (isHopByHop(name)) {
                if (found == null) {
                    found = new ArrayList<>(4);
                }
                found.add(name);
            }
        }
        if (found == null) {
            return;
        }
        boolean chunked = false;
        List<CharSequence> named = null;
        for (CharSequence name : found) {
            if (HttpHeaderNames.CONNECTION.contentEqualsIgnoreCase(name)) {
                Iterator<? extends CharSequence> values = headers.valueCharSequenceIterator(HttpHeaderNames.CONNECTION);
                while (values.hasNext()) {
                    named = namedIn(values.next(), named);
                }
            } else if (HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
                chunked |= HttpUtil.isTransferEncodingChunked(message);
            }
        }
        if (named != null) {
            for (CharSequence name : named) {
                headers.remove(name);
            }
        }
        for (CharSequence name : found) {
            headers.remove(name);
        }
        if (chunked && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
    }

    /**
     * Adds to {@code into} (made when needed) the header names a Connection value lists, except those
     * removed as hop-by-hop anyway (such as {@code keep-alive}); returns the list.
     */
    private static @Nullable List<CharSequence> namedIn(CharSequence connection, @Nullable List<CharSequence> into) {
        int length = connection.length();
        int start = 0;
        while (start < length) {
            int end = start;
            while (end < length && connection.charAt(end) != ',') {
                end++;
            }
            int next = end + 1;
            while (start < end && (connection.charAt(start) == ' ' || connection.charAt(start) == '\t')) {
                start++;
            }
            while (end > start && (connection.charAt(end - 1) == ' ' || connection.charAt(end - 1) == '\t')) {
                end--;
            }
            if (end > start) {
                CharSequence token = connection.subSequence(start, end);
                if (!isHopByHop(token)) {
                    if (into == null) {
                        into = new ArrayList<>(2);
                    }
                    into.add(token);
                }
            }
            start = next;
        }
        return into;
    }

    private static boolean isHopByHop(CharSequence name) {
        int length = name.length();
        for (AsciiString candidate : HOP_BY_HOP) {
            if (candidate.length() == length && candidate.contentEqualsIgnoreCase(name)) {
                return true;
            }
        }
        int prefix = HTTP2_EXTENSION_PREFIX.length();
        return length > prefix && AsciiString.regionMatches(name, true, 0, HTTP2_EXTENSION_PREFIX, 0, prefix);
    }

    /** The {@code via} entry of a router of {@code site} receiving HTTP/2 or HTTP/1.1. */
    static String via(String site, boolean http2) {
        return (http2 ? "2.0" : "1.1") + " isthmus-" + site;
    }

    /**
     * Adds what a request entering the mesh at ingress should carry: {@code x-forwarded-for} and
     * {@code forwarded} (appended), {@code x-forwarded-proto}, {@code x-forwarded-host}, {@code via}
     * (appended, the {@link #via} entry given) and a request id when it has none. Mesh-internal headers
     * are removed; W3C trace context headers pass unchanged.
     */
    static void addIngressHeaders(HttpMessage request, Client client, String via) {
        HttpHeaders headers = request.headers();
        removeInternal(headers);
        String host = headers.get(HttpHeaderNames.HOST);
        String ip = client.ip;
        if (ip != null) {
            String previous = headers.get(X_FORWARDED_FOR);
            headers.set(X_FORWARDED_FOR, previous == null ? ip : previous + ", " + ip);
        }
        if (!headers.contains(X_FORWARDED_PROTO)) {
            headers.set(X_FORWARDED_PROTO, HTTP);
        }
        if (host != null && !headers.contains(X_FORWARDED_HOST)) {
            headers.set(X_FORWARDED_HOST, host);
        }
        String forwarded = client.forwarded(host);
        String previousForwarded = headers.get(FORWARDED);
        headers.set(FORWARDED, previousForwarded == null ? forwarded : previousForwarded + ", " + forwarded);
        String previousVia = headers.get(VIA);
        headers.set(VIA, previousVia == null ? via : previousVia + ", " + via);
        if (!headers.contains(REQUEST_ID)) {
            headers.set(REQUEST_ID, newRequestId());
        }
    }

    private static final AsciiString HTTP = AsciiString.cached("http");

    /**
     * The client of one ingress connection as forwarding headers name it: its address and this
     * connection's {@code forwarded} element, kept for the last {@code Host} seen (a keep-alive
     * connection mostly sends one). Used from the connection's event loop.
     */
    static final class Client {
        /** The client's IP address, without an IPv6 zone; {@code null} for a client that has none. */
        final @Nullable String ip;
        private final String forwardedFor;
        private @Nullable String lastHost;
        private @Nullable String lastForwarded;

        private Client(@Nullable String ip, String forwardedFor) {
            this.ip = ip;
            this.forwardedFor = forwardedFor;
        }

        /** The client at {@code address}, which is {@code null} for a client without one (a Unix socket, a test channel). */
        static Client of(@Nullable InetAddress address) {
            if (address == null) {
                return new Client(null, "");
            }
            String ip = address.getHostAddress();
            int zone = ip.indexOf('%');
            if (zone >= 0) {
                ip = ip.substring(0, zone);
            }
            // RFC 7239 section 6: an IPv6 address is bracketed, and then the value must be quoted.
            return new Client(ip, "for=" + (address instanceof java.net.Inet6Address ? "\"[" + ip + "]\"" : ip));
        }

        /** This client's {@code forwarded} element for a request with {@code host}: {@code for}, {@code host}, {@code proto}. */
        String forwarded(@Nullable String host) {
            String cached = lastForwarded;
            if (cached != null && java.util.Objects.equals(host, lastHost)) {
                return cached;
            }
            StringBuilder forwarded = new StringBuilder(64).append(forwardedFor);
            if (host != null && isToken(host)) {
                forwarded.append(forwarded.length() == 0 ? "" : ";").append("host=").append(host);
            } else if (host != null) {
                forwarded.append(forwarded.length() == 0 ? "" : ";").append("host=\"")
                        .append(host.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
            forwarded.append(forwarded.length() == 0 ? "" : ";").append("proto=http");
            lastHost = host;
            lastForwarded = forwarded.toString();
            return lastForwarded;
        }
    }

    /** Removes the mesh-internal headers, which only routers set. */
    static void removeInternal(HttpHeaders headers) {
        headers.remove(POOL);
        headers.remove(LOAD_BALANCER);
        headers.remove(CLIENT_IP);
        headers.remove(TIMEOUT);
    }

    /** Whether a value may stand unquoted in a {@code forwarded} element (RFC 7230 token). */
    private static boolean isToken(String value) {
        if (value.isEmpty()) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Marks a message for a persistent HTTP/1.1 connection, or for closing it after this exchange. */
    static void setKeepAlive(HttpMessage message, boolean keepAlive) {
        if (keepAlive) {
            message.headers().remove(HttpHeaderNames.CONNECTION);
        } else {
            message.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
    }

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** A new request id: 128 random bits as 32 lower-case hex digits. */
    static AsciiString newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long hi = random.nextLong();
        long lo = random.nextLong();
        byte[] id = new byte[32];
        for (int i = 0; i < 16; i++) {
            id[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xf];
            id[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xf];
        }
        return new AsciiString(id, false);
    }
}
