package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.model.Endpoint;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Picks among the healthy endpoints of a priority: weighted round robin and weighted rendezvous hashing. */
final class Balancing {

    private Balancing() {}

    /** The {@code counter}-th pick of a weighted round robin over the endpoints. */
    static Endpoint weightedRoundRobin(int counter, List<Endpoint> endpoints, List<Integer> weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int slot = Math.floorMod(counter, total);
        for (int i = 0; i < endpoints.size(); i++) {
            slot -= weights.get(i);
            if (slot < 0) {
                return endpoints.get(i);
            }
        }
        return endpoints.get(endpoints.size() - 1);
    }

    /**
     * Weighted rendezvous (highest random weight) hashing: the same key picks the same endpoint, and
     * when an endpoint leaves only its keys move.
     */
    static Endpoint rendezvous(String key, List<Endpoint> endpoints, List<Integer> weights) {
        long keyHash = hash(key);
        Endpoint best = endpoints.get(0);
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < endpoints.size(); i++) {
            Endpoint e = endpoints.get(i);
            long h = mix(keyHash ^ hash(e.host() + ':' + e.port()));
            // A uniform value in (0, 1), turned into a score that favours heavier endpoints in proportion.
            double u = ((h >>> 11) + 1.0) / (double) (1L << 53);
            double score = -weights.get(i) / Math.log(u);
            if (score > bestScore) {
                bestScore = score;
                best = e;
            }
        }
        return best;
    }

    /** Returns a cookie's value from the request's {@code Cookie} headers, or {@code null}. */
    static @Nullable String cookie(List<String> cookieHeaders, @Nullable String name) {
        if (name == null) {
            return null;
        }
        for (String header : cookieHeaders) {
            for (String pair : header.split(";")) {
                String p = pair.trim();
                int eq = p.indexOf('=');
                if (eq > 0 && p.regionMatches(0, name, 0, eq) && eq == name.length()) {
                    return p.substring(eq + 1);
                }
            }
        }
        return null;
    }

    private static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
