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
 * through the tunnel to the pool's site, whose router opens the connection to the origin. Each
 * connection ends with one line in the access log ({@code "protocol":"TCP"}, listener {@code tcp:<port>},
 * load balancer, pool, pool site, origin endpoint when local, bytes each way, duration, decision {@code
 * routed}, {@code denied} by the firewall or {@code failed} with a reason, client) and is counted in
 * {@code isthmus.tcp.connections} (by load balancer and decision) and {@code isthmus.tcp.bytes.received}
 * and {@code isthmus.tcp.bytes.sent}.
 *
 * <p><b>Listener ports of HTTP load balancers.</b>
 * The shared ingress port serves every HTTP load balancer advertised at the site, by Host. An HTTP
 * load balancer whose port is not {@value io.isthmus.mesh.model.LoadBalancer#DEFAULT_HTTP_PORT}
 * (which stands for "the shared ingress port", since the model does not tell a port set to 80 from
 * the default) also gets a listener of its own on that port, on the ingress address, opened and closed
 * as the configuration changes. It has the ingress pipeline (HTTP/1.1 and h2c, the same parsing
 * limits, the firewall at accept with the load balancer as the listener, forwarding headers, service
 * policies) and routes by Host among the load balancers with that port only: any other Host gets 404
 * naming the port. Several load balancers may share a port; the firewall sees the first of them by key
 * as the listener. A port that cannot be opened (taken by another process or by a TCP load balancer,
 * which keeps it) is logged with the load balancer and port, counted in {@code isthmus.listeners.failed}
 * and tried again at the next configuration change; the other listeners are not affected.
 */
@NullMarked
package io.isthmus.mesh.netty;

import org.jspecify.annotations.NullMarked;
