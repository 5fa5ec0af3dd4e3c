/**
 * The mesh object model: {@link io.isthmus.mesh.model.Site sites}, {@link
 * io.isthmus.mesh.model.LoadBalancer load balancers}, {@link io.isthmus.mesh.model.OriginPool origin
 * pools}, {@link io.isthmus.mesh.model.ServicePolicy service policies} and {@link
 * io.isthmus.mesh.model.NetworkFirewall network firewalls}, immutable values built and validated by
 * builders.
 */
@NullMarked
package io.isthmus.mesh.model;

import org.jspecify.annotations.NullMarked;
