/** Implementation details of the Kubernetes integration; not API. */
@NullMarked
package io.isthmus.mesh.k8s.internal;

import org.jspecify.annotations.NullMarked;
