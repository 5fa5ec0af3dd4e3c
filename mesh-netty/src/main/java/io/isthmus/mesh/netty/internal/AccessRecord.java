package io.isthmus.mesh.netty.internal;

import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the router learnt about one request, written as one JSON line to the logger {@code
 * isthmus.access} when the request ends and counted in the metrics. Confined to the request's event
 * loop.
 */
final class AccessRecord {

    /** The access log; one JSON object per line. */
    static final Logger ACCESS_LOG = LoggerFactory.getLogger("isthmus.access");

    static final String ROUTED = "routed";
    static final String DENIED = "denied";
    static final String FAILED = "failed";

    final long startNanos = System.nanoTime();
    final String listener;
    final String site;
    String protocol = "HTTP/1.1";
    @Nullable String client;
    @Nullable String method;
    @Nullable String path;
    @Nullable String requestId;
    @Nullable String loadBalancer;
    @Nullable String route;
    @Nullable String pool;
    @Nullable String poolSite;
    @Nullable String endpoint;
    int status;
    long requestBytes;
    long responseBytes;
    long upstreamStartNanos;
    long upstreamEndNanos;
    long endNanos;
    String decision = ROUTED;
    @Nullable String reason;
    boolean retried;

    AccessRecord(String listener, String site) {
        this.listener = listener;
        this.site = site;
    }

    long totalNanos() {
        return endNanos - startNanos;
    }

    long upstreamNanos() {
        return upstreamStartNanos == 0 ? 0 : (upstreamEndNanos == 0 ? endNanos : upstreamEndNanos) - upstreamStartNanos;
    }

    private static final String[] STATUS_CLASSES = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"};

    String statusClass() {
        return status == 0 ? "none" : status > 0 && status < 1000 ? STATUS_CLASSES[status / 100] : (status / 100) + "xx";
    }

    String toJson() {
        StringBuilder b = new StringBuilder(384).append('{');
        field(b, "listener", listener);
        field(b, "site", site);
        field(b, "protocol", protocol);
        field(b, "client", client);
        field(b, "method", method);
        field(b, "path", path);
        field(b, "request_id", requestId);
        field(b, "load_balancer", loadBalancer);
        field(b, "route", route);
        field(b, "pool", pool);
        field(b, "pool_site", poolSite);
        field(b, "endpoint", endpoint);
        number(b, "status", status);
        number(b, "request_bytes", requestBytes);
        number(b, "response_bytes", responseBytes);
        number(b, "duration_ms", TimeUnit.NANOSECONDS.toMicros(totalNanos()) / 1000.0);
        number(b, "upstream_ms", TimeUnit.NANOSECONDS.toMicros(upstreamNanos()) / 1000.0);
        field(b, "decision", decision);
        field(b, "reason", reason);
        if (retried) {
            b.append("\"retried\":true,");
        }
        b.setLength(b.length() - 1);
        return b.append('}').toString();
    }

    private static void number(StringBuilder b, String name, Number value) {
        b.append('"').append(name).append("\":").append(value).append(',');
    }

    private static void field(StringBuilder b, String name, @Nullable String value) {
        if (value == null) {
            return;
        }
        b.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        b.append("\",");
    }
}
