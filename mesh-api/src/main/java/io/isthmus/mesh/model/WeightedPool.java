package io.isthmus.mesh.model;

import io.isthmus.mesh.internal.Validation;

/**
 * An origin pool, in the load balancer's namespace, with the relative share of requests it receives
 * within a route.
 *
 * <pre>{@code
 * RouteAction.forward(WeightedPool.of("osaka-pool", 90), WeightedPool.of("kyoto-pool", 10));
 * }</pre>
 *
 * @param pool the pool's name, a lowercase DNS label
 * @param weight the relative share, 1-10000
 */
public record WeightedPool(String pool, int weight) {

    /** The weight of a pool whose weight is not given. */
    public static final int DEFAULT_WEIGHT = 1;

    /**
     * Validates the pool name and the weight.
     *
     * @param pool the pool's name
     * @param weight the relative share
     */
    public WeightedPool {
        Validation.dnsLabel(pool, "pool");
        Validation.range(weight, 1, 10_000, "weight");
    }

    /**
     * Returns a pool with a weight.
     *
     * @param pool the pool's name
     * @param weight the relative share, 1-10000
     * @return the weighted pool
     */
    public static WeightedPool of(String pool, int weight) {
        return new WeightedPool(pool, weight);
    }

    /**
     * Returns a pool with weight {@value #DEFAULT_WEIGHT}.
     *
     * @param pool the pool's name
     * @return the weighted pool
     */
    public static WeightedPool of(String pool) {
        return new WeightedPool(pool, DEFAULT_WEIGHT);
    }
}
