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

    @Override
    public void requestEnded(AccessRecord record) {
        String lb = record.loadBalancer == null ? "none" : record.loadBalancer;
        Timer timer = Timer.builder("isthmus.requests")
                .description("Requests by load balancer, status class and decision")
                .tags("site", site, "listener", record.listener, "load_balancer", lb,
                        "status_class", record.statusClass(), "decision", record.decision)
                .publishPercentileHistogram()
                .register(registry);
        timer.record(record.totalNanos(), TimeUnit.NANOSECONDS);
        remember(timer);
        if (record.upstreamStartNanos != 0) {
            Timer upstream = Timer.builder("isthmus.upstream.duration")
                    .description("Time from sending a request upstream to the end of its response")
                    .tags("site", site, "listener", record.listener, "load_balancer", lb)
                    .publishPercentileHistogram()
                    .register(registry);
            upstream.record(record.upstreamNanos(), TimeUnit.NANOSECONDS);
            remember(upstream);
        }
        if (!AccessRecord.ROUTED.equals(record.decision)) {
            Counter counter = Counter.builder(AccessRecord.DENIED.equals(record.decision)
                            ? "isthmus.requests.denied" : "isthmus.requests.failed")
                    .description("Requests not routed, by reason")
                    .tags("site", site, "listener", record.listener,
                            "reason", record.reason == null ? "unknown" : record.reason)
                    .register(registry);
            counter.increment();
            remember(counter);
        }
        if (record.poolSite != null && !record.poolSite.equals(site) && record.listener.startsWith("ingress")) {
            tunnelGauges(record.poolSite);
        }
    }

    @Override
    public void tcpConnectionEnded(AccessRecord record) {
        String lb = record.loadBalancer == null ? "none" : record.loadBalancer;
        Counter connections = Counter.builder("isthmus.tcp.connections")
                .description("Connections of TCP load balancers by decision: routed, denied or failed")
                .tags("site", site, "load_balancer", lb, "decision", record.decision)
                .register(registry);
        connections.increment();
        remember(connections);
        Counter received = Counter.builder("isthmus.tcp.bytes.received")
                .description("Bytes TCP load balancers received from their clients")
                .baseUnit("bytes")
                .tags("site", site, "load_balancer", lb)
                .register(registry);
        received.increment(record.requestBytes);
        remember(received);
        Counter sent = Counter.builder("isthmus.tcp.bytes.sent")
                .description("Bytes TCP load balancers sent to their clients")
                .baseUnit("bytes")
                .tags("site", site, "load_balancer", lb)
                .register(registry);
        sent.increment(record.responseBytes);
        remember(sent);
        if (record.poolSite != null && !record.poolSite.equals(site)) {
            tunnelGauges(record.poolSite);
        }
    }

    private void remember(Meter meter) {
        if (!meters.contains(meter)) {
            meters.add(meter);
        }
    }

    @Override
    public void close() {
        for (Meter meter : meters) {
            registry.remove(meter);
        }
        meters.clear();
    }
}
