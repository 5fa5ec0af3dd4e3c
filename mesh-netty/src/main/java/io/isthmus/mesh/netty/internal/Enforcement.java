package io.isthmus.mesh.netty.internal;

import io.isthmus.mesh.policy.PolicyDecision;
import io.isthmus.mesh.policy.RequestFacts;
import io.isthmus.mesh.policy.ServicePolicyEngine;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a load balancer's service policies to one request.
 *
 * <p>Where: the ingress router enforces them before it forwards (so a denied request never crosses a
 * tunnel), and the router of the pool's site enforces them again on every request that arrives
 * through a tunnel, with the tunnel peer's authenticated identity as the source and the client address
 * the ingress router carried in {@link Headers#CLIENT_IP} (trusted only because the tunnel peer proved
 * it is a site of this mesh). The origin site is authoritative: its rate limiters count the traffic of
 * every ingress site together.
 */
final class Enforcement {

    private static final Logger logger = LoggerFactory.getLogger(Enforcement.class);

    private Enforcement() {}

    /**
     * Decides a request; returns normally when it may go on.
     *
     * @throws RouteException 403 when a rule denies it, 429 when its rate limit is exceeded
     */
    static void enforce(ServicePolicyEngine engine, HttpRequest request, String host, @Nullable InetAddress clientIp,
            String sourceSite, String sourceIdentity, String where) {
        if (engine.policies().isEmpty() && engine.missingPolicies().isEmpty()) {
            return;
        }
        RequestFacts.Builder b = RequestFacts.builder()
                .sourceSite(sourceSite)
                .sourceIdentity(sourceIdentity)
                .host(host)
                .method(request.method().name())
                .path(request.uri());
        if (clientIp != null) {
            b.clientIp(clientIp);
        }
        for (Map.Entry<String, String> header : request.headers()) {
            b.header(header.getKey().toLowerCase(Locale.ROOT), header.getValue());
        }
        RequestFacts facts = b.build();
        PolicyDecision decision = engine.decide(facts);
        if (!decision.allowed()) {
            logger.debug("{}: {} {} {} denied: {}", where, request.method(), host, request.uri(), decision.reason());
            throw new RouteException(HttpResponseStatus.FORBIDDEN, "policy_denied", "denied by " + decision.reason());
        }
        if (!decision.tryAcquire(facts)) {
            logger.debug("{}: {} {} {} rate limited: {}", where, request.method(), host, request.uri(),
                    decision.reason());
            throw new RouteException(HttpResponseStatus.TOO_MANY_REQUESTS, "rate_limited",
                    "rate limited by " + decision.reason());
        }
    }

    /** Parses the client address a tunnel peer carried, or {@code null} when absent or not an IP literal. */
    static @Nullable InetAddress parseIp(@Nullable String value) {
        if (value == null || value.isEmpty() || value.length() > 45) {
            return null;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':')) {
                return null;
            }
        }
        try {
            // Only IP literals reach this point, so no name is looked up.
            return InetAddress.getByName(value);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }
}
