/** The reference Isthmus router daemon. */
@NullMarked
package io.isthmus.mesh.daemon;

import org.jspecify.annotations.NullMarked;
