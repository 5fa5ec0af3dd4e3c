/** The etcd-backed {@link io.isthmus.mesh.config.ConfigStore}, with site liveness kept by etcd leases. */
@NullMarked
package io.isthmus.mesh.k8s.etcd;

import org.jspecify.annotations.NullMarked;
