/**
 * The Isthmus data plane on Netty: {@link io.isthmus.mesh.netty.MeshRouter} accepts application
 * traffic on its ingress port, routes it by Host to load balancers, and carries it to other sites
 * through mutually-authenticated HTTP/2 tunnels over TLS 1.3.
 *
 * <p><b>Routing.</b>
 * Every config revision is compiled into a {@link io.isthmus.mesh.snapshot.MeshSnapshot} (with the
 * service-policy engine of each load balancer and the site's network firewall) and swapped in
 * atomically. A request's Host picks the load balancer (404 naming the host when none is advertised
 * at the site); its routes are tried in order (path exact, prefix or regex, methods, headers, query
 * parameters) and the default pool serves what none matches. A route forwards to weighted pools, or
 * answers itself with a redirect (its status and {@code Location}) or a direct response (its status
 * and body); its timeout bounds the wait for the response head, at the ingress and at the pool's site.
 *
 * <p><b>Where policies are enforced.</b>
 * The ingress router enforces the load balancer's service policies before it forwards, with the
 * application's address as the client IP and its own site as the source; a denied request never
 * crosses a tunnel. The router of the pool's site enforces them again on every request that arrives
 * through a tunnel, with the tunnel peer's authenticated SPIFFE id and site as the source and the
 * client address the ingress router carried in a mesh-internal header (trusted only on an
 * authenticated tunnel; the ingress strips it from application requests). That site is authoritative:
 * its rate limiters count the traffic of every ingress site together. A denial is answered with 403,
 * a rate limit with 429, each with a one-line reason naming the policy and rule, logged at debug,
 * written to the access log with decision {@code denied} and counted in {@code isthmus.requests.denied}.
 * The network firewall decides every connection accepted on the ingress, tunnel and TCP listeners
 * before anything is read; a denied connection is closed at once and counted in
 * {@code isthmus.connections.rejected}.
 *
 * <p><b>Failover and health.</b>
 * A pool's origins are grouped by priority, possibly across sites. A request goes to the first group
 * with a usable place: this site when one of its origins in the group is healthy (active HTTP checks
 * per the pool's health check, run by this router for its own origins, and outlier ejection after
 * consecutive 5xx answers or connect failures), or another site whose tunnel is up and whose circuit
 * is closed and that has not just answered 503 "no healthy origin" for the pool. Traffic returns to
 * the preferred group as soon as it is usable again. Origins of a group are chosen by the pool's
 * algorithm: weighted round robin, least request, or consistent hash of a header, cookie or the
 * client address. Kubernetes-service origins are resolved by the router's
 * {@link io.isthmus.mesh.netty.EndpointResolver}.
 *
 * <p><b>TCP load balancers.</b>
 * The router listens on the port of each TCP load balancer advertised at its site and pipes every
 * connection to an origin of the pool, with back-pressure both ways: directly when the chosen site is
 * its own, otherwise as an HTTP/2 {@code CONNECT} stream ({@code :authority} {@code name.namespace:port})
 * through the tunnel to the pool's site, whose router opens the connection to the origin.
 */
@NullMarked
package io.isthmus.mesh.netty;

import org.jspecify.annotations.NullMarked;
