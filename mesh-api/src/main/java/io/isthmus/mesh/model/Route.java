package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Durations;
import io.isthmus.mesh.internal.Validation;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One route of an HTTP {@link LoadBalancer}: when its {@link RouteMatch} matches a request, its
 * {@link RouteAction} handles it. A load balancer tries its routes in order; the first match wins,
 * and a request that no route matches goes to the load balancer's default pool. Immutable.
 *
 * <pre>{@code
 * Route route = Route.builder()
 *         .name("api")
 *         .match(RouteMatch.builder().path(StringMatch.prefix("/api/")).methods("GET").build())
 *         .forward(WeightedPool.of("osaka-pool", 90), WeightedPool.of("kyoto-pool", 10))
 *         .timeout(Duration.ofSeconds(5))
 *         .retry(RetryPolicy.builder().attempts(2).build())
 *         .build();
 * }</pre>
 */
public final class Route {

    /** The longest route timeout accepted. */
    public static final Duration MAX_TIMEOUT = Duration.ofHours(1);

    private final @Nullable String name;
    private final RouteMatch match;
    private final RouteAction action;
    private final @Nullable Duration timeout;
    private final @Nullable RetryPolicy retry;

    private Route(Builder b) {
        this.name = b.name == null ? null : Validation.dnsLabel(b.name, "name");
        this.match = b.match;
        this.action = Validation.required(b.action, "action");
        this.timeout = b.timeout == null ? null : Validation.positive(b.timeout, MAX_TIMEOUT, "timeout");
        if (b.retry != null && !(action instanceof RouteAction.Forward)) {
            throw new ConfigValidationException("retry", "set on a route that does not forward (expected: none)");
        }
        this.retry = b.retry;
    }

    /**
     * Returns a builder of a route that matches every request until {@link Builder#match} is set.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the route's name, for logs and metrics, or {@code null} */
    public @Nullable String name() {
        return name;
    }

    /** @return the conditions of this route */
    public RouteMatch match() {
        return match;
    }

    /** @return what the route does with a matching request */
    public RouteAction action() {
        return action;
    }

    /**
     * Returns the names of the pools this route forwards to.
     *
     * @return the pool names; empty for a redirect or a direct response
     */
    public List<String> poolNames() {
        if (action instanceof RouteAction.Forward) {
            return ((RouteAction.Forward) action).pools().stream().map(WeightedPool::pool).toList();
        }
        return List.of();
    }

    /** @return the time the whole request (all tries) may take, or {@code null} for the router's default */
    public @Nullable Duration timeout() {
        return timeout;
    }

    /** @return the retry policy, or {@code null} for no retries */
    public @Nullable RetryPolicy retry() {
        return retry;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Route)) {
            return false;
        }
        Route that = (Route) o;
        return java.util.Objects.equals(name, that.name) && match.equals(that.match) && action.equals(that.action)
                && java.util.Objects.equals(timeout, that.timeout) && java.util.Objects.equals(retry, that.retry);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(name, match, action, timeout, retry);
    }

    @Override
    public String toString() {
        return "Route{" + (name == null ? "" : name + ", ") + match + ", " + action
                + (timeout == null ? "" : ", timeout=" + Durations.format(timeout)) + (retry == null ? "" : ", " + retry)
                + '}';
    }

    /** Builds a {@link Route}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {

        private @Nullable String name;
        private RouteMatch match = RouteMatch.any();
        private @Nullable RouteAction action;
        private @Nullable Duration timeout;
        private @Nullable RetryPolicy retry;

        private Builder() {}

        /**
         * Names the route.
         *
         * @param name a lowercase DNS label
         * @return this builder
         */
        public Builder name(String name) {
            this.name = requireNonNull(name, "name");
            return this;
        }

        /**
         * Sets the conditions (default: every request).
         *
         * @param match the match
         * @return this builder
         */
        public Builder match(RouteMatch match) {
            this.match = requireNonNull(match, "match");
            return this;
        }

        /**
         * Sets the action.
         *
         * @param action the action
         * @return this builder
         */
        public Builder action(RouteAction action) {
            this.action = requireNonNull(action, "action");
            return this;
        }

        /**
         * Forwards to weighted pools.
         *
         * @param pools the pools
         * @return this builder
         */
        public Builder forward(WeightedPool... pools) {
            return action(RouteAction.forward(pools));
        }

        /**
         * Forwards to one pool.
         *
         * @param pool the pool's name
         * @return this builder
         */
        public Builder forward(String pool) {
            return action(RouteAction.forward(WeightedPool.of(pool)));
        }

        /**
         * Sets the time the whole request, retries included, may take.
         *
         * @param timeout &gt; 0, at most an hour
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Sets the retry policy; only for a route that forwards.
         *
         * @param retry the policy
         * @return this builder
         */
        public Builder retry(RetryPolicy retry) {
            this.retry = requireNonNull(retry, "retry");
            return this;
        }

        /**
         * Validates the values and builds the route.
         *
         * @return the route
         * @throws ConfigValidationException naming the bad field relative to the route
         */
        public Route build() {
            return new Route(this);
        }
    }
}
