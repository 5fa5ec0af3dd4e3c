/** The daemon's internals: configuration mirroring, the admin HTTP server, last-good files. May change freely. */
@NullMarked
package io.isthmus.mesh.daemon.internal;

import org.jspecify.annotations.NullMarked;
