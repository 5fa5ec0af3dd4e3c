/**
 * The mesh object model: {@link io.isthmus.mesh.model.Site sites}, {@link
 * io.isthmus.mesh.model.LoadBalancer load balancers} and {@link io.isthmus.mesh.model.OriginPool origin
 * pools}, immutable values built and validated by builders.
 */
@NullMarked
package io.isthmus.mesh.model;

import org.jspecify.annotations.NullMarked;
