package io.isthmus.mesh.benchmarks;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Route;
import io.isthmus.mesh.model.RouteMatch;
import io.isthmus.mesh.model.Site;
import io.isthmus.mesh.model.StringMatch;
import io.isthmus.mesh.snapshot.CompiledRoute;
import io.isthmus.mesh.snapshot.HeaderLookup;
import io.isthmus.mesh.snapshot.MeshSnapshot;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Route lookup in a snapshot of 10,000 domains (5,000 load balancers with an exact and a wildcard
 * domain each, four routes each): by exact domain, by Kubernetes short name, by wildcard, for an
 * unknown host, and the compile time of the whole snapshot.
 *
 * <pre>{@code
 * java -jar mesh-benchmarks/target/benchmarks.jar RouteLookup -f 1 -wi 3 -i 5 -w 1s -r 1s -prof gc
 * }</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouteLookupBenchmark {

    /** Load balancers in the snapshot; each has two domains. */
    static final int LOAD_BALANCERS = 5_000;

    private static final HeaderLookup HEADERS = name -> name.equals("x-canary") ? "yes" : null;

    private List<MeshObject> objects = List.of();
    private MeshSnapshot snapshot = MeshSnapshot.empty("tokyo");

    /** Builds the objects and compiles them once, as a router does per config revision. */
    @Setup
    public void setUp() {
        List<MeshObject> all = new ArrayList<>();
        all.add(Site.of("tokyo"));
        all.add(Site.of("osaka"));
        for (int i = 0; i < LOAD_BALANCERS; i++) {
            String app = "app-" + i;
            all.add(OriginPool.builder(app + "-pool").site("osaka").endpoint(Endpoint.parse("10.0.0.7:8080")).build());
            all.add(OriginPool.builder(app + "-canary").site("osaka").endpoint(Endpoint.parse("10.0.0.8:8080")).build());
            all.add(LoadBalancer.builder(app).domain(app).domain("*." + app + ".shop.example").advertiseAt("tokyo")
                    .route(route("canary", RouteMatch.builder().header("x-canary", StringMatch.exact("yes")).build(),
                            app + "-canary"))
                    .route(route("orders", RouteMatch.builder().path(StringMatch.prefix("/orders/")).methods("GET").build(),
                            app + "-pool"))
                    .route(route("items", RouteMatch.builder().path(StringMatch.regex("/items/[0-9]+")).build(),
                            app + "-pool"))
                    .route(route("health", RouteMatch.builder().path(StringMatch.exact("/healthz")).build(),
                            app + "-pool"))
                    .defaultPool(app + "-pool").build());
        }
        objects = List.copyOf(all);
        snapshot = MeshSnapshot.compile("tokyo", 1, objects);
        check(snapshot.route("app-4999", "GET", "/orders/42", HeaderLookup.NONE), "orders");
        check(snapshot.route("app-2500.default.svc.cluster.local", "GET", "/items/7", HeaderLookup.NONE), "items");
        check(snapshot.route("www.app-17.shop.example", "GET", "/", HEADERS), "canary");
        if (snapshot.route("nowhere.example", "GET", "/", HeaderLookup.NONE) != null) {
            throw new IllegalStateException("an unknown host found a route");
        }
    }

    private static Route route(String name, RouteMatch match, String pool) {
        return Route.builder().name(name).match(match).forward(pool).build();
    }

    private static void check(CompiledRoute route, String expectedRoute) {
        if (route == null || route.route() == null || !route.route().name().equals(expectedRoute)) {
            throw new IllegalStateException("expected route " + expectedRoute + ", got " + route);
        }
    }

    /** Exact domain, then a prefix route after one header route. */
    @Benchmark
    public CompiledRoute exactDomain() {
        return snapshot.route("app-4999", "GET", "/orders/42", HeaderLookup.NONE);
    }

    /** Kubernetes service name, then a regex route. */
    @Benchmark
    public CompiledRoute kubernetesName() {
        return snapshot.route("app-2500.default.svc.cluster.local", "GET", "/items/7", HeaderLookup.NONE);
    }

    /** Wildcard domain with a port, then the first (header) route. */
    @Benchmark
    public CompiledRoute wildcardDomain() {
        return snapshot.route("www.app-17.shop.example:8080", "GET", "/", HEADERS);
    }

    /** A host no load balancer serves. */
    @Benchmark
    public CompiledRoute unknownHost() {
        return snapshot.route("nowhere.example", "GET", "/", HeaderLookup.NONE);
    }

    /** Compiles all 15,002 objects into a snapshot (once per config revision in a router). */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 5)
    public MeshSnapshot compileSnapshot() {
        return MeshSnapshot.compile("tokyo", 2, objects);
    }
}
