/** Immutable per-site routing snapshots compiled from config objects, and their lookup structures. */
@NullMarked
package io.isthmus.mesh.snapshot;

import org.jspecify.annotations.NullMarked;
