/** Implementation details of the Isthmus API module; not a public API and may change freely. */
@NullMarked
package io.isthmus.mesh.internal;

import org.jspecify.annotations.NullMarked;
