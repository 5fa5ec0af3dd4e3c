/**
 * The Isthmus data plane on Netty: {@link io.isthmus.mesh.netty.MeshRouter} accepts application
 * traffic on its ingress port, routes it by Host to load balancers, and carries it to other sites
 * through mutually-authenticated HTTP/2 tunnels over TLS 1.3.
 */
@NullMarked
package io.isthmus.mesh.netty;

import org.jspecify.annotations.NullMarked;
