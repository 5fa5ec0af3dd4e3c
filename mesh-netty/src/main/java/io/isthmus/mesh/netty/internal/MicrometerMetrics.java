package io.isthmus.mesh.netty.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The router's meters in a Micrometer registry the caller passed; removed from it when the router
 * closes. Meter names start with {@code isthmus.}; every meter carries the tag {@code site}.
 */
final class MicrometerMetrics implements RouterMetrics {

    private final MeterRegistry registry;
    private final String site;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final Map<String, Boolean> tunnelGauges = new ConcurrentHashMap<>();
    private volatile RouterRuntime runtime;

    private MicrometerMetrics(MeterRegistry registry, String site) {
        this.registry = registry;
        this.site = site;
    }

    /** @param registry a {@link MeterRegistry}; typed loosely so that Micrometer stays optional */
    static RouterMetrics create(Object registry, String site) {
        return new MicrometerMetrics((MeterRegistry) registry, site);
    }

    @Override
    public void bind(RouterRuntime runtime) {
        this.runtime = runtime;
        meters.add(FunctionCounter.builder("isthmus.listeners.failed", runtime.listenerFailures,
                        java.util.concurrent.atomic.AtomicLong::get)
                .description("Load balancer listeners that could not be opened: port taken or claimed twice")
                .tags("site", site).register(registry));
        for (ConnectionLimiter limiter : List.of(runtime.ingressConnections, runtime.tunnelConnections)) {
            String listener = limiter == runtime.ingressConnections ? "ingress" : "tunnel";
            Tags tags = Tags.of("site", site, "listener", listener);
            meters.add(FunctionCounter.builder("isthmus.connections.rejected", limiter, ConnectionLimiter::rejected)
                    .description("Connections closed at accept because of the connection limit or draining")
                    .tags(tags).register(registry));
            meters.add(Gauge.builder("isthmus.connections.open", limiter, ConnectionLimiter::open)
                    .description("Open connections").tags(tags).register(registry));
        }
    }

    /** Registers the gauges of a remote site's tunnels the first time the site is used. */
    private void tunnelGauges(String remoteSite) {
        RouterRuntime r = runtime;
        if (r == null || tunnelGauges.putIfAbsent(remoteSite, Boolean.TRUE) != null) {
            return;
        }
        TunnelClient tunnels = r.tunnels;
        meters.add(Gauge.builder("isthmus.tunnels.active", tunnels, t -> t.openBySite().getOrDefault(remoteSite, 0))
                .description("Open tunnel connections to a remote site")
                .tags("site", site, "remote_site", remoteSite).register(registry));
        meters.add(Gauge.builder("isthmus.tunnels.state", tunnels, t -> t.stateCode(remoteSite))
                .description("Tunnel state of a remote site: 0 closed circuit (healthy), 1 open circuit "
                        + "(failing fast), 2 half-open (probing)")
                .tags("site", site, "remote_site", remoteSite).register(registry));
    }

    /*
     * The meters of requests and TCP connections, by their tags: each is registered once, when its
     * tags are first seen, and found again with one map lookup. Building and registering a meter per
     * request (tags sorted, the registry searched, the meter list scanned) cost more than the rest of
     * the request's accounting together.
     */
    private record RequestTags(String listener, String loadBalancer, String statusClass, String decision) {}

    private record ListenerTags(String listener, String loadBalancer) {}

    private record ReasonTags(String name, String listener, String reason) {}

    private record TcpTags(String name, String loadBalancer, String decision) {}

    private final Map<RequestTags, Timer> requestTimers = new ConcurrentHashMap<>();
    private final Map<ListenerTags, Timer> upstreamTimers = new ConcurrentHashMap<>();
    private final Map<ReasonTags, Counter> reasonCounters = new ConcurrentHashMap<>();
    private final Map<TcpTags, Counter> tcpCounters = new ConcurrentHashMap<>();

    @Override
    public void requestEnded(AccessRecord record) {
        String lb = record.loadBalancer == null ? "none" : record.loadBalancer;
        requestTimers.computeIfAbsent(new RequestTags(record.listener, lb, record.statusClass(), record.decision),
                tags -> remember(Timer.builder("isthmus.requests")
                        .description("Requests by load balancer, status class and decision")
                        .tags("site", site, "listener", tags.listener(), "load_balancer", tags.loadBalancer(),
                                "status_class", tags.statusClass(), "decision", tags.decision())
                        .publishPercentileHistogram()
                        .register(registry)))
                .record(record.totalNanos(), TimeUnit.NANOSECONDS);
        if (record.upstreamStartNanos != 0) {
            upstreamTimers.computeIfAbsent(new ListenerTags(record.listener, lb),
                    tags -> remember(Timer.builder("isthmus.upstream.duration")
                            .description("Time from sending a request upstream to the end of its response")
                            .tags("site", site, "listener", tags.listener(), "load_balancer", tags.loadBalancer())
                            .publishPercentileHistogram()
                            .register(registry)))
                    .record(record.upstreamNanos(), TimeUnit.NANOSECONDS);
        }
        if (!AccessRecord.ROUTED.equals(record.decision)) {
            String name = AccessRecord.DENIED.equals(record.decision) ? "isthmus.requests.denied" : "isthmus.requests.failed";
            reasonCounters.computeIfAbsent(new ReasonTags(name, record.listener,
                            record.reason == null ? "unknown" : record.reason),
                    tags -> remember(Counter.builder(tags.name())
                            .description("Requests not routed, by reason")
                            .tags("site", site, "listener", tags.listener(), "reason", tags.reason())
                            .register(registry)))
                    .increment();
        }
        if (record.poolSite != null && !record.poolSite.equals(site) && record.listener.startsWith("ingress")) {
            tunnelGauges(record.poolSite);
        }
    }

    @Override
    public void tcpConnectionEnded(AccessRecord record) {
        String lb = record.loadBalancer == null ? "none" : record.loadBalancer;
        tcpCounter("isthmus.tcp.connections", "Connections of TCP load balancers by decision: routed, denied or failed",
                lb, record.decision).increment();
        tcpCounter("isthmus.tcp.bytes.received", "Bytes TCP load balancers received from their clients", lb, null)
                .increment(record.requestBytes);
        tcpCounter("isthmus.tcp.bytes.sent", "Bytes TCP load balancers sent to their clients", lb, null)
                .increment(record.responseBytes);
        if (record.poolSite != null && !record.poolSite.equals(site)) {
            tunnelGauges(record.poolSite);
        }
    }

    /** A counter of TCP load balancers, tagged with the decision when one is given. */
    private Counter tcpCounter(String name, String description, String loadBalancer, @Nullable String decision) {
        return tcpCounters.computeIfAbsent(new TcpTags(name, loadBalancer, decision == null ? "" : decision), tags -> {
            Counter.Builder builder = Counter.builder(name).description(description)
                    .tags("site", site, "load_balancer", loadBalancer);
            if (decision != null) {
                builder.tags("decision", decision);
            } else {
                builder.baseUnit("bytes");
            }
            return remember(builder.register(registry));
        });
    }

    private <M extends Meter> M remember(M meter) {
        if (!meters.contains(meter)) {
            meters.add(meter);
        }
        return meter;
    }

    @Override
    public void close() {
        for (Meter meter : meters) {
            registry.remove(meter);
        }
        meters.clear();
        requestTimers.clear();
        upstreamTimers.clear();
        reasonCounters.clear();
        tcpCounters.clear();
    }
}
