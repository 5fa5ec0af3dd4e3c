/** Kubernetes integration and the etcd-backed config store. */
@NullMarked
package io.isthmus.mesh.k8s;

import org.jspecify.annotations.NullMarked;
