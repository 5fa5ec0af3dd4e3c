package io.isthmus.mesh.model;

/** How a pool spreads requests over the origins of its active priority. */
public enum LoadBalancingAlgorithm {
    /** Weighted round robin. */
    ROUND_ROBIN,
    /** The origin with the fewest requests in flight, relative to its weight. */
    LEAST_REQUEST,
    /** A hash of a {@link HashKey} picks the origin, so the same key reaches the same origin. */
    CONSISTENT_HASH
}
