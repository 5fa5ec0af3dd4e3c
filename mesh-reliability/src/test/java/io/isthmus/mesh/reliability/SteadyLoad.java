package io.isthmus.mesh.reliability;

import io.isthmus.mesh.netty.MeshFixture;
import io.isthmus.mesh.netty.MeshRouter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Steady requests through a router's ingress from a few client threads, each request recorded with
 * its start time, status and body. Bounded in count (per thread) and in time; {@link #stop()} ends it.
 */
final class SteadyLoad implements AutoCloseable {

    /** One request: when it started (nanoTime), status (-1 when it failed without a response), body or error. */
    record Result(long startNanos, long endNanos, int status, String body) {
        boolean ok() {
            return status == 200;
        }

        long latencyNanos() {
            return endNanos - startNanos;
        }
    }

    private final ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final ExecutorService threads;
    private final List<Future<?>> running = new ArrayList<>();

    SteadyLoad(MeshRouter ingress, String url, int threadCount, int maxPerThread, Duration maxDuration) {
        threads = Executors.newFixedThreadPool(threadCount);
        long deadline = System.nanoTime() + maxDuration.toNanos();
        for (int t = 0; t < threadCount; t++) {
            int thread = t;
            running.add(threads.submit(() -> {
                HttpClient client = MeshFixture.clientOf(ingress);
                for (int i = 0; i < maxPerThread && !stopped.get() && System.nanoTime() - deadline < 0; i++) {
                    long start = System.nanoTime();
                    try {
                        HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                                URI.create(url + "/" + thread + "/" + i)).timeout(Duration.ofSeconds(10)).build(),
                                HttpResponse.BodyHandlers.ofString());
                        results.add(new Result(start, System.nanoTime(), response.statusCode(), response.body()));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } catch (Exception e) {
                        results.add(new Result(start, System.nanoTime(), -1, e.toString()));
                    }
                }
            }));
        }
    }

    /** Requests answered so far. */
    int count() {
        return results.size();
    }

    /** Requests so far that got no 200. */
    long failed() {
        return results.stream().filter(r -> !r.ok()).count();
    }

    /** The results so far that match. */
    List<Result> results(Predicate<Result> filter) {
        return results.stream().filter(filter).toList();
    }

    /** Stops the clients, waits for their last requests and returns every result. */
    List<Result> stop() throws Exception {
        stopped.set(true);
        for (Future<?> thread : running) {
            thread.get(30, TimeUnit.SECONDS);
        }
        return List.copyOf(results);
    }

    @Override
    public void close() {
        stopped.set(true);
        threads.shutdownNow();
    }
}
