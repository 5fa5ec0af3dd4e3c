package io.isthmus.mesh.snapshot;

import io.isthmus.mesh.model.Origin;
import io.isthmus.mesh.model.OriginPool;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * An origin pool ready for routing: its origins grouped by priority, the preferred group first, each
 * with a precomputed weighted choice. Immutable and thread-safe.
 *
 * <p>The router sends a request to the first group with a healthy origin (active-active within it by
 * weight) and moves to the next group when none is (failover), e.g. from an Osaka priority 0 to a
 * Kyoto priority 1:
 *
 * <pre>{@code
 * for (CompiledPool.PriorityGroup group : pool.priorities()) {
 *     if (group.origins().stream().anyMatch(health::isHealthy)) {
 *         Origin origin = group.choice().pick(ThreadLocalRandom.current());
 *         ...
 *     }
 * }
 * }</pre>
 */
public final class CompiledPool {

    /**
     * The origins of one priority.
     *
     * @param priority the priority, lower is preferred
     * @param origins the origins, in declaration order
     * @param sites the sites of those origins, in order of first appearance
     * @param choice the weighted choice among the origins
     */
    public record PriorityGroup(int priority, List<Origin> origins, List<String> sites, WeightedChoice<Origin> choice) {

        /**
         * Copies the lists.
         *
         * @param priority the priority
         * @param origins the origins
         * @param sites the sites
         * @param choice the choice
         */
        public PriorityGroup {
            origins = List.copyOf(origins);
            sites = List.copyOf(sites);
        }
    }

    private final OriginPool pool;
    private final List<PriorityGroup> priorities;

    CompiledPool(OriginPool pool) {
        this.pool = pool;
        List<PriorityGroup> groups = new ArrayList<>();
        for (List<Origin> origins : pool.originsByPriority()) {
            List<String> sites = origins.stream().map(o -> o.siteIn(pool)).distinct().toList();
            groups.add(new PriorityGroup(origins.get(0).priority(), origins, sites,
                    WeightedChoice.of(origins, Origin::weight)));
        }
        this.priorities = List.copyOf(groups);
    }

    /** @return the pool as configured */
    public OriginPool pool() {
        return pool;
    }

    /** @return the priority groups, the preferred first; never empty */
    public List<PriorityGroup> priorities() {
        return priorities;
    }

    /**
     * Picks an origin of the preferred priority by weight, for a router that does not track health.
     *
     * @param random the source of randomness
     * @return the origin
     */
    public Origin pickOrigin(RandomGenerator random) {
        return priorities.get(0).choice().pick(random);
    }

    @Override
    public String toString() {
        return "CompiledPool{" + pool.key() + ", priorities=" + priorities.size() + '}';
    }
}
