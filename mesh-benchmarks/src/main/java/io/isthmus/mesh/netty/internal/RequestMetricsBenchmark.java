package io.isthmus.mesh.netty.internal;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The accounting of one ended request in the router's Micrometer meters, with the Prometheus registry
 * the daemon binds them to: a routed request through a tunnel (request timer and upstream timer) and a
 * denied one (request timer and reason counter). It sits in the router's internal package because the
 * accounting is internal; the module is not published.
 *
 * <pre>{@code
 * java -jar mesh-benchmarks/target/benchmarks.jar RequestMetrics -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * }</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RequestMetricsBenchmark {

    private PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private RouterMetrics metrics = MicrometerMetrics.create(registry, "tokyo");
    private AccessRecord routed = new AccessRecord("ingress", "tokyo");
    private AccessRecord denied = new AccessRecord("ingress", "tokyo");

    /** Binds the meters to a fresh registry, and makes the two records with twenty load balancers' worth of meters around them. */
    @Setup
    public void setUp() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = MicrometerMetrics.create(registry, "tokyo");
        for (int i = 0; i < 20; i++) {
            AccessRecord other = record("default/app-" + i, 200, AccessRecord.ROUTED, null);
            metrics.requestEnded(other);
        }
        routed = record("default/osaka-app", 200, AccessRecord.ROUTED, null);
        denied = record("default/osaka-app", 403, AccessRecord.DENIED, "policy_denied");
    }

    private static AccessRecord record(String loadBalancer, int status, String decision, String reason) {
        AccessRecord record = new AccessRecord("ingress", "tokyo");
        record.loadBalancer = loadBalancer;
        record.status = status;
        record.decision = decision;
        record.reason = reason;
        record.upstreamStartNanos = decision.equals(AccessRecord.ROUTED) ? record.startNanos + 1_000 : 0;
        record.upstreamEndNanos = record.startNanos + 90_000;
        record.endNanos = record.startNanos + 100_000;
        return record;
    }

    /** Closes the meters. */
    @TearDown
    public void tearDown() {
        metrics.close();
        registry.close();
    }

    /** A request routed through a tunnel: the request and upstream timers. */
    @Benchmark
    public AccessRecord routedRequest() {
        metrics.requestEnded(routed);
        return routed;
    }

    /** A request a policy denied: the request timer and the reason counter. */
    @Benchmark
    public AccessRecord deniedRequest() {
        metrics.requestEnded(denied);
        return denied;
    }
}
