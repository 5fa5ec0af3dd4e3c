package io.isthmus.mesh.model;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link Route} does with a request it matches: forward it to a weighted set of origin pools,
 * redirect it, or answer it directly.
 *
 * <pre>{@code
 * RouteAction.forward(WeightedPool.of("osaka-pool", 90), WeightedPool.of("kyoto-pool", 10));
 * RouteAction.redirect(RouteAction.Redirect.toScheme("https"));
 * RouteAction.directResponse(503, "down for maintenance");
 * }</pre>
 */
public sealed interface RouteAction permits RouteAction.Forward, RouteAction.Redirect, RouteAction.DirectResponse {

    /**
     * Forwards to pools, each chosen in proportion to its weight.
     *
     * @param pools the pools, at least one, each named once
     * @return the action
     */
    static Forward forward(WeightedPool... pools) {
        return new Forward(List.of(pools));
    }

    /**
     * Forwards to pools, each chosen in proportion to its weight.
     *
     * @param pools the pools, at least one, each named once
     * @return the action
     */
    static Forward forward(List<WeightedPool> pools) {
        return new Forward(pools);
    }

    /**
     * Returns a redirect.
     *
     * @param redirect the redirect
     * @return the same redirect, for symmetry with the other factories
     */
    static Redirect redirect(Redirect redirect) {
        return redirect;
    }

    /**
     * Answers with a status and a body.
     *
     * @param status an HTTP status, 200-599
     * @param body the body, UTF-8 text, possibly empty
     * @return the action
     */
    static DirectResponse directResponse(int status, String body) {
        return new DirectResponse(status, body);
    }

    /**
     * Forwards to one of several pools in proportion to their weights.
     *
     * @param pools the pools, at least one, each named once
     */
    record Forward(List<WeightedPool> pools) implements RouteAction {

        /**
         * Validates and copies the pools.
         *
         * @param pools the pools
         */
        public Forward {
            if (pools.isEmpty()) {
                throw new ConfigValidationException("pools", "[] (expected: at least one pool)");
            }
            pools = List.copyOf(pools);
            for (int i = 0; i < pools.size(); i++) {
                for (int j = 0; j < i; j++) {
                    if (pools.get(j).pool().equals(pools.get(i).pool())) {
                        throw new ConfigValidationException("pools[" + i + "].pool",
                                Validation.quote(pools.get(i).pool()) + " (expected: each pool once)");
                    }
                }
            }
        }
    }

    /**
     * Redirects the client: each part that is set replaces that part of the request's URL.
     *
     * @param scheme the new scheme ({@code http} or {@code https}), or {@code null} to keep it
     * @param host the new host, or {@code null} to keep it
     * @param path the new path, starting with {@code /}, or {@code null} to keep it
     * @param status the status: 301, 302, 303, 307 or 308
     */
    record Redirect(@Nullable String scheme, @Nullable String host, @Nullable String path, int status)
            implements RouteAction {

        private static final Pattern SCHEME = Pattern.compile("https?");

        /**
         * Validates the parts.
         *
         * @param scheme the new scheme
         * @param host the new host
         * @param path the new path
         * @param status the status
         */
        public Redirect {
            if (scheme == null && host == null && path == null) {
                throw new ConfigValidationException("", "nothing to change (expected: at least one of scheme, host, path)");
            }
            if (scheme != null && !SCHEME.matcher(scheme).matches()) {
                throw new ConfigValidationException("scheme", Validation.quote(scheme) + " (expected: http or https)");
            }
            if (host != null) {
                Validation.host(host, "host");
            }
            if (path != null && !path.startsWith("/")) {
                throw new ConfigValidationException("path", Validation.quote(path)
                        + " (expected: a path starting with \"/\")");
            }
            if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
                throw new ConfigValidationException("status", status + " (expected: 301, 302, 303, 307 or 308)");
            }
        }

        /**
         * Redirects to another scheme with a 301.
         *
         * @param scheme {@code http} or {@code https}
         * @return the redirect
         */
        public static Redirect toScheme(String scheme) {
            return new Redirect(scheme, null, null, 301);
        }
    }

    /**
     * Answers the request without an origin.
     *
     * @param status the HTTP status, 200-599
     * @param body the body, UTF-8 text, possibly empty
     */
    record DirectResponse(int status, String body) implements RouteAction {

        /**
         * Validates the status and the body's size.
         *
         * @param status the status
         * @param body the body
         */
        public DirectResponse {
            Validation.range(status, 200, 599, "status");
            Validation.required(body, "body");
            if (body.length() > 65_536) {
                throw new ConfigValidationException("body", body.length() + " characters (expected: at most 65536)");
            }
        }
    }
}
